"""``pool.sweep(..., score="train")`` and :mod:`st_hardneg.sweep_training`: anchors of the user's pairs held out as a
dev set over the pool's corpus, a fresh copy of the student trained on each configuration's set without them, and
the held-out NDCG@10 / MRR@10 in the table.

The hand-worked evaluation: on a six-document corpus, ``q0``'s text is also document ``d0`` (cosine 1, rank 1) and
its other relevant document sits at the rank the model's cosine gives it (computed here with numpy); ``q1``'s one
relevant document likewise. NDCG@10 = DCG / IDCG with DCG = sum of 1 / log2(rank + 1) over the relevant documents
in the top 10 and IDCG the same with the relevant documents first; MRR@10 = 1 / rank of the first relevant one.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.select.sweep import COLUMNS, TRAINING_COLUMNS
from st_hardneg.sweep_training import (
    HeldOut,
    TrainingSweepSettings,
    evaluate_retrieval,
    heldout_set,
    holdout_split,
    remove_heldout,
)
from st_hardneg.sweep_training import scoring as scoring_module


@pytest.fixture(scope="module")
def default_pool():
    pairs, corpus = load_default()
    return CandidatePool.build(pairs, "bm25", corpus=corpus, depth=12, seed=3, show_progress=False)


# ------------------------------------------------------------------------------------------------ the held-out split
def test_the_split_is_by_anchor_and_depends_only_on_the_texts_and_the_seed():
    pairs, _ = load_default()
    anchors = pairs["anchor"]
    distinct = list(dict.fromkeys(anchors))
    train, held = holdout_split(anchors, 0.2, seed=0)
    assert len(distinct) == 56 and len(held) == round(0.2 * 56) == 11
    assert sorted(train + held) == sorted(distinct) and not set(train) & set(held)
    assert set(holdout_split(list(reversed(anchors)), 0.2, seed=0)[1]) == set(held)  # not the row order
    assert set(holdout_split(anchors, 0.2, seed=1)[1]) != set(held)
    assert len(holdout_split(anchors, 5, seed=0)[1]) == 5  # a whole number of anchors
    with pytest.raises(ValueError, match="at least one must stay to train on"):
        holdout_split(anchors, 56)
    with pytest.raises(ValueError, match="holdout must be a share of the anchors in"):
        holdout_split(anchors, 1.0)
    with pytest.raises(TypeError, match="holdout must be a share"):
        holdout_split(anchors, True)


def test_held_out_anchors_keep_all_their_positives_over_the_whole_corpus(default_pool):
    pairs, corpus = load_default()
    positives = {}
    for anchor, positive in zip(pairs["anchor"], pairs["positive"], strict=True):
        positives.setdefault(anchor, set()).add(positive)
    assert max(map(len, positives.values())) > 1  # some anchors have several positives
    indptr, indices = default_pool.positives_indptr, default_pool.positives_indices
    heldout = heldout_set(
        default_pool.query_texts,
        [indices[indptr[i] : indptr[i + 1]] for i in range(len(default_pool.queries))],
        default_pool.corpus.to_pylist(),
        0.2,
        seed=0,
    )
    assert set(heldout.queries.values()) == heldout.anchors == set(holdout_split(pairs["anchor"], 0.2, 0)[1])
    assert len(heldout.corpus) == len(default_pool.corpus) >= len(set(corpus))
    for qid, anchor in heldout.queries.items():
        assert {heldout.corpus[d] for d in heldout.relevant_docs[qid]} == positives[anchor]
    assert heldout.train_anchors == 56 - 11


def test_rows_of_held_out_anchors_are_removed_and_counted():
    from datasets import Dataset

    data = Dataset.from_dict({"anchor": ["a", "b", "a", "c"], "positive": ["1", "2", "3", "4"]})
    kept, removed = remove_heldout(data, {"a"})
    assert removed == 2 and kept["anchor"] == ["b", "c"] and kept["positive"] == ["2", "4"]
    with pytest.raises(ValueError, match="no 'query' column"):
        remove_heldout(data, {"a"}, anchor_column="query")


def test_one_training_seed_for_several_configurations_is_warned_about_before_any_model_loads(caplog):
    from datasets import Dataset

    heldout = heldout_set(["q1", "q2", "q3"], [[0], [1], [2]], ["d1", "d2", "d3"], 1, seed=0)
    sets = {
        name: Dataset.from_dict({"anchor": ["q1", "q2", "q3"], "positive": ["d1", "d2", "d3"], "negative": neg})
        for name, neg in (("a", ["d2", "d3", "d1"]), ("b", ["d3", "d1", "d2"]))
    }
    with caplog.at_level("WARNING", logger=scoring_module.__name__):
        with pytest.raises(ValueError, match="needs a student"):  # no model is loaded: the warning comes first
            scoring_module.score_by_training(sets, None, heldout, seeds=(0,))
    assert "2 configurations with one training seed" in caplog.text and "seeds=(0, 1, 2)" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger=scoring_module.__name__):
        with pytest.raises(ValueError, match="needs a student"):
            scoring_module.score_by_training(sets, None, heldout, seeds=(0, 1))  # two seeds: no warning
        with pytest.raises(ValueError, match="needs a student"):
            scoring_module.score_by_training({"a": sets["a"]}, None, heldout, seeds=(0,))  # one set: nothing to rank
    assert "one training seed" not in caplog.text


# ------------------------------------------------------------------------------- arguments, before any model loads
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"score": "train"}, ValueError, "score='train' needs student="),
        ({"student": "/no/model"}, ValueError, "student: options of score='train'"),
        ({"rank_by": "ndcg@10"}, ValueError, "rank_by='ndcg@10' needs score='train'"),
        ({"score": "trained"}, ValueError, "score must be 'teacher', 'train' or a model"),
        ({"score": "train", "student": "/no/model", "steps": 0}, ValueError, "steps must be a whole number >= 1"),
        ({"score": "train", "student": "/no/model", "seeds": (0, 0)}, ValueError, "seeds repeat a seed"),
        ({"score": "train", "student": "/no/model", "holdout": 56}, ValueError, "at least one must stay"),
        ({"score": "train", "student": "/no/model", "output_format": "labeled-pair"}, ValueError, "n-tuple or tri"),
        ({"score": "train", "student": "/no/model", "stpes": 3}, TypeError, "did you mean 'steps'"),
    ],
)
def test_a_training_sweep_checks_its_arguments_before_any_model_loads(default_pool, kwargs, error, message):
    # "/no/model" would fail to load with another error: these fail first
    with pytest.raises(error, match=message):
        default_pool.sweep(["naive-topk"], [1], show_progress=False, **kwargs)


def test_settings_from_the_command_line_strings():
    from st_hardneg.sweep_training.settings import parse_seeds

    assert parse_seeds("0,1,2") == (0, 1, 2) and TrainingSweepSettings(seeds=3).seeds == (3,)
    assert TrainingSweepSettings(seeds=[1, 2]).seeds == (1, 2)
    with pytest.raises(ValueError, match="seeds must be whole numbers"):
        parse_seeds("0,x")


# ------------------------------------------------------------------------------------ with the real MiniLM student
def _ndcg_mrr_at_10(ranks: list[int]) -> tuple[float, float]:
    """NDCG@10 and MRR@10 of one query whose relevant documents sit at ``ranks`` (1-based)."""
    dcg = sum(1 / math.log2(r + 1) for r in ranks if r <= 10)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(ranks), 10)))
    first = min(ranks)
    return dcg / idcg, (1 / first if first <= 10 else 0.0)


@pytest.mark.slow
def test_evaluate_retrieval_matches_a_hand_computation(minilm):
    docs = [
        "A cat sat on the mat.",
        "The stock market fell sharply on Monday.",
        "Cats like to sleep on soft mats.",
        "Photosynthesis converts light into chemical energy.",
        "A dog barked at the mail carrier.",
        "Rain is expected over the weekend.",
    ]
    queries = {"q0": docs[0], "q1": "Which process do plants use to make energy from sunlight?"}
    relevant = {"q0": {"0", "2"}, "q1": {"3"}}
    heldout = HeldOut(queries, {str(i): d for i, d in enumerate(docs)}, relevant, frozenset(queries.values()), 0, 0, 0)
    q = minilm.encode(list(queries.values()), normalize_embeddings=True)
    d = minilm.encode(docs, normalize_embeddings=True)
    expected_ndcg, expected_mrr = [], []
    for qi, qid in enumerate(queries):
        order = list(np.argsort(-(q[qi] @ d.T), kind="stable"))
        ranks = [order.index(int(doc)) + 1 for doc in relevant[qid]]
        if qid == "q0":
            assert order[0] == 0  # the query's own text comes first (cosine 1)
        ndcg, mrr = _ndcg_mrr_at_10(ranks)
        expected_ndcg.append(ndcg)
        expected_mrr.append(mrr)
    result = evaluate_retrieval(minilm, heldout)
    assert result["ndcg@10"] == pytest.approx(np.mean(expected_ndcg), abs=1e-6)
    assert result["mrr@10"] == pytest.approx(np.mean(expected_mrr), abs=1e-6)


def _parameter_sum(model) -> float:
    return float(sum(p.detach().double().sum() for p in model.parameters()))


TINY = {"steps": 2, "train_batch_size": 8, "max_seq_length": 32, "learning_rate": 5e-4, "holdout": 0.2}


@pytest.mark.slow
def test_a_training_sweep_on_the_embedded_set(default_pool, minilm, tmp_path, monkeypatch):
    trained = []  # (dataset, model) of every run trained
    original = scoring_module.train_student

    def recording(student, dataset, **kwargs):
        model = original(student, dataset, **kwargs)
        trained.append((dataset, model))
        return model

    monkeypatch.setattr(scoring_module, "train_student", recording)
    before = _parameter_sum(minilm)
    cache = tmp_path / "runs"

    def sweep():
        return default_pool.sweep(
            ["naive-topk"], [1, 3], score="train", student=minilm, cache_folder=cache, show_progress=False,
            output_format="n-tuple", **TINY,
        )  # fmt: skip

    result = sweep()
    assert _parameter_sum(minilm) == before  # each run trains a copy
    # the table: the ECI columns and the training ones, ranked by held-out NDCG@10 across the two counts
    assert result.columns == COLUMNS + TRAINING_COLUMNS and list(result.to_pandas().columns) == list(result.columns)
    assert result.rank_by == "ndcg@10" and not result.ranked_within_counts
    scores = [row["ndcg@10"] for row in result.rows]
    assert all(0 <= s <= 1 for s in scores) and scores == sorted(scores, reverse=True)
    best = max(range(len(result.rows)), key=lambda i: result.rows[i]["ndcg@10"])
    assert result.best() == result.settings[best]  # no num_negatives= needed: NDCG@10 compares counts
    assert "ndcg@10" in result.to_markdown().splitlines()[0]
    # the held-out anchors (chosen by the selection seed) were never trained on, and their rows are counted
    held = set(holdout_split(load_default()[0]["anchor"], 0.2, seed=result.settings[0].seed)[1])
    assert len(trained) == 2 and len(held) == 11
    for dataset, _ in trained:
        assert not held & set(dataset["anchor"]) and len(dataset) > 0
    for row, settings in zip(result.rows, result.settings, strict=True):
        full = default_pool.select(settings, show_progress=False)
        in_held = sum(a in held for a in full["anchor"])
        assert row["rows_held_out"] == in_held > 0
        assert any(len(ds) == row["rows_kept"] - in_held and ds.column_names == full.column_names for ds, _ in trained)
    # each row's figure is its trained model's held-out retrieval over the pool's whole corpus
    indptr, indices = default_pool.positives_indptr, default_pool.positives_indices
    heldout = heldout_set(
        default_pool.query_texts,
        [indices[indptr[i] : indptr[i + 1]] for i in range(len(default_pool.queries))],
        default_pool.corpus.to_pylist(),
        0.2,
        seed=result.settings[0].seed,
    )
    by_columns = {len(ds.column_names): model for ds, model in trained}  # 3 + num_negatives columns
    for row in result.rows:
        measured = evaluate_retrieval(by_columns[2 + row["num_negatives"]], heldout)
        assert row["ndcg@10"] == pytest.approx(measured["ndcg@10"], abs=1e-6)
        assert row["mrr@10"] == pytest.approx(measured["mrr@10"], abs=1e-6)
    training = result.context["training"]
    assert training["runs_trained"] == 2 and training["runs_cached"] == 0 and training["heldout"]["anchors"] == 11
    assert "2 configurations x 1 seed = 2 runs, 0 cached" in training["estimate"]
    files = sorted(cache.glob("*.json"))
    assert len(files) == 2 and {json.loads(f.read_text())["ndcg@10"] for f in files} == set(scores)
    # a rerun with the same cache reads every run back and trains nothing
    again = sweep()
    assert len(trained) == 2 and again.context["training"]["runs_cached"] == 2
    assert [r["ndcg@10"] for r in again.rows] == scores and again.settings == result.settings
    # another step count is another run
    changed = default_pool.sweep(
        ["naive-topk"], [1], score="train", student=minilm, cache_folder=cache, show_progress=False,
        **{**TINY, "steps": 1},
    )  # fmt: skip
    assert len(trained) == 3 and changed.context["training"]["runs_trained"] == 1


@pytest.mark.slow
def test_the_docs_training_sweep_runs_as_written(tmp_path, monkeypatch):
    """The ``score="train"`` block of docs/short_rows_and_sweep.md, run as written (in a temporary folder)."""
    from tests.conftest import REPO_ROOT, minilm_path

    minilm_path()  # skips without the packaged model
    text = (REPO_ROOT / "docs" / "short_rows_and_sweep.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if 'score="train"' in b]
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    exec(compile(blocks[0], "docs/short_rows_and_sweep.md", "exec"), namespace)
    sweep = namespace["sweep"]
    assert sweep.rank_by == "ndcg@10" and len(sweep) == 2 and len(namespace["best"]) > 0
    assert len(list((tmp_path / "sweep_runs").glob("*.json"))) == 2
