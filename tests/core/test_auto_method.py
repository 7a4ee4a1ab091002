"""``method="auto"``, the default: Naive Top-K (sentence-transformers' method) when the anchors have fewer than 2
distinct positives on average, else TopK-PercPos 95% (benchmarks/REPORT.md section 8), chosen once per dataset and
recorded, on every entry point."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import Dataset

from st_hardneg import Auto, CandidatePool, HardNegativeMiner, NaiveTopK, TopKPercPos, get_method, mine_hard_negatives
from st_hardneg.cli import main
from st_hardneg.data import load_default
from st_hardneg.filters.methods import positives_per_anchor, resolve_auto


def distinct_positives_per_anchor(pairs) -> float:
    """Worked out from the rows themselves, not from a pool."""
    positives: dict[str, set[str]] = {}
    for anchor, positive in zip(pairs["anchor"], pairs["positive"]):
        positives.setdefault(anchor, set()).add(positive)
    return sum(len(p) for p in positives.values()) / len(positives)


@pytest.fixture(scope="module")
def single():
    """The embedded set: about one positive per anchor."""
    return load_default()


@pytest.fixture(scope="module")
def several():
    """The embedded set's first 20 anchors, each with its positive and two more passages of the corpus: 3 each."""
    pairs, corpus = load_default()
    anchors = list(dict.fromkeys(pairs["anchor"]))[:20]
    first_positive = {}
    for anchor, positive in zip(pairs["anchor"], pairs["positive"]):
        first_positive.setdefault(anchor, positive)
    rows = {"anchor": [], "positive": []}
    for i, anchor in enumerate(anchors):
        extra = [corpus[(7 * i + 3) % len(corpus)], corpus[(7 * i + 5) % len(corpus)]]
        for positive in [first_positive[anchor], *extra]:
            rows["anchor"].append(anchor)
            rows["positive"].append(positive)
    return Dataset.from_dict(rows), corpus


def test_auto_chooses_by_positives_per_anchor():
    assert Auto().choose(1.0) == NaiveTopK() and Auto().choose(1.99) == NaiveTopK()
    assert Auto().choose(2.0) == TopKPercPos(0.95) and Auto().choose(42.5) == TopKPercPos(0.95)
    assert Auto(3).choose(2.5) == NaiveTopK()
    assert get_method("auto") == Auto() and get_method("auto:3") == Auto(3.0) and Auto().spec == "auto:2"
    assert get_method(Auto(3).to_dict()) == Auto(3)
    # anchors with 1, 2 and 1 positives: 4 / 3
    assert positives_per_anchor(np.array([0, 1, 3, 4])) == pytest.approx(4 / 3)
    assert resolve_auto(Auto(), np.array([0, 2, 4])) == (TopKPercPos(0.95), 2.0)
    assert resolve_auto(NaiveTopK(), np.array([0, 2, 4])) == (NaiveTopK(), None)
    with pytest.raises(ValueError, match="min_positives >= 1"):
        Auto(0.5)
    with pytest.raises(RuntimeError, match="resolve_auto"):
        Auto().keep(np.zeros((1, 2)), np.zeros(1), np.ones((1, 2), dtype=bool))


def test_one_positive_per_anchor_gives_naive_topk_and_says_so(single):
    pairs, corpus = single
    per_anchor = distinct_positives_per_anchor(pairs)
    assert per_anchor < 2
    result = mine_hard_negatives(pairs, "bm25", corpus=corpus, show_progress=False, return_statistics=True)
    assert result.settings.method == NaiveTopK()
    assert result.context["method_choice"] == {
        "requested": "auto:2",
        "positives_per_anchor": pytest.approx(per_anchor, abs=1e-4),
        "chosen": "naive-topk",
    }
    named = mine_hard_negatives(pairs, "bm25", corpus=corpus, method="naive-topk", show_progress=False)
    assert result.dataset.to_list() == named.to_list()


def test_several_positives_per_anchor_give_topk_percpos_on_every_entry_point(several, tmp_path, capsys):
    pairs, corpus = several
    assert distinct_positives_per_anchor(pairs) == 3.0
    named = mine_hard_negatives(pairs, "bm25", corpus=corpus, method="topk-percpos:0.95", show_progress=False)
    naive = mine_hard_negatives(pairs, "bm25", corpus=corpus, method="naive-topk", show_progress=False)
    assert named.to_list() != naive.to_list()  # the choice shows in the rows on this data

    result = mine_hard_negatives(pairs, "bm25", corpus=corpus, show_progress=False, return_statistics=True)
    assert result.settings.method == TopKPercPos(0.95)
    assert result.context["method_choice"] == {
        "requested": "auto:2",
        "positives_per_anchor": 3.0,
        "chosen": "topk-percpos:0.95",
    }
    assert result.dataset.to_list() == named.to_list()

    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, show_progress=False)
    assert pool.select(show_progress=False).to_list() == named.to_list()
    swept = pool.sweep(num_negatives=[1, 3])
    assert [row["method"] for row in swept.rows] == ["topk-percpos:0.95"] * 2
    assert swept.best(num_negatives=3).method == TopKPercPos(0.95)

    miner = HardNegativeMiner("bm25", corpus, positives=pairs)  # chosen from every pair, before any batch
    assert miner.settings.method == TopKPercPos(0.95) and miner.method_choice["positives_per_anchor"] == 3.0
    mapped = pairs.map(miner, batched=True, batch_size=60, remove_columns=pairs.column_names)
    assert mapped.to_list() == named.to_list()

    # without positives=, the first batch decides and the later batches keep its choice: rows 0-5 are 2 anchors
    # with 3 positives each, so every batch would choose TopK-PercPos; the choice is made once
    by_batch = HardNegativeMiner("bm25", corpus, positives="batch")
    assert by_batch.settings.method == Auto() and by_batch.method_choice is None
    pairs.map(by_batch, batched=True, batch_size=6, remove_columns=pairs.column_names)
    assert by_batch.settings.method == TopKPercPos(0.95)
    assert {h["config"]["settings"]["method"]["name"] for h in by_batch.history} == {"topk-percpos"}

    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in pairs.to_list()))
    docs = tmp_path / "docs.txt"
    docs.write_text("\n".join(corpus))
    out = tmp_path / "mined"
    assert main([str(path), "--corpus", str(docs), "--teacher", "bm25", "--output", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "removed by topk-percpos:0.95, chosen by auto:2 from 3.00 positives per anchor)" in printed
    report = json.loads((out / "mining.json").read_text())
    assert report["selection"]["settings"]["method"] == {"name": "topk-percpos", "percentage": 0.95}
    assert report["selection"]["method_choice"]["chosen"] == "topk-percpos:0.95"
    card = " ".join((out / "README.md").read_text().split())
    assert 'chosen by `method="auto:2"` from the pairs\' 3.00 distinct positives per anchor' in card


def test_a_named_method_is_used_as_given(several):
    pairs, corpus = several
    result = mine_hard_negatives(
        pairs, "bm25", corpus=corpus, method="naive-topk", show_progress=False, return_statistics=True
    )
    assert result.settings.method == NaiveTopK() and "method_choice" not in result.context
    assert HardNegativeMiner("bm25", corpus, positives=pairs, method="naive-topk").method_choice is None


def test_ensembles_and_teacher_agreement_resolve_auto_too(several):
    from st_hardneg import BM25Teacher, RandomTeacher

    pairs, corpus = several
    pool = CandidatePool.build(
        pairs, [BM25Teacher(), RandomTeacher(seed=5)], corpus=corpus, depth=20, seed=3, show_progress=False
    )
    chosen = pool.select(ensemble="intra_sample", show_progress=False, return_statistics=True)
    named = pool.select(ensemble="intra_sample", method="topk-percpos:0.95", show_progress=False)
    assert chosen.settings.method == TopKPercPos(0.95) and chosen.dataset.to_list() == named.to_list()
    assert chosen.context["method_choice"]["positives_per_anchor"] == 3.0
    assert pool.agreement(method="auto").method == "topk-percpos:0.95"
