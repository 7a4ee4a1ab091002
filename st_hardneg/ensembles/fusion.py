"""Fused rankings: the member teachers' candidate lists merged into one list with one fused score per document,
on which the mining method, the sampler and the fill then run as for a single teacher. An extension beyond
NV-Retriever and the ECI paper (neither fuses rankings); :mod:`~st_hardneg.ensembles.rrf` and
:mod:`~st_hardneg.ensembles.mean_score` define the fused score.

The fused list of an anchor is the union of the teachers' top-``depth`` candidates (so up to ``T x depth`` long),
ranked by fused score (ties by corpus id). Its fill reserve is the first teacher's, less the union.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from st_hardneg.ensembles.base import EnsembleInput, bit
from st_hardneg.formatting.formatters import Selected
from st_hardneg.pool.candidates import TeacherCandidates, compact, row_isin
from st_hardneg.pool.statistics import SelectionStatistics
from st_hardneg.select.negatives import row_positive_scores, select_negatives
from st_hardneg.teachers.base import sort_candidates

__all__ = ["FusedScores", "fused_teacher", "select_fused"]

#: Per teacher ``t``: (its candidates' fused contributions [q, depth], its rows' positives' [rows],
#: its reserve documents' [q, R]) -> each summed over teachers and divided by ``divisor``.
FusedScores = Callable[[int, TeacherCandidates, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]

_QUERY_CHUNK = 1024


def fused_teacher(
    inp: EnsembleInput, contribution: FusedScores, *, divisor: float, name: str, config: dict
) -> TeacherCandidates:
    """One :class:`TeacherCandidates` holding the fused ranking of every query.

    Args:
        contribution: ``(t, tc, row_query, positive_scores) -> (candidate scores [q, depth], positive scores
            [rows], reserve scores [q, R])`` of teacher ``t``: what it adds to a document's fused score (0 where it
            did not rank the document); it must not depend on which rows are selected (any batch gives the same
            rows), only on the anchor's candidates and the given positive scores.
        divisor: the fused score is the sum of the contributions divided by this (1 for RRF, T for the mean).
    """
    teachers = inp.teachers
    nq = teachers[0].candidates.shape[0]
    union = np.concatenate([np.asarray(tc.candidates).astype(np.int64) for tc in teachers], axis=1)
    union = _unique_per_row(union)
    fused = np.zeros(union.shape, dtype=np.float64)
    pos = np.zeros(len(inp.row_query), dtype=np.float64)
    reference = teachers[0]
    reserve = np.asarray(reference.random_candidates).astype(np.int64)
    reserve = np.where(row_isin(reserve, union), -1, reserve)
    reserve_scores = np.zeros(reserve.shape, dtype=np.float64)
    # positive_score="min": the fused score of each teacher's lowest positive of the anchor (the pool's per-query
    # minimum, which also covers positives of rows outside this selection, so any batch gives the same rows).
    min_pos = np.zeros(nq, dtype=np.float64)
    every_query = np.arange(nq)
    for t, tc in enumerate(teachers):
        own_pos = row_positive_scores(tc, inp.row_query, "row")
        cand_c, pos_c, res_c = contribution(t, tc, inp.row_query, own_pos)
        pos += pos_c
        min_pos += contribution(t, tc, every_query, np.asarray(tc.min_positive_scores))[1]
        fused += _gather(union, np.asarray(tc.candidates).astype(np.int64), cand_c)
        own_reserve = np.asarray(tc.random_candidates).astype(np.int64)
        reserve_scores += _gather(reserve, own_reserve, res_c)
    fused /= divisor
    pos /= divisor
    min_pos /= divisor
    reserve_scores /= divisor
    fused = np.where(union >= 0, fused, -np.inf)
    union, fused = sort_candidates(union, fused)
    reserve, reserve_scores = compact(reserve, reserve_scores, reserve >= 0, reserve.shape[1], -np.inf)
    return TeacherCandidates(
        name=name,
        config=config,
        candidates=union.astype(np.int32),
        scores=fused.astype(np.float32),
        positive_scores=pos.astype(np.float32),
        random_candidates=reserve.astype(np.int32),
        random_scores=reserve_scores.astype(np.float32),
        min_positive_scores=min_pos.astype(np.float32),
    )


def select_fused(inp: EnsembleInput, fused: TeacherCandidates) -> tuple[Selected, SelectionStatistics]:
    """The single-teacher selection on the fused ranking; each negative records the teachers that ranked it."""
    pos = row_positive_scores(fused, inp.row_query, inp.settings.positive_score)
    selected, st = select_negatives(
        fused,
        inp.row_query,
        inp.row_positive,
        pos,
        rule=inp.rule,
        row_keys=inp.row_keys,
        judged=inp.judged,
        duplicates=inp.duplicates,
        chunk_size=inp.chunk_size,
        show_progress=inp.show_progress,
    )
    bits = np.zeros(selected.negatives.shape, dtype=np.uint64)
    for t, tc in enumerate(inp.teachers):
        ranked = row_isin(selected.negatives, np.asarray(tc.candidates[selected.row_query]).astype(np.int64))
        bits |= np.where(ranked, bit(t), np.uint64(0))
    selected.teacher_bits = bits
    return selected, st


def ranks_of(tc: TeacherCandidates) -> np.ndarray:
    """1-based rank of each candidate slot of ``tc`` (positives excluded, as in the pool)."""
    return np.broadcast_to(np.arange(1, tc.depth + 1), tc.candidates.shape)


def _unique_per_row(ids: np.ndarray) -> np.ndarray:
    """Each row's distinct ids (``>= 0``) first, in order of first appearance, ``-1``-padded."""
    order = np.argsort(ids, axis=1, kind="stable")
    sorted_ids = np.take_along_axis(ids, order, axis=1)
    dup_sorted = np.zeros(ids.shape, dtype=bool)
    dup_sorted[:, 1:] = sorted_ids[:, 1:] == sorted_ids[:, :-1]
    duplicate = np.empty_like(dup_sorted)
    np.put_along_axis(duplicate, order, dup_sorted, axis=1)
    out, _ = compact(ids, np.zeros(ids.shape, np.float32), (ids >= 0) & ~duplicate, ids.shape[1], 0.0)
    return out


def _gather(targets: np.ndarray, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``out[q, j]`` = ``values[q, i]`` where ``ids[q, i] == targets[q, j]``, else 0 (in query chunks)."""
    out = np.zeros(targets.shape, dtype=np.float64)
    for start in range(0, len(targets), _QUERY_CHUNK):
        sl = slice(start, start + _QUERY_CHUNK)
        eq = (targets[sl, :, None] == ids[sl, None, :]) & (targets[sl, :, None] >= 0)
        found = eq.any(axis=2)
        got = np.take_along_axis(values[sl].astype(np.float64), eq.argmax(axis=2), axis=1)
        out[sl] = np.where(found, got, 0.0)
    return out
