"""Candidate pools built with real teachers on the embedded default data: build, select, save/load, seeds."""

import numpy as np
import pytest
from datasets import Dataset

from st_hardneg import CandidatePool, TopKPercPos
from st_hardneg.data import load_default


@pytest.fixture(scope="module")
def default_data():
    return load_default()


@pytest.fixture(scope="module")
def dense_pool(minilm, default_data):
    pairs, corpus = default_data
    return CandidatePool.build(pairs, minilm, corpus=corpus, depth=20, seed=0, show_progress=False)


def test_positives_are_never_candidates_of_their_anchor(dense_pool, default_data):
    pairs, _ = default_data
    tc = next(iter(dense_pool.teachers.values()))
    corpus = dense_pool.corpus.to_pylist()
    queries = dense_pool.queries.to_pylist()
    positives = {}
    for a, p in zip(pairs["anchor"], pairs["positive"]):
        positives.setdefault(a, set()).add(p)
    assert any(len(v) > 1 for v in positives.values())  # the default data has anchors with two positives
    for qi, anchor in enumerate(queries):
        texts = {corpus[d] for d in tc.candidates[qi] if d >= 0}
        texts |= {corpus[d] for d in tc.random_candidates[qi] if d >= 0}
        assert not texts & positives[anchor]
        assert not set(tc.random_candidates[qi][tc.random_candidates[qi] >= 0]) & set(tc.candidates[qi])


def test_candidate_and_positive_scores_are_the_teachers_cosines(dense_pool, minilm):
    tc = next(iter(dense_pool.teachers.values()))
    assert (np.diff(tc.scores, axis=1) <= 1e-7).all()  # ranked, highest first
    corpus = dense_pool.corpus.to_pylist()
    queries = dense_pool.queries.to_pylist()
    for row in (0, 5, 17):
        qi = dense_pool.row_query[row]
        q = minilm.encode(queries[qi], normalize_embeddings=True)
        p = minilm.encode(corpus[dense_pool.row_positive[row]], normalize_embeddings=True)
        assert tc.positive_scores[row] == pytest.approx(float(q @ p), abs=1e-5)
        d = minilm.encode(corpus[tc.candidates[qi, 0]], normalize_embeddings=True)
        assert tc.scores[qi, 0] == pytest.approx(float(q @ d), abs=1e-5)


def test_every_selected_negative_obeys_percpos(dense_pool):
    res = dense_pool.select(
        TopKPercPos(0.9), num_negatives=3, output_scores=True, seed=1, show_progress=False, return_statistics=True
    )
    scores = np.array(res.dataset["scores"])
    assert (scores[:, 1:] <= scores[:, :1] * 0.9 + 1e-6).all()
    assert res.statistics.rows_in == 63 and res.statistics.examples_out == len(res.dataset)


def test_same_seed_same_output_and_select_many_without_encoding(dense_pool):
    a = dense_pool.select("topk-percpos:0.95", num_negatives=3, sampling="sampled", seed=3, show_progress=False)
    b = dense_pool.select("topk-percpos:0.95", num_negatives=3, sampling="sampled", seed=3, show_progress=False)
    c = dense_pool.select("topk-percpos:0.95", num_negatives=3, sampling="sampled", seed=4, show_progress=False)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != c.to_dict()


def test_build_with_the_same_seed_is_reproducible(minilm, default_data):
    pairs, corpus = default_data
    kw = dict(corpus=corpus, depth=10, num_random=4, seed=11, show_progress=False)
    a, b = CandidatePool.build(pairs, "bm25", **kw), CandidatePool.build(pairs, "bm25", **kw)
    assert (a.teachers["bm25"].random_candidates == b.teachers["bm25"].random_candidates).all()
    assert a.select(seed=1, show_progress=False).to_dict() == b.select(seed=1, show_progress=False).to_dict()


def test_save_and_load_round_trip(dense_pool, tmp_path):
    dense_pool.save(tmp_path / "pool")
    loaded = CandidatePool.load(tmp_path / "pool")
    assert loaded.corpus.to_pylist() == dense_pool.corpus.to_pylist()
    assert loaded.config == dense_pool.config
    assert loaded.statistics.teachers.keys() == dense_pool.statistics.teachers.keys()
    for name, tc in dense_pool.teachers.items():
        np.testing.assert_array_equal(loaded.teachers[name].scores, tc.scores)
    kw = dict(
        method="topk-marginpos:0.05",
        num_negatives=2,
        sampling="top1_sampled",
        sample_from=5,
        seed=9,
        show_progress=False,
    )
    assert loaded.select(**kw).to_dict() == dense_pool.select(**kw).to_dict()
    assert loaded.history[-1]["config"]["settings"]["method"]["name"] == "topk-marginpos"


def test_multi_teacher_pool_selects_per_teacher(minilm, default_data):
    pairs, corpus = default_data
    pool = CandidatePool.build(pairs, [minilm, "bm25"], corpus=corpus, depth=15, seed=0, show_progress=False)
    assert set(pool.teachers) == {"sentence-transformers/all-MiniLM-L6-v2", "bm25"}
    single = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=15, seed=0, show_progress=False)
    np.testing.assert_array_equal(pool.teachers["bm25"].candidates, single.teachers["bm25"].candidates)
    with pytest.raises(ValueError, match="several teachers"):
        pool.select()
    assert len(pool.select(teacher="bm25", show_progress=False)) > 0


def test_corpus_defaults_to_positives_and_positives_join_a_given_corpus():
    pairs = Dataset.from_dict({"q": ["a b", "a c", "b c"], "d": ["a b x", "a c y", "b c z"]})
    pool = CandidatePool.build(pairs, "bm25", depth=5, show_progress=False)
    assert pool.corpus.to_pylist() == ["a b x", "a c y", "b c z"]
    assert pool.settings.anchor_column == "q"
    pool = CandidatePool.build(pairs, "bm25", corpus=["other a", "other a", "a b x"], depth=5, show_progress=False)
    assert pool.corpus.to_pylist() == ["other a", "a b x", "a c y", "b c z"]
    assert (pool.statistics.duplicate_corpus_texts, pool.statistics.added_positives) == (1, 2)


def test_bad_input_raises_clearly():
    with pytest.raises(ValueError, match="data row 2: the anchor"):
        CandidatePool.build({"anchor": ["x", ""], "positive": ["y", "z"]}, "bm25", show_progress=False)
    with pytest.raises(ValueError, match="not a column"):
        CandidatePool.build({"anchor": ["x"], "positive": ["y"]}, "bm25", anchor_column="query")
    with pytest.raises(ValueError, match="no rows"):
        CandidatePool.build({"anchor": [], "positive": []}, "bm25")
