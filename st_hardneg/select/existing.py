"""Existing negatives kept ahead of the mined ones (``existing_negatives="keep"`` at build): each row's own
negatives, as the dataset gave them (unfiltered by the rules), come first; the mined negatives follow, without the
documents already kept, up to the row's width."""

from __future__ import annotations

from typing import Any

import numpy as np

from st_hardneg.pool.candidates import compact, row_isin

__all__ = ["kept_negatives", "put_kept_first"]


def kept_negatives(config: dict[str, Any], teacher: str, rows: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(ids, scores)`` ``[rows, m]`` of the existing negatives a pool kept (``-1`` / NaN padded; rows beyond the
    pool's own, such as a relabeled pool's extra rows, have none), or None when the pool kept none."""
    kept = config.get("existing_negatives")
    if not kept:
        return None
    ids, scores = kept["ids"], kept["scores"][teacher]
    width = max((len(r) for r in ids), default=0)
    out = np.full((rows, max(width, 1)), -1, dtype=np.int64)
    out_scores = np.full(out.shape, np.nan, dtype=np.float32)
    for r, (docs, values) in enumerate(zip(ids, scores)):
        out[r, : len(docs)], out_scores[r, : len(docs)] = docs, values
    return out, out_scores


def put_kept_first(
    negatives: np.ndarray, scores: np.ndarray, kept: np.ndarray, kept_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's kept negatives, then its mined ones not kept already, cut to the width of ``negatives``."""
    mined_ok = (negatives >= 0) & ~row_isin(negatives, kept)
    ids = np.concatenate([kept, negatives], axis=1)
    values = np.concatenate([kept_scores, scores], axis=1)
    return compact(ids, values, np.concatenate([kept >= 0, mined_ok], axis=1), negatives.shape[1], np.nan)
