"""Mean of per-teacher normalised scores (CombSUM over min-max normalised scores, Fox and Shaw 1994; Lee 1997):
for each anchor, teacher ``t``'s scores are mapped by the lowest and the highest of its top-``depth`` candidates'
scores to [0, 1], and a document's fused score is the mean over the teachers (a teacher that did not rank the
document counts 0, its lowest candidate's level). An extension beyond NV-Retriever and the ECI paper, for teachers
on different scales (BM25 and cosine).

The mining method then runs on the fused score and the positive's fused score (its scores, normalised the same way,
averaged; usually above 1, since a positive tends to outscore the candidates): TopK-PercPos at 95% keeps negatives
whose fused score is at most 95% of the positive's; TopK-Abs reads its threshold on the candidates' [0, 1] scale.
Fill documents get their normalised scores under the teachers that scored them in their reserve (below 0 when they
score under every candidate), 0 for the others.
"""

from __future__ import annotations

import warnings

import numpy as np

from st_hardneg.ensembles.base import EnsembleInput
from st_hardneg.ensembles.fusion import fused_teacher, select_fused
from st_hardneg.formatting.formatters import Selected
from st_hardneg.pool.statistics import SelectionStatistics

__all__ = ["mean_score", "normalisation"]


def normalisation(candidate_scores: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per query ``(low, span)``: the lowest score of its valid candidates and the distance to the highest (1 when
    they are equal or there is no candidate).

    Examples:
        >>> low, span = normalisation(np.array([[0.8, 0.2, 0.0]]), np.array([[True, True, False]]))
        >>> low.tolist(), np.round(span, 6).tolist()
        ([0.2], [0.6])
    """
    with warnings.catch_warnings():  # all-invalid rows (no candidate) are handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        cand = np.where(valid, candidate_scores, np.nan).astype(np.float64)
        low, high = np.nanmin(cand, axis=1), np.nanmax(cand, axis=1)
    span = high - low
    span = np.where(np.isfinite(span) & (span > 0), span, 1.0)
    return np.where(np.isfinite(low), low, 0.0), span


def mean_score(inp: EnsembleInput) -> tuple[Selected, SelectionStatistics]:
    def contribution(t, tc, row_query, pos):
        candidates = np.asarray(tc.candidates)
        low, span = normalisation(np.asarray(tc.scores), candidates >= 0)
        cand = np.where(candidates >= 0, (np.asarray(tc.scores) - low[:, None]) / span[:, None], 0.0)
        positive = (pos - low[row_query]) / span[row_query]
        reserve_ids = np.asarray(tc.random_candidates)
        reserve = np.where(reserve_ids >= 0, (np.asarray(tc.random_scores) - low[:, None]) / span[:, None], 0.0)
        return cand, positive, reserve

    config = {"type": "ensemble", "strategy": "mean_score", "members": [tc.name for tc in inp.teachers]}
    fused = fused_teacher(inp, contribution, divisor=float(len(inp.teachers)), name="mean_score", config=config)
    return select_fused(inp, fused)
