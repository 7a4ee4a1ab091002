"""Selecting negatives from a teacher's candidates: mining method, then sampler, then deepening short rows
(:func:`pick_negatives`), then filling or dropping the rows still short (:func:`finish_selection`). Ensembles
(:mod:`st_hardneg.ensembles`) combine several teachers' picks between the two steps.

Rows are processed in chunks of ``chunk_size``, so memory is bounded by ``chunk_size * depth`` whatever the
dataset size. Random draws are keyed by seed, row (anchor and positive text) and document
(:mod:`st_hardneg.keyed_random`), so a row's negatives do not depend on the chunking or on the other rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from st_hardneg.formatting.formatters import Selected
from st_hardneg.keyed_random import combine, gumbel
from st_hardneg.pool.candidates import TeacherCandidates, compact, row_isin
from st_hardneg.pool.statistics import ScoreSummary, SelectionStatistics
from st_hardneg.relabel.judgments import FILTERED, RELABELED
from st_hardneg.sampling.samplers import first_true
from st_hardneg.select.deepening import DeepeningPlan
from st_hardneg.select.duplicates import DuplicateGuard
from st_hardneg.select.existing import put_kept_first
from st_hardneg.select.rules import NegativeRule

logger = logging.getLogger(__name__)


def row_positive_scores(tc: TeacherCandidates, row_query: np.ndarray, mode: str) -> np.ndarray:
    """The positive score the methods compare against: the row's own, or the minimum over the anchor's positives."""
    if mode == "row":
        return np.asarray(tc.positive_scores)
    return np.asarray(tc.min_positive_scores)[row_query]


@dataclass
class Picks:
    """One teacher's picks for a set of rows, before short rows are filled.

    Attributes:
        negatives: int64 ``[rows, width]`` corpus ids, in rank order (or draw order), ``-1``-padded at the end.
        scores: float32 ``[rows, width]`` the teacher's scores of them, NaN at padding.
        statistics: the candidate counters (considered, removed by the method or ``min_score``, survivors).
    """

    negatives: np.ndarray
    scores: np.ndarray
    statistics: SelectionStatistics


def pick_negatives(
    tc: TeacherCandidates,
    row_query: np.ndarray,
    positive_scores: np.ndarray,
    *,
    rule: NegativeRule,
    row_keys: np.ndarray,
    num: int | None = None,
    draw_order: bool = False,
    judged: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    deepening: DeepeningPlan | None = None,
    duplicates: DuplicateGuard | None = None,
    chunk_size: int = 16384,
    show_progress: bool = True,
) -> Picks:
    """Apply the rule's method, ``min_score`` and sampler to every row's candidates under one teacher.

    This is the building block of every selection: a single-teacher selection fills and drops after it, an
    ensemble (:mod:`st_hardneg.ensembles`) combines several teachers' picks first.

    Args:
        row_keys: uint64 ``[rows]`` key of each row (seed, anchor, positive); the sampler's Gumbel noise for a
            candidate is keyed by the row's key and the document id, so a teacher draws the same negatives for a row
            alone or in an ensemble.
        num: how many to pick per row (default ``rule.num_negatives``).
        draw_order: picks in the sampler's draw order instead of rank order.
        judged: for a relabeled pool, ``judged(queries, candidates)`` gives each candidate's label code
            (:data:`st_hardneg.relabel.judgments.LABELS`, -1 when not judged); relabeled and filtered candidates
            are removed before the method, like positives (:mod:`st_hardneg.select.judged`), under every teacher.
        deepening: for ``on_short="deepen"``, the depth each short row selects at and the deeper candidates
            (:func:`~st_hardneg.select.deepening.plan_deepening`); those rows select again from their anchor's
            candidates down to that depth.
        duplicates: the duplicates of the positives to keep out (:mod:`st_hardneg.select.duplicates`), like
            positives: before the rules, the candidates after them moving up.
    """
    num = rule.num_negatives if num is None else num
    st = SelectionStatistics(rows_in=len(row_query))
    depth = tc.depth
    depths: dict[int, int] = {}
    if deepening is not None:
        st.anchors_searched = deepening.anchors_searched
    n = len(row_query)
    negatives = np.full((n, num), -1, dtype=np.int64)
    scores_out = np.full((n, num), np.nan, dtype=np.float32)
    for start in tqdm(range(0, n, chunk_size), desc="Selecting", disable=not show_progress or n <= chunk_size):
        rows = np.arange(start, min(start + chunk_size, n))
        q = row_query[rows]
        cand = np.asarray(tc.candidates[q]).astype(np.int64)
        scores = np.asarray(tc.scores[q]).astype(np.float32)
        valid = cand >= 0
        if judged is not None:  # relabeled positives and filtered passages leave the candidates, like positives
            out, relabeled, filtered = _judged_out(judged, q, cand)
            st.excluded_relabeled += relabeled
            st.excluded_filtered += filtered
            if out.any():
                cand, scores = compact(cand, scores, valid & ~out, cand.shape[1], -np.inf)
                scores = scores.astype(np.float32)
                valid = cand >= 0
        pos = positive_scores[rows]
        if duplicates is not None:  # copies of a positive leave the candidates, like positives
            exact, near = duplicates(q, cand, scores, pos)
            st.removed_duplicate_positive += int(exact.sum())
            st.removed_near_duplicate += int(near.sum())
            if (exact | near).any():
                cand, scores = compact(cand, scores, valid & ~(exact | near), cand.shape[1], -np.inf)
                scores = scores.astype(np.float32)
                valid = cand >= 0
        keep, removed, picks, neg, neg_s = _choose(rule, cand, scores, valid, pos, row_keys[rows], num, draw_order)
        for counter, count in removed.items():  # each rule's removals apart (st_hardneg.select.rules)
            setattr(st, counter, getattr(st, counter) + count)
        st.candidates_considered += int(valid.sum())
        st.survivors += int(keep.sum())
        have = (picks >= 0).sum(axis=1)
        short = have < num
        if deepening is not None:  # rows short at the pool's depth, before the deeper search
            st.rows_short += int(short.sum())
        if deepening is not None and short.any():
            deep = np.flatnonzero(short & (deepening.row_depth[rows] > 0))
            if len(deep):
                widths = deepening.row_depth[rows[deep]]
                d_cand, d_scores = deepening.extension.gather(tc.candidates, tc.scores, q[deep], int(widths.max()))
                d_valid = (d_cand >= 0) & (np.arange(d_cand.shape[1])[None, :] < widths[:, None])
                # rank of each candidate in the teacher's ranking (beyond the pool's depth: a deeper candidate)
                d_rank = np.broadcast_to(np.arange(d_cand.shape[1]), d_cand.shape)
                d_out = np.zeros(d_cand.shape, dtype=bool)
                if judged is not None:
                    d_out |= _judged_out(judged, q[deep], d_cand)[0]
                if duplicates is not None:
                    d_out |= np.logical_or(*duplicates(q[deep], d_cand, d_scores, pos[deep]))
                if d_out.any():  # as at the pool's depth: judged candidates and copies leave, the rest move up
                    d_valid &= ~d_out
                    d_cand, d_scores = compact(d_cand, d_scores, d_valid, d_cand.shape[1], -np.inf)
                    d_rank, _ = compact(d_rank, d_rank, d_valid, d_cand.shape[1], -1)
                    d_scores = d_scores.astype(np.float32)
                    d_valid = d_cand >= 0
                _, _, d_picks, neg[deep], neg_s[deep] = _choose(
                    rule, d_cand, d_scores, d_valid, pos[deep], row_keys[rows[deep]], num, draw_order
                )
                d_picked = d_picks >= 0
                beyond = d_picked & (np.take_along_axis(d_rank, np.where(d_picked, d_picks, 0), axis=1) >= depth)
                st.negatives_deepened += int(beyond.sum())
                st.rows_deepened += len(deep)
                for value, count in zip(*np.unique(widths, return_counts=True)):
                    depths[int(value)] = depths.get(int(value), 0) + int(count)
        negatives[rows] = neg
        scores_out[rows] = neg_s
    st.deepened_depths = {str(k): depths[k] for k in sorted(depths)}
    return Picks(negatives, scores_out, st)


def _judged_out(
    judged: Callable[[np.ndarray, np.ndarray], np.ndarray], queries: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, int, int]:
    """Which candidates a relabeled pool's judgments keep out (relabeled positives, filtered passages), and how many
    of each."""
    labels = judged(queries, candidates)
    relabeled, filtered = labels == RELABELED, labels == FILTERED
    return relabeled | filtered, int(relabeled.sum()), int(filtered.sum())


def _choose(
    rule: NegativeRule,
    cand: np.ndarray,
    scores: np.ndarray,
    valid: np.ndarray,
    pos: np.ndarray,
    keys: np.ndarray,
    num: int,
    draw_order: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rules (rank window, method, ``max_score``, ``min_score``: :class:`NegativeRule`) and the sampler on
    ranked candidates ``[rows, width]``.

    Returns:
        ``(keep, removed, picks, negatives, negative_scores)``: the survivors; each rule's removals counted
        (:data:`~st_hardneg.select.rules.RULE_COUNTERS`); the sampler's positions (``-1``-padded) and the picked ids
        and scores (NaN-padded).
    """
    outcome = rule.apply(scores, pos, valid)
    keep = outcome.keep
    sampler = rule.sampler
    noise = gumbel(combine(keys[:, None], cand.astype(np.uint64))) if sampler.random else None
    picks = sampler.pick(keep, scores, num, noise, pos, draw_order=draw_order)
    picked = picks >= 0
    safe = np.where(picked, picks, 0)
    neg = np.where(picked, np.take_along_axis(cand, safe, axis=1), -1)
    neg_s = np.where(picked, np.take_along_axis(scores, safe, axis=1), np.nan).astype(np.float32)
    return keep, outcome.counts(), picks, neg, neg_s


@dataclass
class FillSource:
    """Where short rows get random negatives: a teacher's fill reserve, under its method's bound.

    Attributes:
        tc: the teacher whose reserve (and scores) fill the rows.
        positive_scores: ``[rows]`` that teacher's positive score per row, for the method's bound.
        judged: a relabeled pool's judgments (see :func:`pick_negatives`): a reserve document a judge relabeled as a
            positive or filtered out never fills a row. A teacher's reserve lies outside its own candidates, but an
            ensemble fills from its first teacher's reserve, which may hold another teacher's judged candidates.
    """

    tc: TeacherCandidates
    positive_scores: np.ndarray
    judged: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    duplicates: DuplicateGuard | None = None


def select_negatives(
    tc: TeacherCandidates,
    row_query: np.ndarray,
    row_positive: np.ndarray,
    positive_scores: np.ndarray,
    *,
    rule: NegativeRule,
    row_keys: np.ndarray,
    judged: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    own_positive_scores: np.ndarray | None = None,
    deepening: DeepeningPlan | None = None,
    duplicates: DuplicateGuard | None = None,
    kept: tuple[np.ndarray, np.ndarray] | None = None,
    chunk_size: int = 16384,
    show_progress: bool = True,
) -> tuple[Selected, SelectionStatistics]:
    """Apply the rule's method and sampler to every row; deepen, fill, keep or drop the rows left short.

    Args:
        positive_scores: ``[rows]`` the positive score the method compares with (``SelectionSettings.positive_score``).
        row_keys: uint64 ``[rows]`` key of each row (seed, anchor, positive); the sampler's Gumbel noise for a
            candidate is keyed by the row's key and the document id.
        judged: the judgments of a relabeled pool (see :func:`pick_negatives`).
        own_positive_scores: ``[rows]`` each row's own positive score, which the selection reports whatever the
            method compared (default: ``tc.positive_scores``; a relabeled pool's extra rows bring theirs).
        deepening: the deeper search for short rows (``on_short="deepen"``, see :func:`pick_negatives`).
        kept: ``(ids, scores)`` ``[rows, m]`` existing negatives kept ahead of the mined ones
            (:mod:`st_hardneg.select.existing`), before short rows are filled.
    """
    picks = pick_negatives(
        tc,
        row_query,
        positive_scores,
        rule=rule,
        row_keys=row_keys,
        judged=judged,
        deepening=deepening,
        duplicates=duplicates,
        chunk_size=chunk_size,
        show_progress=show_progress,
    )
    if kept is not None:
        picks.negatives, picks.scores = put_kept_first(picks.negatives, picks.scores, *kept)
        picks.statistics.negatives_existing = int(row_isin(picks.negatives, kept[0]).sum())
    bits = (picks.negatives >= 0).astype(np.uint64)
    if kept is not None:
        bits[row_isin(picks.negatives, kept[0])] = 0  # chosen by the dataset, not by the teacher
    return finish_selection(
        picks.negatives,
        picks.scores,
        bits,
        picks.statistics,
        row_query=row_query,
        row_positive=row_positive,
        positive_scores=np.asarray(tc.positive_scores if own_positive_scores is None else own_positive_scores),
        fill=FillSource(tc, positive_scores, judged, duplicates),
        rule=rule,
        count_short=deepening is None,
        chunk_size=chunk_size,
    )


def finish_selection(
    negatives: np.ndarray,
    scores: np.ndarray,
    teacher_bits: np.ndarray,
    st: SelectionStatistics,
    *,
    row_query: np.ndarray,
    row_positive: np.ndarray,
    positive_scores: np.ndarray,
    fill: FillSource | None,
    rule: NegativeRule,
    count_short: bool = True,
    chunk_size: int = 16384,
) -> tuple[Selected, SelectionStatistics]:
    """Fill, keep or drop the rows short of their width, count, and gather the :class:`Selected` rows.

    Args:
        negatives: int64 ``[rows, width]`` picked negatives, valid entries first, ``-1``-padded; the width is the
            number of negatives a full row has (``num_negatives``, or more for ``ensemble="concat"``).
        scores: float32 ``[rows, width]``, NaN at padding.
        teacher_bits: uint64 ``[rows, width]``, bit ``t`` set when teacher ``t`` chose the negative (0 for padding
            and fill documents).
        st: the candidate counters so far (completed here).
        positive_scores: ``[rows]`` the positive scores the selection reports (each row's own).
        fill: the reserve short rows are filled from, with the positive scores its bound compares with
            (``None``: nothing is filled).
        count_short: count the rows short here (``False`` when :func:`pick_negatives` counted them at the pool's
            depth, before deepening).
    """
    negatives, scores, teacher_bits = negatives.copy(), scores.copy(), teacher_bits.copy()
    n, width = negatives.shape
    on_short, need_full_rows = rule.on_short, rule.full_rows
    have = (negatives >= 0).sum(axis=1)
    short = have < width
    # found beyond the pool's depth, or kept from the dataset: counted apart
    st.negatives_selected += int(have.sum()) - st.negatives_deepened - st.negatives_existing
    if count_short:
        st.rows_short += int(short.sum())
    if on_short in ("fill", "deepen") and short.any() and fill is not None:  # random fill: deepen's last resort
        rows = np.flatnonzero(short)
        for start in range(0, len(rows), chunk_size):
            r = rows[start : start + chunk_size]
            filled = _fill(
                fill.tc,
                row_query[r],
                fill.positive_scores[r],
                rule,
                negatives,
                scores,
                r,
                have[r],
                width,
                judged=fill.judged,
                duplicates=fill.duplicates,
            )
            st.negatives_filled += int(filled.sum())
            st.rows_filled += int((filled > 0).sum())
            have[r] += filled
    still_short = have < width
    drop = (have == 0) | (still_short & (need_full_rows or on_short == "drop"))
    st.rows_dropped += int(drop.sum())
    st.rows_kept_short += int((still_short & ~drop).sum())
    st.not_selected = max(st.survivors - st.negatives_selected, 0)
    kept = np.flatnonzero(~drop)
    selected = Selected(
        row_query=row_query[kept],
        row_positive=row_positive[kept],
        negatives=negatives[kept],
        positive_scores=positive_scores[kept],
        negative_scores=scores[kept].astype(np.float32),
        rows=kept,
        teacher_bits=teacher_bits[kept],
    )
    st.rows_out = len(kept)
    valid_out = selected.negatives >= 0
    st.positive_scores = ScoreSummary.of(selected.positive_scores)
    st.negative_scores = ScoreSummary.of(selected.negative_scores[valid_out])
    st.margins = ScoreSummary.of((selected.positive_scores[:, None] - selected.negative_scores)[valid_out])
    if st.rows_dropped:
        logger.warning(
            "%d of %d rows dropped: no negative survived, or short of %d negatives with %s (%d rows were short)",
            st.rows_dropped,
            n,
            width,
            "an n-tuple output" if need_full_rows else f"on_short={on_short!r}",
            st.rows_short,
        )
    return selected, st


def _fill(
    tc: TeacherCandidates,
    q: np.ndarray,
    pos: np.ndarray,
    rule: NegativeRule,
    neg: np.ndarray,
    neg_s: np.ndarray,
    rows: np.ndarray,
    have: np.ndarray,
    width: int,
    judged: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    duplicates: DuplicateGuard | None = None,
) -> np.ndarray:
    """Fill short ``rows`` of ``neg``/``neg_s`` in place with the anchor's random corpus negatives that obey the
    method's bound and the score band (``max_score``, ``min_score``), are not in the row already and, in a relabeled
    pool, were not judged a positive or filtered out.

    Returns the number of negatives added per row.
    """
    rc = np.asarray(tc.random_candidates[q]).astype(np.int64)
    rs = np.asarray(tc.random_scores[q])
    ok = (rc >= 0) & ~row_isin(rc, neg[rows])
    if judged is not None:
        ok &= ~_judged_out(judged, q, rc)[0]
    ok &= rule.score_bound(rs, pos)
    if duplicates is not None:  # a copy of a positive never fills a row
        ok &= ~np.logical_or(*duplicates(q, rc, rs, pos))
    need = width - have
    ok &= (np.cumsum(ok, axis=1) - 1) < need[:, None]
    take = first_true(ok, width)  # [rows, width] positions in the reserve, -1 padded
    count = (take >= 0).sum(axis=1)
    i, j = np.nonzero(take >= 0)
    slot = have[i] + j
    neg[rows[i], slot] = rc[i, take[i, j]]
    neg_s[rows[i], slot] = rs[i, take[i, j]]
    return count
