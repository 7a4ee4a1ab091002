"""Shared by the engine tests: the embedded default data, in-process reference pools, and the comparison of two pools
(same candidates and fill reserve, scores within float rounding, identical selections)."""

from __future__ import annotations

import numpy as np
import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.teachers import DenseTeacher

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
#: Small shards, so the 161 documents and 56 anchors of the default data make several of each.
SHARDS = {"anchor_shard_size": 16, "corpus_shard_size": 48}
DEPTH = 20


@pytest.fixture(scope="session")
def default_data():
    return load_default()


@pytest.fixture(scope="session")
def reference_pools(default_data, minilm, tmp_path_factory):
    """In-process pools (no work_dir) of MiniLM (exact and faiss search) and BM25, built on first use."""
    pairs, corpus = default_data
    cache = tmp_path_factory.mktemp("embeddings")  # the second dense build reads the first one's embeddings
    built = {}

    def get(name: str) -> CandidatePool:
        if name not in built:
            teacher = "bm25" if name == "bm25" else DenseTeacher(minilm, backend=name, cache_folder=cache)
            built[name] = CandidatePool.build(pairs, teacher, corpus=corpus, depth=DEPTH, show_progress=False)
        return built[name]

    return get


SELECTIONS = [
    {"method": "topk-percpos:0.95", "num_negatives": 3},
    {"method": "topk-marginpos:0.05", "num_negatives": 2, "sampling": "sampled", "output_format": "triplet"},
    {"method": "naive-topk", "num_negatives": 4, "sampling": "top1_sampled", "positive_score": "min"},
    {"method": "topk-abs:0.4", "num_negatives": 5, "on_short": "fill"},
]


def assert_same_pool(expected: CandidatePool, got: CandidatePool, *, exact: bool = False) -> None:
    """Same candidates, fill reserve, positives and statistics counts; scores equal (``exact``) or within 1e-5;
    identical selected datasets for several methods and samplers."""
    assert list(got.teachers) == list(expected.teachers)
    assert got.config == expected.config
    assert got.queries.to_pylist() == expected.queries.to_pylist()
    assert got.corpus.to_pylist() == expected.corpus.to_pylist()
    for name in ("row_query", "row_positive", "positives_indptr", "positives_indices"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
    for name, want in expected.teachers.items():
        have = got.teachers[name]
        for array in ("candidates", "random_candidates"):
            np.testing.assert_array_equal(np.asarray(getattr(have, array)), np.asarray(getattr(want, array)))
        for array in ("scores", "random_scores", "positive_scores", "min_positive_scores"):
            a, b = np.asarray(getattr(have, array)), np.asarray(getattr(want, array))
            if exact:
                np.testing.assert_array_equal(a, b)
            else:
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
        s, t = got.statistics.teachers[name], expected.statistics.teachers[name]
        assert (s.candidates, s.padded_slots, s.positives_among_retrieved) == (
            t.candidates,
            t.padded_slots,
            t.positives_among_retrieved,
        )
        assert s.candidate_scores.count == t.candidate_scores.count
        assert s.candidate_scores.mean == pytest.approx(t.candidate_scores.mean, abs=1e-6)
    for settings in SELECTIONS:
        a = expected.select(**settings, seed=7, show_progress=False)
        b = got.select(**settings, seed=7, show_progress=False)
        assert b.to_dict() == a.to_dict(), settings
