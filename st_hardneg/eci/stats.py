"""Per-query statistics from score arrays: the array layer under :func:`~st_hardneg.eci.compute_eci`.

A query contributes its positive scores and its negative scores (any lengths, at least one of each). From them:
``S_n`` per query (mean negative score), ``MaxSim_p`` (best positive), ``MaxSim_n`` (hardest negative) and the
margin ``MaxSim_p - MaxSim_n``. No model here; :mod:`~st_hardneg.eci.similarity` produces the scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["CLAMPS", "Clamp", "QueryStats", "aggregate_margin", "query_stats"]

Clamp = Literal["aggregate", "per_query"]
#: Where the margin's clamp at 0 (Eq. 9) may apply; see :func:`aggregate_margin`.
CLAMPS: tuple[Clamp, ...] = ("aggregate", "per_query")


@dataclass(frozen=True, eq=False)
class QueryStats:
    """Per-query arrays, one entry per query, in input order.

    Attributes:
        signal: Mean negative score of each query (its ``S_n``).
        max_sim_positive: Best positive score of each query (``MaxSim_p``).
        max_sim_negative: Hardest negative score of each query (``MaxSim_n``).
        margin: ``max_sim_positive - max_sim_negative``, not clamped (negative = a violated boundary).
        num_negatives: Number of negatives scored for each query (after any ``top_n`` cut).
        negative_scores: The negative scores kept for each query (ragged, a tuple of arrays).
    """

    signal: np.ndarray
    max_sim_positive: np.ndarray
    max_sim_negative: np.ndarray
    margin: np.ndarray
    num_negatives: np.ndarray
    negative_scores: tuple[np.ndarray, ...]

    def __len__(self) -> int:
        return len(self.signal)


def query_stats(
    positive_scores: Sequence[ArrayLike],
    negative_scores: Sequence[ArrayLike],
    *,
    top_n: int | None = None,
) -> QueryStats:
    """Compute per-query statistics from per-query score arrays.

    Args:
        positive_scores: For each query, the scores of its positives (at least one).
        negative_scores: For each query, the scores of its negatives (at least one).
        top_n: Keep only the ``top_n`` highest-scoring (hardest) negatives of each query, the fixed-N variant of
            the paper's Table 4. Queries with fewer negatives keep all of theirs. ``None`` keeps all.

    Returns:
        A :class:`QueryStats`.

    Raises:
        ValueError: If the two sequences differ in length, are empty, a query lacks positives or negatives, a
            score is not finite, or ``top_n < 1``.

    Examples:
        >>> stats = query_stats([[0.9]], [[0.5, 0.3, 0.1]])
        >>> float(stats.signal[0]), float(stats.margin[0])
        (0.3, 0.4)
    """
    if len(positive_scores) != len(negative_scores):
        raise ValueError(
            f"positive_scores has {len(positive_scores)} queries but negative_scores has {len(negative_scores)}"
        )
    if len(positive_scores) == 0:
        raise ValueError("no queries to score")
    if top_n is not None and top_n < 1:
        raise ValueError(f"top_n must be >= 1 or None, got {top_n}")

    signal, max_pos, max_neg, counts, kept = [], [], [], [], []
    for i, (pos, neg) in enumerate(zip(positive_scores, negative_scores, strict=True)):
        pos_arr = np.asarray(pos, dtype=np.float64).reshape(-1)
        neg_arr = np.asarray(neg, dtype=np.float64).reshape(-1)
        if pos_arr.size == 0 or neg_arr.size == 0:
            raise ValueError(f"query {i} needs at least one positive and one negative score")
        if not (np.isfinite(pos_arr).all() and np.isfinite(neg_arr).all()):
            raise ValueError(f"query {i} has a non-finite score")
        if top_n is not None and neg_arr.size > top_n:
            neg_arr = np.sort(neg_arr)[::-1][:top_n]
        signal.append(neg_arr.mean())
        max_pos.append(pos_arr.max())
        max_neg.append(neg_arr.max())
        counts.append(neg_arr.size)
        kept.append(neg_arr)

    max_pos_arr = np.asarray(max_pos)
    max_neg_arr = np.asarray(max_neg)
    return QueryStats(
        signal=np.asarray(signal),
        max_sim_positive=max_pos_arr,
        max_sim_negative=max_neg_arr,
        margin=max_pos_arr - max_neg_arr,
        num_negatives=np.asarray(counts, dtype=np.int64),
        negative_scores=tuple(kept),
    )


def aggregate_margin(margin: ArrayLike, clamp: Clamp = "aggregate") -> float:
    """Aggregate per-query margins into the set's effective Max-Margin ``Delta'_max`` (Eq. 9).

    The paper prints one Max-Margin per set and clamps it at 0 without saying whether the clamp comes before or
    after averaging over queries. Both are offered:

    - ``"aggregate"`` (default): ``max(0, mean(margin))``. The mean of ``MaxSim_p - MaxSim_n`` equals
      ``mean(MaxSim_p) - mean(MaxSim_n)``, the set-level quantity the paper's Eq. 8-9 are written on; a query
      whose hardest negative outscores its positive subtracts from the mean in proportion to the violation.
    - ``"per_query"``: ``mean(max(0, margin))``. Each violated query counts as 0, however large the violation,
      so this is the more lenient of the two (it is always >= the default).

    Args:
        margin: Per-query ``MaxSim_p - MaxSim_n``, not clamped.
        clamp: Where the clamp at 0 applies, ``"aggregate"`` or ``"per_query"``.

    Returns:
        The effective Max-Margin, >= 0.

    Raises:
        ValueError: On an unknown ``clamp`` or an empty input.

    Examples:
        >>> round(aggregate_margin([0.4, 0.1, -0.2]), 6)
        0.1
        >>> round(aggregate_margin([0.4, 0.1, -0.2], clamp="per_query"), 6)
        0.166667
    """
    arr = np.asarray(margin, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("no margins to aggregate")
    if clamp == "aggregate":
        return max(0.0, float(arr.mean()))
    if clamp == "per_query":
        return float(np.maximum(arr, 0.0).mean())
    raise ValueError(f"clamp must be 'aggregate' or 'per_query', got {clamp!r}")
