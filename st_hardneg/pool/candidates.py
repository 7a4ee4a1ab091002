"""What a pool holds for each teacher: ranked candidates and scores (:class:`TeacherCandidates`), the deeper
candidates a selection may have found (:class:`CandidateExtension`), and the array helpers every layer above uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# The per-teacher arrays of a pool, as saved (``teacher_<i>/<name>.npy``) and as assembled from shards.
TEACHER_ARRAYS = (
    "candidates",
    "scores",
    "positive_scores",
    "random_candidates",
    "random_scores",
    "min_positive_scores",
)
# The arrays of a :class:`CandidateExtension`, saved as ``extension_<name>.npy``.
EXTENSION_ARRAYS = ("searched", "indptr", "candidates", "scores")


@dataclass
class CandidateExtension:
    """One teacher's candidates beyond the pool's depth for the anchors searched again.

    Attributes:
        searched: int64 ``[queries]`` how many non-positive candidates each anchor has been searched for, counted
            from rank 1 (the pool's depth for anchors never searched again).
        indptr: int64 ``[queries + 1]`` offsets of each anchor's extra candidates in ``candidates``.
        candidates: int32 ranked corpus ids after the anchor's pool candidates (positives and pool candidates
            removed), highest score first.
        scores: float32, aligned with ``candidates``.
    """

    searched: np.ndarray
    indptr: np.ndarray
    candidates: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls, queries: int, depth: int) -> CandidateExtension:
        return cls(
            searched=np.full(queries, depth, dtype=np.int64),
            indptr=np.zeros(queries + 1, dtype=np.int64),
            candidates=np.zeros(0, dtype=np.int32),
            scores=np.zeros(0, dtype=np.float32),
        )

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)

    def __len__(self) -> int:
        """Extra candidates stored over all anchors."""
        return len(self.candidates)

    def updated(
        self, queries: np.ndarray, depth: int, candidates: Sequence[np.ndarray], scores: Sequence[np.ndarray]
    ) -> CandidateExtension:
        """A copy where ``queries`` (distinct) have been searched to ``depth`` and hold the given extra candidates."""
        queries = np.asarray(queries, dtype=np.int64)
        old_lengths = self.lengths
        lengths = old_lengths.copy()
        lengths[queries] = [len(c) for c in candidates]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        updated = np.zeros(len(lengths), dtype=bool)
        updated[queries] = True
        out_c = np.empty(int(indptr[-1]), dtype=np.int32)
        out_s = np.empty(int(indptr[-1]), dtype=np.float32)
        keep_old, keep_new = np.repeat(~updated, old_lengths), np.repeat(~updated, lengths)
        out_c[keep_new], out_s[keep_new] = self.candidates[keep_old], self.scores[keep_old]
        order = np.argsort(queries, kind="stable")  # new segments are written in query order
        if len(queries):
            out_c[~keep_new] = np.concatenate([np.asarray(candidates[i], dtype=np.int32) for i in order])
            out_s[~keep_new] = np.concatenate([np.asarray(scores[i], dtype=np.float32) for i in order])
        searched = self.searched.copy()
        searched[queries] = np.maximum(searched[queries], depth)
        return CandidateExtension(searched=searched, indptr=indptr, candidates=out_c, scores=out_s)

    def gather(
        self, base_candidates: np.ndarray, base_scores: np.ndarray, queries: np.ndarray, width: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``[len(queries), width]`` ranked candidates and scores: the pool's, then the extra ones, ``-1``/``-inf``
        padded (``width`` at least the pool's depth)."""
        queries = np.asarray(queries, dtype=np.int64)
        depth = base_candidates.shape[1]
        cand = np.full((len(queries), width), -1, dtype=np.int64)
        scores = np.full((len(queries), width), -np.inf, dtype=np.float32)
        cand[:, :depth] = base_candidates[queries]
        scores[:, :depth] = base_scores[queries]
        extra = width - depth
        if extra > 0 and len(self.candidates):
            counts = np.minimum(self.lengths[queries], extra)
            col = np.arange(extra)
            mask = col[None, :] < counts[:, None]
            flat = (self.indptr[queries][:, None] + col[None, :])[mask]
            cand[:, depth:][mask] = self.candidates[flat]
            scores[:, depth:][mask] = self.scores[flat]
        return cand, scores


@dataclass
class TeacherCandidates:
    """One teacher's share of a pool.

    Attributes:
        name: the teacher's key.
        config: the teacher's provenance (``Teacher.config()``).
        candidates: int32 ``[queries, depth]`` corpus ids, highest score first, positives removed, ``-1``-padded.
        scores: float32 ``[queries, depth]``, ``-inf`` at padding.
        positive_scores: float32 ``[rows]``, the teacher's score of each row's (anchor, positive).
        min_positive_scores: float32 ``[queries]``, the lowest score among each anchor's positives.
        random_candidates: int32 ``[queries, R]`` random corpus ids outside the candidates and positives, used to
            fill short rows; ``-1``-padded.
        random_scores: float32 ``[queries, R]``.
        extension: candidates beyond ``depth`` found by ``on_short="deepen"`` for some anchors
            (:class:`CandidateExtension`), or None.
    """

    name: str
    config: dict[str, Any]
    candidates: np.ndarray
    scores: np.ndarray
    positive_scores: np.ndarray
    random_candidates: np.ndarray
    random_scores: np.ndarray
    min_positive_scores: np.ndarray
    extension: CandidateExtension | None = None

    @property
    def depth(self) -> int:
        """Candidates kept per anchor: the pool's depth (what ``depth`` means everywhere; a deeper search's
        widths are *levels*, :mod:`st_hardneg.select.deepening`)."""
        return int(self.candidates.shape[1])


def row_isin(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``out[i, j] = values[i, j] in pool[i]`` for ids >= 0 (``-1`` entries never match), without a 3-D array."""
    width = int(max(values.max(initial=-1), pool.max(initial=-1))) + 2
    rows_v = np.arange(len(values), dtype=np.int64)[:, None] * width
    rows_p = np.arange(len(pool), dtype=np.int64)[:, None] * width
    keys_p = (rows_p + pool)[pool >= 0]
    return np.isin(rows_v + values, keys_p) & (values >= 0)


def compact(ids: np.ndarray, scores: np.ndarray, keep: np.ndarray, width: int, fill: float):
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
