"""Reciprocal-rank fusion of the member teachers' rankings (Cormack, Clarke and Buettcher, SIGIR 2009): a document's
fused score is ``sum_t 1 / (rrf_k + rank_t)`` over the teachers that ranked it in their top ``depth`` (rank 1 =
best; a teacher that did not rank it adds nothing). An extension beyond NV-Retriever and the ECI paper.

The mining method then runs on the fused score. A positive's fused score uses its rank among each teacher's
candidates, ``1 + (candidates scoring above it)``; when every candidate of a teacher outscores it, its true rank is
somewhere past ``depth`` and ``depth + 1`` is used (the most it can contribute). Positive-aware methods thus keep
negatives the fused ranking puts below the positive (TopK-PercPos at 95%: a fused score at most 95% of the
positive's); absolute thresholds are refused (a reciprocal rank is not a similarity). Fill documents, ranked by no
teacher, score 0.
"""

from __future__ import annotations

import numpy as np

from st_hardneg.ensembles.base import EnsembleInput
from st_hardneg.ensembles.fusion import fused_teacher, ranks_of, select_fused
from st_hardneg.formatting.formatters import Selected
from st_hardneg.pool.candidates import TeacherCandidates
from st_hardneg.pool.statistics import SelectionStatistics

__all__ = ["positive_ranks", "rrf"]


def positive_ranks(tc: TeacherCandidates, row_query: np.ndarray, positive_scores: np.ndarray) -> np.ndarray:
    """Each row's positive's rank among its anchor's candidates under ``tc``: 1 + the candidates scoring above it.

    Examples:
        >>> tc = TeacherCandidates("t", {}, candidates=np.array([[5, 6, 7]]), scores=np.array([[0.9, 0.5, 0.1]]),
        ...     positive_scores=np.array([0.6, 0.95]), random_candidates=np.zeros((1, 0)),
        ...     random_scores=np.zeros((1, 0)), min_positive_scores=np.array([0.6]))
        >>> positive_ranks(tc, np.array([0, 0]), np.array([0.6, 0.95])).tolist()
        [2, 1]
    """
    scores = np.asarray(tc.scores[row_query])
    valid = np.asarray(tc.candidates[row_query]) >= 0
    return 1 + ((scores > positive_scores[:, None]) & valid).sum(axis=1)


def rrf(inp: EnsembleInput) -> tuple[Selected, SelectionStatistics]:
    k = inp.settings.rrf_k

    def contribution(t, tc, row_query, pos):
        valid = np.asarray(tc.candidates) >= 0
        cand = np.where(valid, 1.0 / (k + ranks_of(tc)), 0.0)
        positive = 1.0 / (k + positive_ranks(tc, row_query, pos))
        reserve = np.zeros(np.asarray(tc.random_candidates).shape)
        return cand, positive, reserve

    config = {"type": "ensemble", "strategy": "rrf", "rrf_k": k, "members": [tc.name for tc in inp.teachers]}
    fused = fused_teacher(inp, contribution, divisor=1.0, name="rrf", config=config)
    return select_fused(inp, fused)
