"""A hand-made two-teacher pool whose ensembles are worked out by hand in the tests."""

import numpy as np
import pyarrow as pa

from st_hardneg import CandidatePool
from st_hardneg.pool import PoolStatistics, TeacherCandidates
from st_hardneg.settings import PoolSettings

NEG = -np.inf


def two_teacher_pool(order=("a", "b")) -> CandidatePool:
    """Queries q0 (positive d0) and q1 (positive d1); two teachers on different scales.

    teacher a (cosine-like)                          teacher b (BM25-like)
    q0: d2 .9, d3 .8, d4 .7, d5 .6   pos .95         q0: d3 9, d5 8, d6 7, d2 6     pos 10
    q1: d3 .85, d6 .7, d7 .5, d2 .4  pos .9          q1: d6 12, d7 11, d4 5, d5 4   pos 10
    reserves: q0 d8 .1, d9 .05 / q1 d8 .2, d9 .1     reserves: q0 d8 1, d9 .5 / q1 d8 2, d9 1
    """
    a = TeacherCandidates(
        name="a",
        config={"type": "hand", "name": "a"},
        candidates=np.array([[2, 3, 4, 5], [3, 6, 7, 2]], dtype=np.int32),
        scores=np.array([[0.9, 0.8, 0.7, 0.6], [0.85, 0.7, 0.5, 0.4]], dtype=np.float32),
        positive_scores=np.array([0.95, 0.9], dtype=np.float32),
        random_candidates=np.array([[8, 9], [8, 9]], dtype=np.int32),
        random_scores=np.array([[0.1, 0.05], [0.2, 0.1]], dtype=np.float32),
        min_positive_scores=np.array([0.95, 0.9], dtype=np.float32),
    )
    b = TeacherCandidates(
        name="b",
        config={"type": "hand", "name": "b"},
        candidates=np.array([[3, 5, 6, 2], [6, 7, 4, 5]], dtype=np.int32),
        scores=np.array([[9, 8, 7, 6], [12, 11, 5, 4]], dtype=np.float32),
        positive_scores=np.array([10, 10], dtype=np.float32),
        random_candidates=np.array([[8, 9], [8, 9]], dtype=np.int32),
        random_scores=np.array([[1, 0.5], [2, 1]], dtype=np.float32),
        min_positive_scores=np.array([10, 10], dtype=np.float32),
    )
    teachers = {"a": a, "b": b}
    return CandidatePool(
        queries=pa.array(["q0", "q1"]),
        corpus=pa.array([f"d{i}" for i in range(10)]),
        row_query=np.array([0, 1]),
        row_positive=np.array([0, 1]),
        positives_indptr=np.array([0, 1, 2]),
        positives_indices=np.array([0, 1]),
        teachers={name: teachers[name] for name in order},
        config={"settings": PoolSettings(depth=4, anchor_column="anchor", positive_column="positive").to_dict()},
        statistics=PoolStatistics(
            rows=2,
            queries=2,
            corpus_size=10,
            queries_with_several_positives=0,
            added_positives=0,
            duplicate_corpus_texts=0,
        ),
    )


def negatives(ds, n):
    return [[row[f"negative_{j}"] for j in range(1, n + 1)] for row in ds]
