"""Adaptive depth (``on_short="deepen"``): rows short of negatives after the mining method are searched again,
deeper, for their own anchor only, so they get the hardest documents that obey the method's bound rather than
random ones.

A row is *short* when fewer than ``num_negatives`` of its anchor's pool candidates survive the mining method (and
``min_score``). Its anchor is searched again at twice the pool's depth, then four times, ... up to ``max_depth`` (or
the whole corpus); the row selects at the first of those depths where it has ``num_negatives`` survivors (or at the
last one). The levels are the same for every row (``depth * 2**j``, capped at the limit), and a row's level depends
only on the row, so its negatives do not depend on which other rows were deepened with it: the same rows come from
every entry point and batch size. Rows still short at the limit fall back to random fill (``"fill"``'s reserve).

The extra candidates come back with the selection (:class:`~st_hardneg.pool.candidates.CandidateExtension`);
``pool.keep_deepened(selection)`` keeps them in the pool (saved with it), so later selections reuse them and only
anchors not yet searched deep enough are searched again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from st_hardneg.pool.candidates import CandidateExtension, compact, row_isin
from st_hardneg.relabel.judgments import FILTERED, RELABELED
from st_hardneg.select.rules import NegativeRule

logger = logging.getLogger(__name__)

__all__ = ["DeepeningPlan", "deepening_levels", "plan_deepening", "survivor_counts"]


def deepening_levels(depth: int, limit: int) -> list[int]:
    """The depths searched in turn: ``2 * depth``, ``4 * depth``, ... capped at ``limit`` (which is always last).

    Examples:
        >>> deepening_levels(100, 5183)
        [200, 400, 800, 1600, 3200, 5183]
        >>> deepening_levels(100, 300), deepening_levels(100, 100)
        ([200, 300], [])
    """
    levels, level = [], depth
    while level < limit:
        level = min(2 * level, limit)
        levels.append(level)
    return levels


def survivor_counts(
    rule: NegativeRule,
    candidates: np.ndarray,
    scores: np.ndarray,
    positive_scores: np.ndarray,
    widths: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
) -> np.ndarray:
    """How many of each row's candidates survive the rules (rank window, method, score band) within the row's
    ``widths`` (``excluded``: candidates a relabeled pool keeps out, which never survive)."""
    valid = candidates >= 0
    if excluded is not None:
        valid &= ~excluded
    if widths is not None:
        valid &= np.arange(candidates.shape[1])[None, :] < np.asarray(widths)[:, None]
    return rule.apply(scores, positive_scores, valid).keep.sum(axis=1)


@dataclass
class DeepeningPlan:
    """At which depth each row selects, and what the teacher searched for it.

    Attributes:
        row_depth: int64 ``[rows]`` the depth a deepened row selects at; 0 for rows not short at the pool's depth.
        extension: the teacher's extension after the searches (to store in the pool).
        anchors_searched: anchors the teacher searched again for this plan (0 when stored candidates sufficed).
    """

    row_depth: np.ndarray
    extension: CandidateExtension
    anchors_searched: int


def plan_deepening(
    base_candidates: np.ndarray,
    base_scores: np.ndarray,
    extension: CandidateExtension,
    row_query: np.ndarray,
    positive_scores: np.ndarray,
    *,
    rule: NegativeRule,
    num_negatives: int,
    limit: int,
    search: Callable[[np.ndarray, int], tuple[list[np.ndarray], list[np.ndarray]]] | None,
    teacher: str = "",
    judged: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    duplicates: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None,
    chunk_size: int = 16384,
) -> DeepeningPlan:
    """Find the short rows and the depth each selects at, searching their anchors deeper where needed.

    Args:
        base_candidates / base_scores: the pool's ``[queries, depth]`` candidates and scores of the teacher.
        extension: the teacher's stored extra candidates.
        row_query / positive_scores: per row, its anchor and the positive score the method compares with.
        limit: the deepest search (``max_depth``, or the corpus size).
        search: ``search(queries, depth) -> (extra candidates, extra scores)`` per query (beyond the pool's
            candidates, positives removed); None when the pool has no index for this teacher (then a search that is
            needed raises ``ValueError`` before anything is searched).
        teacher: the teacher's name, for that message.
        judged: a relabeled pool's ``judged(queries, candidates)`` label lookup
            (:class:`~st_hardneg.relabel.judgments.JudgmentLookup`): relabeled and filtered candidates are not
            survivors, as in the selection.
        duplicates: the guard against copies of the positives (:mod:`st_hardneg.select.duplicates`): they are not
            survivors either.
    """
    depth = base_candidates.shape[1]
    n = len(row_query)
    counts = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk_size):
        q = row_query[start : start + chunk_size]
        cand = np.asarray(base_candidates[q])
        pos = positive_scores[start : start + chunk_size]
        counts[start : start + chunk_size] = survivor_counts(
            rule, cand, base_scores[q], pos, excluded=_excluded(judged, q, cand, base_scores[q], pos, duplicates)
        )
    pending = np.flatnonzero(counts < num_negatives)
    row_depth = np.zeros(n, dtype=np.int64)
    # An anchor whose pool candidates are padded has no more documents to offer (the whole corpus is in the pool).
    base_count = (base_candidates >= 0).sum(axis=1)
    searched_any = np.zeros(len(base_candidates), dtype=bool)

    def complete(queries: np.ndarray) -> np.ndarray:
        """Whether every candidate of these anchors is known (the last search returned fewer than asked)."""
        return (base_count[queries] < depth) | (depth + extension.lengths[queries] < extension.searched[queries])

    for level in deepening_levels(depth, limit):
        if not len(pending):
            break
        queries = np.unique(row_query[pending])
        need = queries[(extension.searched[queries] < level) & ~complete(queries)]
        if len(need):
            if search is None:
                raise ValueError(
                    f"on_short='deepen' needs teacher {teacher!r} to search {len(need)} anchors deeper, and this "
                    "pool holds no index for it (a pool loaded from disk): call pool.attach_teacher(teacher) first, "
                    "or load it with CandidatePool.load(path, teachers=[teacher]) (a DenseTeacher with the "
                    "cache_folder used at build re-indexes without encoding), or use on_short='fill' or 'drop'"
                )
            candidates, scores = search(need, level)
            extension = extension.updated(need, level, candidates, scores)
            searched_any[need] = True
        cand, sc = extension.gather(base_candidates, base_scores, row_query[pending], level)
        excluded = _excluded(judged, row_query[pending], cand, sc, positive_scores[pending], duplicates)
        got = survivor_counts(rule, cand, sc, positive_scores[pending], excluded=excluded)
        row_depth[pending] = level  # the last level looked at, for rows that stay short
        pending = pending[got < num_negatives]
        queries = np.unique(row_query[pending])
        beyond = base_count[queries] + extension.lengths[queries] > level
        if (complete(queries) & ~beyond).all():  # no short row's anchor has anything deeper to offer
            break
    return DeepeningPlan(row_depth=row_depth, extension=extension, anchors_searched=int(searched_any.sum()))


def _excluded(
    judged: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
    queries: np.ndarray,
    candidates: np.ndarray,
    scores: np.ndarray,
    positive_scores: np.ndarray,
    duplicates: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None,
) -> np.ndarray | None:
    """The candidates kept out of the negatives: a relabeled pool's relabeled positives and filtered passages,
    and copies of the positives."""
    out = None
    if judged is not None:
        labels = judged(np.asarray(queries), candidates)
        out = (labels == RELABELED) | (labels == FILTERED)
    if duplicates is not None:
        copies = np.logical_or(*duplicates(np.asarray(queries), candidates, scores, positive_scores))
        out = copies if out is None else out | copies
    return out


def extra_candidates(
    search: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]],
    queries: np.ndarray,
    depth: int,
    base_candidates: np.ndarray,
    positives: np.ndarray,
    corpus_size: int,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Search ``queries`` to ``depth`` non-positive candidates and keep those after the pool's ones.

    Args:
        search: ``search(queries, k) -> (candidates [q, k], scores [q, k])``, the teacher index's ranking.
        base_candidates: ``[queries, pool depth]`` the pool's candidates of these queries.
        positives: ``[queries, max positives]`` their positive documents, ``-1``-padded.
    """
    k = min(depth + positives.shape[1], corpus_size)
    cand, scores = search(queries, k)
    keep = (cand >= 0) & ~row_isin(cand, positives) & ~row_isin(cand, base_candidates)
    extra = depth - base_candidates.shape[1]
    cand, scores = compact(cand, scores, keep, extra, -np.inf)
    lengths = (cand >= 0).sum(axis=1)
    return (
        [cand[i, : lengths[i]].astype(np.int32) for i in range(len(queries))],
        [scores[i, : lengths[i]].astype(np.float32) for i in range(len(queries))],
    )
