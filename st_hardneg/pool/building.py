"""Running one teacher over a pair layout: ranked candidates without positives, positive scores, fill reserve."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from st_hardneg.pool.inputs import PairLayout
from st_hardneg.pool.statistics import ScoreSummary, TeacherStatistics
from st_hardneg.teachers.base import TeacherIndex

logger = logging.getLogger(__name__)


@dataclass
class TeacherCandidates:
    """One teacher's share of a pool.

    Attributes:
        name: the teacher's key.
        config: the teacher's provenance (``Teacher.config()``).
        candidates: int32 ``[queries, depth]`` corpus ids, highest score first, positives removed, ``-1``-padded.
        scores: float32 ``[queries, depth]``, ``-inf`` at padding.
        positive_scores: float32 ``[rows]``, the teacher's score of each row's (anchor, positive).
        random_candidates: int32 ``[queries, R]`` random corpus ids outside the candidates and positives, used to
            fill short rows; ``-1``-padded.
        random_scores: float32 ``[queries, R]``.
    """

    name: str
    config: dict[str, Any]
    candidates: np.ndarray
    scores: np.ndarray
    positive_scores: np.ndarray
    random_candidates: np.ndarray
    random_scores: np.ndarray


def mine_teacher(
    layout: PairLayout,
    index: TeacherIndex,
    name: str,
    config: dict[str, Any],
    *,
    depth: int,
    num_random: int,
    rng: np.random.Generator,
    show_progress: bool = True,
) -> tuple[TeacherCandidates, TeacherStatistics]:
    """Rank the corpus for every query with one teacher and keep the top ``depth`` non-positive candidates."""
    nq, nd = len(layout.queries), len(layout.corpus)
    positives = layout.positives_matrix(np.arange(nq))
    k = min(depth + layout.max_positives, nd)
    # Draw a few more than num_random: some will turn out to be among the candidates (found after the search).
    extra = 0 if num_random == 0 else int(np.ceil(2 * num_random * k / max(nd - k, 1))) + 2
    reserve = random_documents(rng, nq, nd, min(nd, num_random + extra), positives)
    rq = np.repeat(np.arange(nq), reserve.shape[1])
    rd = reserve.ravel()
    has = rd >= 0
    pair_q = np.concatenate([layout.row_query, rq[has]])
    pair_d = np.concatenate([layout.row_positive, rd[has]])
    out = index.run(layout.queries, k, pair_q, pair_d, show_progress=show_progress)
    positive_scores = out.pair_scores[: len(layout.row_query)].astype(np.float32)
    reserve_scores = np.full(reserve.shape, -np.inf, dtype=np.float32)
    reserve_scores.ravel()[has] = out.pair_scores[len(layout.row_query) :]

    is_positive = row_isin(out.candidates, positives)
    candidates, scores = _compact(out.candidates, out.scores, ~is_positive & (out.candidates >= 0), depth, -np.inf)

    in_candidates = row_isin(reserve, out.candidates)
    random_c, random_s = _compact(reserve, reserve_scores, (reserve >= 0) & ~in_candidates, num_random, -np.inf)

    tc = TeacherCandidates(
        name=name,
        config=config,
        candidates=candidates.astype(np.int32),
        scores=scores.astype(np.float32),
        positive_scores=positive_scores,
        random_candidates=random_c.astype(np.int32),
        random_scores=random_s.astype(np.float32),
    )
    valid = candidates >= 0
    stats = TeacherStatistics(
        teacher=name,
        queries=nq,
        depth=depth,
        candidates=int(valid.sum()),
        padded_slots=int((~valid).sum()),
        positives_among_retrieved=int(is_positive.sum()),
        positive_scores=ScoreSummary.of(positive_scores),
        candidate_scores=ScoreSummary.of(scores[valid]),
    )
    return tc, stats


def random_documents(
    rng: np.random.Generator, num_queries: int, corpus_size: int, count: int, exclude: np.ndarray
) -> np.ndarray:
    """``[num_queries, count]`` distinct random corpus ids per row, none in the row's ``exclude``, ``-1``-padded."""
    if count <= 0 or corpus_size == 0:
        return np.full((num_queries, max(count, 0)), -1, dtype=np.int64)
    draws = min(corpus_size, 2 * count + exclude.shape[1])
    if draws >= corpus_size // 2:
        ids = rng.permuted(np.tile(np.arange(corpus_size), (num_queries, 1)), axis=1)[:, :draws]
    else:
        ids = rng.integers(0, corpus_size, size=(num_queries, draws))
    order = np.argsort(ids, axis=1, kind="stable")
    sorted_ids = np.take_along_axis(ids, order, axis=1)
    dup_sorted = np.zeros_like(sorted_ids, dtype=bool)
    dup_sorted[:, 1:] = sorted_ids[:, 1:] == sorted_ids[:, :-1]
    duplicate = np.empty_like(dup_sorted)
    np.put_along_axis(duplicate, order, dup_sorted, axis=1)
    excluded = row_isin(ids, exclude)
    out, _ = _compact(ids, np.zeros(ids.shape, np.float32), ~duplicate & ~excluded, count, 0.0)
    return out


def row_isin(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``out[i, j] = values[i, j] in pool[i]`` for ids >= 0 (``-1`` entries never match), without a 3-D array."""
    width = int(max(values.max(initial=-1), pool.max(initial=-1))) + 2
    rows_v = np.arange(len(values), dtype=np.int64)[:, None] * width
    rows_p = np.arange(len(pool), dtype=np.int64)[:, None] * width
    keys_p = (rows_p + pool)[pool >= 0]
    return np.isin(rows_v + values, keys_p) & (values >= 0)


def _compact(ids: np.ndarray, scores: np.ndarray, keep: np.ndarray, width: int, fill: float):
    """Move each row's kept entries to the front (order kept), cut or pad to ``width``."""
    order = np.argsort(~keep, axis=1, kind="stable")[:, :width]
    kept = np.take_along_axis(keep, order, axis=1)
    new_ids = np.where(kept, np.take_along_axis(ids, order, axis=1), -1)
    new_scores = np.where(kept, np.take_along_axis(scores, order, axis=1), fill)
    if new_ids.shape[1] < width:
        pad = width - new_ids.shape[1]
        new_ids = np.concatenate([new_ids, np.full((len(ids), pad), -1, new_ids.dtype)], axis=1)
        new_scores = np.concatenate([new_scores, np.full((len(ids), pad), fill, new_scores.dtype)], axis=1)
    return new_ids, new_scores
