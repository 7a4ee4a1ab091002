"""Looking up a teacher's score of (anchor, document) pairs in a pool, without running the teacher.

A teacher of a pool has scored, for every anchor, its ``depth`` candidates, the anchor's positives and the random
fill reserve. A negative chosen by another teacher (an ensemble, or soft labels from a second teacher) is often
among them; :func:`lookup_scores` finds those scores and marks the pairs the teacher never scored, which the caller
scores with the teacher itself when it is in memory (:meth:`~st_hardneg.pool.CandidatePool.select`) or reports.
"""

from __future__ import annotations

import numpy as np

from st_hardneg.pool.candidates import TeacherCandidates

__all__ = ["lookup_scores"]


def lookup_scores(
    tc: TeacherCandidates, row_query: np.ndarray, negatives: np.ndarray, *, chunk_size: int = 4096
) -> np.ndarray:
    """``tc``'s score of each ``(row_query[i], negatives[i, j])`` pair: from its candidates or its fill reserve.

    Args:
        row_query: ``[n]`` query index per row.
        negatives: ``[n, k]`` corpus ids, ``-1`` at padding.

    Returns:
        float32 ``[n, k]``; NaN where the teacher did not score the pair (and at padding).

    Examples:
        >>> tc = TeacherCandidates("t", {}, candidates=np.array([[3, 1]]), scores=np.array([[0.9, 0.5]]),
        ...     positive_scores=np.array([1.0]), random_candidates=np.array([[7]]), random_scores=np.array([[0.1]]),
        ...     min_positive_scores=np.array([1.0]))
        >>> lookup_scores(tc, np.array([0]), np.array([[1, 7, 4, -1]])).tolist()
        [[0.5, 0.10000000149011612, nan, nan]]
    """
    n, k = negatives.shape
    out = np.full((n, k), np.nan, dtype=np.float32)
    for start in range(0, n, chunk_size):
        sl = slice(start, start + chunk_size)
        q, neg = row_query[sl], negatives[sl]
        for ids, scores in ((tc.candidates, tc.scores), (tc.random_candidates, tc.random_scores)):
            ids_q = np.asarray(ids[q]).astype(np.int64)
            if ids_q.shape[1] == 0:
                continue
            eq = (neg[:, :, None] == ids_q[:, None, :]) & (neg[:, :, None] >= 0)
            found = eq.any(axis=2)
            where = eq.argmax(axis=2)
            values = np.take_along_axis(np.asarray(scores[q]).astype(np.float32), where, axis=1)
            block = out[sl]
            fill = found & np.isnan(block)
            block[fill] = values[fill]
    return out
