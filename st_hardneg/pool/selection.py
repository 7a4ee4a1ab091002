"""Selecting negatives from a teacher's candidates: mining method, then sampler, then filling or dropping short rows.

Rows are processed in chunks of ``chunk_size``, so memory is bounded by ``chunk_size * depth`` whatever the
dataset size. Random draws are keyed by seed, row (anchor and positive text) and document
(:mod:`st_hardneg.keyed_random`), so a row's negatives do not depend on the chunking or on the other rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

from st_hardneg.filters.methods import MiningMethod
from st_hardneg.formatting.formatters import Selected
from st_hardneg.keyed_random import combine, gumbel
from st_hardneg.pool.building import TeacherCandidates, compact, row_isin
from st_hardneg.pool.deepening import DeepeningPlan
from st_hardneg.pool.statistics import ScoreSummary, SelectionStatistics
from st_hardneg.relabel.judgments import FILTERED, RELABELED
from st_hardneg.sampling.samplers import first_true
from st_hardneg.settings.selection import SelectionSettings

logger = logging.getLogger(__name__)


def row_positive_scores(tc: TeacherCandidates, row_query: np.ndarray, mode: str) -> np.ndarray:
    """The positive score the methods compare against: the row's own, or the minimum over the anchor's positives."""
    if mode == "row":
        return np.asarray(tc.positive_scores)
    return np.asarray(tc.min_positive_scores)[row_query]


def select_negatives(
    tc: TeacherCandidates,
    row_query: np.ndarray,
    row_positive: np.ndarray,
    positive_scores: np.ndarray,
    *,
    settings: SelectionSettings,
    row_keys: np.ndarray,
    deepening: DeepeningPlan | None = None,
    chunk_size: int = 16384,
    show_progress: bool = True,
    judged: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    own_positive_scores: np.ndarray | None = None,
) -> tuple[Selected, SelectionStatistics]:
    """Apply the settings' method and sampler to every row; deepen, fill, keep or drop the rows left short.

    Args:
        row_keys: uint64 ``[rows]`` key of each row (seed, anchor, positive); the sampler's Gumbel noise for a
            candidate is keyed by the row's key and the document id.
        deepening: for ``on_short="deepen"``, the depth each short row selects at and the deeper candidates
            (:func:`~st_hardneg.pool.deepening.plan_deepening`); those rows select again from their anchor's
            candidates down to that depth.
        judged: for a relabeled pool, ``judged(queries, candidates)`` gives each candidate's label code
            (:data:`st_hardneg.relabel.judgments.LABELS`, -1 when not judged); relabeled and filtered candidates
            are removed before the method, like positives (:mod:`st_hardneg.pool.judged`).
        own_positive_scores: ``[rows]`` each row's own positive score, reported in the output; default the
            teacher's ``positive_scores`` (a relabeled pool's extra rows bring theirs).
    """
    method: MiningMethod = settings.method
    num_negatives, on_short, min_score = settings.num_negatives, settings.on_short, settings.min_score
    need_full_rows = settings.output_format == "n-tuple"
    st = SelectionStatistics(rows_in=len(row_query))
    depth = tc.candidates.shape[1]
    depths: dict[int, int] = {}
    if deepening is not None:
        st.anchors_searched = deepening.anchors_searched
    kept_rows, negs, neg_scores = [], [], []
    n = len(row_query)
    for start in tqdm(range(0, n, chunk_size), desc="Selecting", disable=not show_progress or n <= chunk_size):
        rows = np.arange(start, min(start + chunk_size, n))
        q = row_query[rows]
        cand = tc.candidates[q].astype(np.int64)
        scores = tc.scores[q].astype(np.float32)
        valid = cand >= 0
        if judged is not None:  # relabeled positives and filtered passages leave the candidates, like positives
            labels = judged(q, cand)
            relabeled, filtered = labels == RELABELED, labels == FILTERED
            st.excluded_relabeled += int(relabeled.sum())
            st.excluded_filtered += int(filtered.sum())
            if (relabeled | filtered).any():
                cand, scores = compact(cand, scores, valid & ~relabeled & ~filtered, cand.shape[1], -np.inf)
                scores = scores.astype(np.float32)
                valid = cand >= 0
        pos = positive_scores[rows]
        keep, easy, picks, neg, neg_s = _choose(settings, cand, scores, valid, pos, row_keys[rows])
        st.removed_by_method += int((valid & ~(keep | easy)).sum())
        st.removed_below_min_score += int(easy.sum())
        picked = picks >= 0

        have = picked.sum(axis=1)
        short = have < num_negatives
        st.candidates_considered += int(valid.sum())
        st.survivors += int(keep.sum())
        st.negatives_selected += int(have.sum())
        st.rows_short += int(short.sum())

        if deepening is not None and short.any():
            deep = np.flatnonzero(short & (deepening.row_depth[rows] > 0))
            if len(deep):
                widths = deepening.row_depth[rows[deep]]
                d_cand, d_scores = deepening.extension.gather(tc.candidates, tc.scores, q[deep], int(widths.max()))
                d_valid = (d_cand >= 0) & (np.arange(d_cand.shape[1])[None, :] < widths[:, None])
                # rank of each candidate in the teacher's ranking (beyond the pool's depth: a deeper candidate)
                d_rank = np.broadcast_to(np.arange(d_cand.shape[1]), d_cand.shape)
                if judged is not None:  # as at the pool's depth: judged candidates leave, the rest move up
                    labels = judged(q[deep], d_cand)
                    d_valid &= (labels != RELABELED) & (labels != FILTERED)
                    d_cand, d_scores = compact(d_cand, d_scores, d_valid, d_cand.shape[1], -np.inf)
                    d_rank, _ = compact(d_rank, d_rank, d_valid, d_cand.shape[1], -1)
                    d_scores = d_scores.astype(np.float32)
                    d_valid = d_cand >= 0
                _, _, d_picks, neg[deep], neg_s[deep] = _choose(
                    settings, d_cand, d_scores, d_valid, pos[deep], row_keys[rows[deep]]
                )
                d_picked = d_picks >= 0
                beyond = d_picked & (np.take_along_axis(d_rank, np.where(d_picked, d_picks, 0), axis=1) >= depth)
                st.negatives_selected += int((d_picked & ~beyond).sum() - have[deep].sum())
                st.negatives_deepened += int(beyond.sum())
                st.rows_deepened += len(deep)
                have[deep] = d_picked.sum(axis=1)
                for value, count in zip(*np.unique(widths, return_counts=True)):
                    depths[int(value)] = depths.get(int(value), 0) + int(count)

        if on_short in ("fill", "deepen") and (have < num_negatives).any():
            filled = _fill(tc, q, pos, method, min_score, neg, neg_s, have, num_negatives)
            st.negatives_filled += int(filled.sum())
            st.rows_filled += int((filled > 0).sum())
            have = have + filled
        still_short = have < num_negatives
        drop = (have == 0) | (still_short & (need_full_rows or on_short == "drop"))
        st.rows_dropped += int(drop.sum())
        st.rows_kept_short += int((still_short & ~drop).sum())
        kept_rows.append(rows[~drop])
        negs.append(neg[~drop])
        neg_scores.append(neg_s[~drop])

    st.not_selected = st.survivors - st.negatives_selected
    st.deepened_depths = {str(k): depths[k] for k in sorted(depths)}
    kept = np.concatenate(kept_rows) if kept_rows else np.zeros(0, np.int64)
    negatives = np.concatenate(negs) if negs else np.zeros((0, num_negatives), np.int64)
    negative_scores = np.concatenate(neg_scores) if neg_scores else np.zeros((0, num_negatives), np.float32)
    selected = Selected(
        row_query=row_query[kept],
        row_positive=row_positive[kept],
        negatives=negatives,
        positive_scores=np.asarray(tc.positive_scores if own_positive_scores is None else own_positive_scores)[kept],
        negative_scores=negative_scores,
    )
    st.rows_out = len(kept)
    valid_out = negatives >= 0
    st.positive_scores = ScoreSummary.of(selected.positive_scores)
    st.negative_scores = ScoreSummary.of(negative_scores[valid_out])
    st.margins = ScoreSummary.of((selected.positive_scores[:, None] - negative_scores)[valid_out])
    if st.rows_dropped:
        logger.warning(
            "%d of %d rows dropped: no negative survived, or short of %d negatives with %s (%d rows were short)",
            st.rows_dropped,
            n,
            num_negatives,
            "an n-tuple output" if need_full_rows else f"on_short={on_short!r}",
            st.rows_short,
        )
    return selected, st


def _choose(
    settings: SelectionSettings,
    cand: np.ndarray,
    scores: np.ndarray,
    valid: np.ndarray,
    pos: np.ndarray,
    keys: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The method, ``min_score`` and the sampler on ranked candidates ``[rows, width]``.

    Returns:
        ``(keep, easy, picks, negatives, negative_scores)``: the survivors; the method's survivors that
        ``min_score`` removed; the sampler's positions (``-1``-padded) and the picked ids and scores.
    """
    keep = settings.method.keep(scores, pos, valid)
    easy = np.zeros_like(keep)
    if settings.min_score is not None:
        easy = keep & (scores < np.float64(settings.min_score))  # float64, as the methods compare
        keep &= ~easy
    sampler = settings.sampler
    noise = gumbel(combine(keys[:, None], cand.astype(np.uint64))) if sampler.random else None
    picks = sampler.pick(keep, scores, settings.num_negatives, noise)
    picked = picks >= 0
    safe = np.where(picked, picks, 0)
    neg = np.where(picked, np.take_along_axis(cand, safe, axis=1), -1)
    neg_s = np.where(picked, np.take_along_axis(scores, safe, axis=1), np.nan).astype(np.float32)
    return keep, easy, picks, neg, neg_s


def _fill(
    tc: TeacherCandidates,
    q: np.ndarray,
    pos: np.ndarray,
    method: MiningMethod,
    min_score: float | None,
    neg: np.ndarray,
    neg_s: np.ndarray,
    have: np.ndarray,
    num_negatives: int,
) -> np.ndarray:
    """Fill short rows in place with the anchor's random corpus negatives that obey the method's bound (and
    ``min_score``).

    Returns the number of negatives added per row.
    """
    rc = tc.random_candidates[q].astype(np.int64)
    rs = tc.random_scores[q]
    ok = (rc >= 0) & ~row_isin(rc, neg)  # a deepened row may already hold one of its reserve documents
    limit = method.threshold(pos)
    if limit is not None:
        ok &= rs <= limit[:, None]
    if min_score is not None:
        ok &= rs >= np.float64(min_score)
    need = num_negatives - have
    ok &= (np.cumsum(ok, axis=1) - 1) < need[:, None]
    take = first_true(ok, num_negatives)  # [rows, num_negatives] positions in the reserve, -1 padded
    count = (take >= 0).sum(axis=1)
    rows, j = np.nonzero(take >= 0)
    slot = have[rows] + j
    neg[rows, slot] = rc[rows, take[rows, j]]
    neg_s[rows, slot] = rs[rows, take[rows, j]]
    return count
