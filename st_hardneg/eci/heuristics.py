"""The training heuristics the paper compares ECI against (Section 7.4, Table 6).

- Average hardness: ``S_n``, the mean query-negative similarity.
- Estimated gradient norm (Eq. 11): ``G_est = sum_i exp(s_i / tau)``, approximately ``|N| * exp(S_n / tau)``.
- Estimated score variance (Eq. 12): ``sigma^2 = 0.5 * (S_max - S_n)^2``.

The paper reports that, unlike ECI, these correlate weakly or negatively with downstream nDCG@10 (Table 6); they
are here for that comparison, not as targets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

__all__ = [
    "DEFAULT_TEMPERATURE",
    "estimated_gradient_norm",
    "estimated_score_variance",
]

DEFAULT_TEMPERATURE = 0.05
"""``tau = 0.05``, i.e. ``scale = 20``, the default of sentence-transformers' MultipleNegativesRankingLoss (the
loss the paper trains with); the paper does not state its temperature."""


def estimated_gradient_norm(negative_scores: Sequence[ArrayLike], temperature: float = DEFAULT_TEMPERATURE) -> float:
    """Estimated gradient norm, the left side of Eq. 11, averaged over queries.

    ``G_est(q) = sum_{i in N(q)} exp(s_i / tau)``; the set's value is the mean over queries. Summed in log space,
    so only the final ``exp`` can overflow (to ``inf``, e.g. with unnormalised dot-product scores).

    Args:
        negative_scores: For each query, the scores of its negatives.
        temperature: The softmax temperature ``tau`` (> 0).

    Returns:
        The mean per-query ``G_est``.

    Raises:
        ValueError: If ``temperature <= 0``.

    Examples:
        >>> round(estimated_gradient_norm([[0.0, 0.0]], temperature=1.0), 6)
        2.0
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    # Vectorised log-sum-exp over the ragged per-query arrays (one reduceat, not one scipy call per query).
    arrays = [np.asarray(s, dtype=np.float64).ravel() / temperature for s in negative_scores]
    sizes = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
    if len(arrays) == 0 or (sizes == 0).any():
        log_norms = np.asarray([logsumexp(a) for a in arrays])
    else:
        flat = np.concatenate(arrays)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        peak = np.maximum.reduceat(flat, starts)
        log_norms = peak + np.log(np.add.reduceat(np.exp(flat - np.repeat(peak, sizes)), starts))
    with np.errstate(over="ignore"):
        return float(np.mean(np.exp(log_norms)))


def estimated_score_variance(signal: float, max_similarity: float) -> float:
    """Estimated score variance ``0.5 * (S_max - S_n)^2`` (Eq. 12).

    Args:
        signal: ``S_n``, the mean negative score.
        max_similarity: ``S_max``, the peak negative score (the report passes the mean over queries of the
            hardest negative's score, ``MaxSim_n``).

    Returns:
        The estimated variance.

    Examples:
        >>> round(estimated_score_variance(0.4, 0.6), 6)
        0.02
    """
    return 0.5 * (float(max_similarity) - float(signal)) ** 2
