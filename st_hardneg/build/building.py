"""Running one teacher over a pair layout: ranked candidates without positives, positive scores, fill reserve."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from st_hardneg.keyed_random import combine, salt, uniform
from st_hardneg.pool.candidates import TeacherCandidates, compact, row_isin
from st_hardneg.pool.inputs import PairLayout
from st_hardneg.pool.settings import PoolSettings
from st_hardneg.pool.statistics import ScoreSummary, TeacherStatistics
from st_hardneg.teachers.base import Teacher, TeacherIndex, TeacherOutput

logger = logging.getLogger(__name__)

_FILL_SALT = salt("st-hardneg fill reserve")


def index_teachers(
    teachers: Sequence[Teacher],
    corpus: Sequence[str],
    *,
    indexes: dict[str, TeacherIndex] | None = None,
    show_progress: bool = True,
) -> dict[str, TeacherIndex]:
    """Bind every teacher to ``corpus`` (those in ``indexes`` are bound already). A teacher with a ``first_stage``
    that is also one of ``teachers`` (a cross-encoder over BM25 or a dense model of the same pool) reuses that
    index, so the corpus is encoded once."""
    out: dict[str, TeacherIndex] = {}
    built: dict[int, TeacherIndex] = {}
    for t in teachers:
        index = (indexes or {}).get(t.name)
        if index is None:
            first = built.get(id(getattr(t, "first_stage", None)))
            if first is not None:
                index = t.index(corpus, show_progress, first_stage_index=first)  # type: ignore[call-arg]
            else:
                index = t.index(corpus, show_progress)
        built[id(t)] = out[t.name] = index
    return out


def rank_with_teacher(
    layout: PairLayout,
    index: TeacherIndex,
    name: str,
    config: dict[str, Any],
    *,
    depth: int,
    num_random: int,
    seed: int,
    query_keys: np.ndarray,
    show_progress: bool = True,
) -> tuple[TeacherCandidates, TeacherStatistics]:
    """Rank the corpus for every query with one teacher and keep the top ``depth`` non-positive candidates.

    The fill reserve of each query is a function of the seed, the anchor's text, the corpus size, its positives and
    its candidates only (:func:`random_documents`), so it does not depend on which other anchors are built with it:
    the sharded engines (:mod:`st_hardneg.engines`) run :func:`plan_anchors` and :func:`finish_anchors` on ranges of
    anchors and get the same arrays.
    """
    plan = plan_anchors(
        layout,
        0,
        len(layout.queries),
        np.arange(len(layout.row_query)),
        depth=depth,
        num_random=num_random,
        seed=seed,
        query_keys=query_keys,
    )
    out = index.run(layout.queries, plan.k, plan.pair_queries, plan.pair_docs, show_progress=show_progress)
    shard = finish_anchors(plan, out, depth=depth, num_random=num_random)
    tc = TeacherCandidates(
        name=name,
        config=config,
        candidates=shard.candidates,
        scores=shard.scores,
        positive_scores=shard.positive_scores,
        random_candidates=shard.random_candidates,
        random_scores=shard.random_scores,
        min_positive_scores=shard.min_positive_scores,
    )
    valid = shard.candidates >= 0
    stats = TeacherStatistics(
        teacher=name,
        queries=len(layout.queries),
        depth=depth,
        candidates=int(valid.sum()),
        padded_slots=int((~valid).sum()),
        positives_among_retrieved=shard.positives_among_retrieved,
        positive_scores=ScoreSummary.of(shard.positive_scores),
        candidate_scores=ScoreSummary.of(shard.scores[valid]),
    )
    return tc, stats


def pool_config(
    settings: PoolSettings,
    teachers: dict[str, dict[str, Any]],
    *,
    corpus_given: bool,
    dataset_fingerprint: str,
    corpus_fingerprint: str,
) -> dict[str, Any]:
    """A pool's ``config``: how it was built (settings, teachers) and what from (fingerprints of dataset and corpus)."""
    return {
        "settings": settings.to_dict(),
        "teachers": teachers,
        "corpus_given": corpus_given,
        "dataset_fingerprint": dataset_fingerprint,
        "corpus_fingerprint": corpus_fingerprint,
    }


def search_depth(layout: PairLayout, depth: int) -> int:
    """How many documents a teacher retrieves per anchor: ``depth`` plus room for the most positives any anchor has
    (they are removed afterwards), at most the corpus size."""
    return min(depth + layout.max_positives, len(layout.corpus))


@dataclass
class AnchorPlan:
    """What a teacher needs to rank a range of anchors ``[start, stop)``, fixed before any search.

    Attributes:
        start / stop: the range of query indices.
        k: documents to retrieve per anchor (:func:`search_depth`, from the whole layout).
        positives: int64 ``[stop - start, P]`` each anchor's positive documents, ``-1``-padded.
        reserve: int64 ``[stop - start, R]`` the keyed random documents drawn for the fill reserve.
        rows: int64 global row ids whose anchor is in the range, in row order.
        pair_queries / pair_docs: the (anchor position in the range, document) pairs to score: first each row's
            positive, then every reserve document.
    """

    start: int
    stop: int
    k: int
    positives: np.ndarray
    reserve: np.ndarray
    rows: np.ndarray
    pair_queries: np.ndarray
    pair_docs: np.ndarray

    @property
    def num_queries(self) -> int:
        return self.stop - self.start


@dataclass
class AnchorShard:
    """A teacher's pool arrays for the anchors ``[start, stop)`` of an :class:`AnchorPlan` (see
    :class:`TeacherCandidates`); ``positive_scores`` follow ``rows``."""

    start: int
    stop: int
    rows: np.ndarray
    candidates: np.ndarray
    scores: np.ndarray
    positive_scores: np.ndarray
    random_candidates: np.ndarray
    random_scores: np.ndarray
    min_positive_scores: np.ndarray
    positives_among_retrieved: int


def plan_anchors(
    layout: PairLayout,
    start: int,
    stop: int,
    rows: np.ndarray,
    *,
    depth: int,
    num_random: int,
    seed: int,
    query_keys: np.ndarray,
) -> AnchorPlan:
    """The pairs to score for the anchors ``[start, stop)``: the positive of each of ``rows`` (the rows whose anchor is
    in the range, in row order) and the fill reserve drawn by :func:`random_documents`.

    Only the range's own anchors enter (plus the corpus size, ``depth`` and the most positives of any anchor), so
    planning ranges separately gives the same pairs as planning every anchor at once.
    """
    nd = len(layout.corpus)
    positives = layout.positives_matrix(np.arange(start, stop))
    # Draw a few more than num_random: some will turn out to be among the candidates (found after the search).
    extra = 0 if num_random == 0 else int(np.ceil(2 * num_random * depth / max(nd - depth, 1))) + 2
    reserve = random_documents(query_keys[start:stop], seed, nd, min(nd, num_random + extra), positives)
    rq = np.repeat(np.arange(stop - start), reserve.shape[1])
    rd = reserve.ravel()
    has = rd >= 0
    rows = np.asarray(rows, dtype=np.int64)
    return AnchorPlan(
        start=start,
        stop=stop,
        k=search_depth(layout, depth),
        positives=positives,
        reserve=reserve,
        rows=rows,
        pair_queries=np.concatenate([layout.row_query[rows] - start, rq[has]]),
        pair_docs=np.concatenate([layout.row_positive[rows], rd[has]]),
    )


def finish_anchors(plan: AnchorPlan, out: TeacherOutput, *, depth: int, num_random: int) -> AnchorShard:
    """Turn a teacher's ranking of the plan's anchors into pool arrays: positives removed from the candidates, cut to
    ``depth``; reserve documents among the candidates removed, cut to ``num_random``; positive scores per row and the
    lowest per anchor."""
    n_rows = len(plan.rows)
    positive_scores = np.asarray(out.pair_scores[:n_rows], dtype=np.float32)
    reserve = plan.reserve
    has = reserve.ravel() >= 0
    reserve_scores = np.full(reserve.shape, -np.inf, dtype=np.float32)
    reserve_scores.ravel()[has] = out.pair_scores[n_rows:]

    is_positive = row_isin(out.candidates, plan.positives)
    candidates, scores = compact(out.candidates, out.scores, ~is_positive & (out.candidates >= 0), depth, -np.inf)

    in_candidates = row_isin(reserve, candidates)
    random_c, random_s = compact(reserve, reserve_scores, (reserve >= 0) & ~in_candidates, num_random, -np.inf)

    min_positive = np.full(plan.num_queries, np.inf, dtype=np.float64)
    np.minimum.at(min_positive, plan.pair_queries[:n_rows], positive_scores.astype(np.float64))
    return AnchorShard(
        start=plan.start,
        stop=plan.stop,
        rows=plan.rows,
        candidates=candidates.astype(np.int32),
        scores=scores.astype(np.float32),
        positive_scores=positive_scores,
        random_candidates=random_c.astype(np.int32),
        random_scores=random_s.astype(np.float32),
        min_positive_scores=min_positive.astype(np.float32),
        positives_among_retrieved=int(is_positive.sum()),
    )


#: Above this many corpus ids per draw, reserves are drawn with replacement from a keyed stream (then deduplicated);
#: below it, each anchor gets a keyed random permutation of the whole corpus.
_PERMUTATION_FACTOR = 4
_PERMUTATION_CELLS = 1 << 22


def random_documents(
    query_keys: np.ndarray, seed: int, corpus_size: int, count: int, exclude: np.ndarray
) -> np.ndarray:
    """``[queries, count]`` distinct random corpus ids per query, none in the row's ``exclude``, ``-1``-padded.

    Keyed draws (:mod:`st_hardneg.keyed_random`): query ``i``'s ids depend on ``(seed, query_keys[i], corpus_size)``
    and its ``exclude`` row only. Small corpora use a keyed permutation of every id; large ones a keyed stream of
    ``2 * count + 16`` ids with replacement, deduplicated in order.
    """
    nq = len(query_keys)
    if count <= 0 or corpus_size == 0:
        return np.full((nq, max(count, 0)), -1, dtype=np.int64)
    base = combine(query_keys, np.uint64(seed), _FILL_SALT)
    if corpus_size <= _PERMUTATION_FACTOR * count + 64:
        width = min(corpus_size, count + exclude.shape[1])
        ids = np.empty((nq, width), dtype=np.int64)
        step = max(1, _PERMUTATION_CELLS // corpus_size)
        for start in range(0, nq, step):
            u = uniform(combine(base[start : start + step, None], np.arange(corpus_size, dtype=np.uint64)[None, :]))
            ids[start : start + step] = np.argsort(u, axis=1, kind="stable")[:, :width]
    else:
        draws = 2 * count + 16
        ids = (combine(base[:, None], np.arange(draws, dtype=np.uint64)[None, :]) % np.uint64(corpus_size)).astype(
            np.int64
        )
    order = np.argsort(ids, axis=1, kind="stable")
    sorted_ids = np.take_along_axis(ids, order, axis=1)
    dup_sorted = np.zeros_like(sorted_ids, dtype=bool)
    dup_sorted[:, 1:] = sorted_ids[:, 1:] == sorted_ids[:, :-1]
    duplicate = np.empty_like(dup_sorted)
    np.put_along_axis(duplicate, order, dup_sorted, axis=1)
    excluded = row_isin(ids, exclude)
    out, _ = compact(ids, np.zeros(ids.shape, np.float32), ~duplicate & ~excluded, count, 0.0)
    return out
