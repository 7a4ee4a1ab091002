"""Duplicates of the positive: a corpus may hold the same passage twice (another id, other whitespace or case, other
punctuation). Such a copy is the hardest "negative" there is, and a false one. It is treated like a positive: kept
out of the anchor's candidates before the rank window and the method (so the candidates after it move up, as after
a positive), out of the deeper candidates and out of the fill documents, and counted.

- exact duplicates (``exact_duplicates=True``, the default): a candidate whose text equals one of the anchor's
  positives after :func:`~st_hardneg.data.normalize.normalize_text`;
- near duplicates (``near_duplicates=EPSILON``, on request): a candidate the teacher scores within ``EPSILON`` of the
  positive score the method compares with (``|score - positive score| <= EPSILON``): cheap, and the teacher's own
  view of "the same passage".

A corpus in which no two documents share a normalised text has no exact duplicates: nothing changes there (the
guard is not even built), so pools and selections made before this rule select the same negatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from st_hardneg.data.normalize import normalize_texts
from st_hardneg.keyed_random import text_keys
from st_hardneg.pool.candidates import row_isin
from st_hardneg.pool.inputs import csr_matrix_rows

__all__ = ["DuplicateGuard", "duplicate_guard"]


@dataclass
class DuplicateGuard:
    """Finds the duplicates of an anchor's positives among candidates.

    Attributes:
        doc_groups: int64 ``[corpus]`` the same number for documents with the same normalised text, or None (exact
            duplicates off, or no two documents share a normalised text).
        positives_indptr / positives_indices: each anchor's positive documents (CSR).
        near: the score epsilon of near duplicates, or None.
    """

    doc_groups: np.ndarray | None
    positives_indptr: np.ndarray
    positives_indices: np.ndarray
    near: float | None

    def __call__(
        self, queries: np.ndarray, candidates: np.ndarray, scores: np.ndarray, positive_scores: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(exact, near)`` boolean masks ``[rows, width]`` of the candidates that duplicate a positive (a candidate
        that is both counts as exact)."""
        valid = candidates >= 0
        exact = np.zeros(candidates.shape, dtype=bool)
        if self.doc_groups is not None:
            positives = csr_matrix_rows(self.positives_indptr, self.positives_indices, np.asarray(queries))
            pos_groups = np.where(positives >= 0, self.doc_groups[np.maximum(positives, 0)], -1)
            cand_groups = np.where(valid, self.doc_groups[np.maximum(candidates, 0)], -1)
            exact = valid & row_isin(cand_groups, pos_groups)
        near = np.zeros(candidates.shape, dtype=bool)
        if self.near is not None:
            gap = np.abs(scores.astype(np.float64) - np.asarray(positive_scores, dtype=np.float64)[:, None])
            near = valid & ~exact & (gap <= self.near)
        return exact, near


def duplicate_guard(
    corpus: object,
    positives_indptr: np.ndarray,
    positives_indices: np.ndarray,
    *,
    exact: bool,
    near: float | None,
) -> DuplicateGuard | None:
    """The guard a selection applies, or None when it has nothing to do (exact duplicates off or impossible, and no
    near duplicates asked for). ``corpus``: the pool's document texts (an Arrow array or a list)."""
    groups = None
    if exact:
        texts = corpus.to_pylist() if hasattr(corpus, "to_pylist") else list(corpus)  # type: ignore[attr-defined]
        unique, groups = np.unique(text_keys(normalize_texts(texts)), return_inverse=True)
        if len(unique) == len(groups):  # no two documents share a normalised text
            groups = None
    if groups is None and near is None:
        return None
    groups = None if groups is None else groups.astype(np.int64)
    return DuplicateGuard(groups, np.asarray(positives_indptr), np.asarray(positives_indices), near)
