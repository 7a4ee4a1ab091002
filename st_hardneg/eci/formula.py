"""The ECI formula on plain numbers (Sinha et al., 2026, "ECI: Effective Contrastive Information").

.. math::

    \\mathrm{ECI} = \\ln(1 + |N|) \\cdot \\frac{2 S_n \\Delta'_{max}}{S_n + \\Delta'_{max}},
    \\qquad \\Delta'_{max} = \\max(0, \\mathrm{MaxSim}_p - \\mathrm{MaxSim}_n)

Eq. 1/10 (ECI), Eq. 7 (information capacity), Eq. 8 (harmonic efficiency) and Eq. 9 (the clamped margin).
No model, no dataset: everything here is arithmetic on floats, so the paper's tables can be checked directly.
"""

from __future__ import annotations

import math
from typing import Literal

__all__ = [
    "Efficiency",
    "arithmetic_efficiency",
    "effective_margin",
    "eci",
    "harmonic_efficiency",
    "information_capacity",
]

Efficiency = Literal["harmonic", "arithmetic"]


def information_capacity(num_negatives: float) -> float:
    """Information capacity ``ln(1 + |N|)`` (Eq. 7).

    Args:
        num_negatives: Number of negatives per query, ``|N|`` (a mean when queries differ).

    Returns:
        The natural log of ``1 + num_negatives``.

    Raises:
        ValueError: If ``num_negatives`` is negative.

    Examples:
        >>> round(information_capacity(50), 4)
        3.9318
    """
    if num_negatives < 0:
        raise ValueError(f"num_negatives must be >= 0, got {num_negatives}")
    return math.log1p(num_negatives)


def effective_margin(max_margin: float) -> float:
    """The effective margin ``max(0, MaxSim_p - MaxSim_n)`` (Eq. 9).

    Args:
        max_margin: The Max-Margin ``MaxSim_p - MaxSim_n``; negative when a negative outscores the positive.

    Returns:
        ``max_margin`` clamped at 0.
    """
    return max(0.0, float(max_margin))


def harmonic_efficiency(signal: float, max_margin: float) -> float:
    """Discriminative efficiency: the harmonic mean of signal and margin (Eq. 8).

    The margin is clamped at 0 first (Eq. 9), so a violated decision boundary gives an efficiency of 0. The
    harmonic mean is defined for non-negative rates; a negative signal (a mean similarity below 0, possible with
    cosine or with raw logits) is treated as no signal, 0, so the result is never negative.

    Args:
        signal: ``S_n``, the mean query-negative similarity.
        max_margin: ``MaxSim_p - MaxSim_n`` (clamped here).

    Returns:
        ``2 * S_n * D / (S_n + D)`` with ``D = max(0, max_margin)``; 0 when both are 0.

    Examples:
        >>> round(harmonic_efficiency(0.669, 0.112), 3)  # Table 4, BM25
        0.192
    """
    s = max(0.0, float(signal))
    d = effective_margin(max_margin)
    if s + d == 0.0:
        return 0.0
    return 2.0 * s * d / (s + d)


def arithmetic_efficiency(signal: float, max_margin: float) -> float:
    """The arithmetic-mean baseline of Table 5: ``(S_n + D) / 2`` with the same clamps as the harmonic mean.

    Args:
        signal: ``S_n``, the mean query-negative similarity (negative values count as 0).
        max_margin: ``MaxSim_p - MaxSim_n`` (clamped at 0).

    Returns:
        The arithmetic mean of the clamped signal and margin.
    """
    return (max(0.0, float(signal)) + effective_margin(max_margin)) / 2.0


def eci(
    num_negatives: float,
    signal: float,
    max_margin: float,
    *,
    efficiency: Efficiency = "harmonic",
) -> float:
    """Effective Contrastive Information from its three inputs (Eq. 10).

    Args:
        num_negatives: ``|N|``, negatives per query.
        signal: ``S_n``, the mean query-negative similarity.
        max_margin: ``MaxSim_p - MaxSim_n``; clamped at 0 (Eq. 9).
        efficiency: ``"harmonic"`` (the paper's ECI) or ``"arithmetic"`` (the Table 5 ablation baseline).

    Returns:
        ``ln(1 + |N|) * efficiency(S_n, max(0, Max-Margin))``.

    Raises:
        ValueError: On an unknown ``efficiency``.

    Examples:
        >>> round(eci(num_negatives=50, signal=0.577, max_margin=0.199), 2)  # Table 1, BM25
        1.16
        >>> round(eci(50, 0.577, 0.199, efficiency="arithmetic"), 2)  # Table 5, BM25 (printed 1.52)
        1.53
    """
    if efficiency == "harmonic":
        eff = harmonic_efficiency(signal, max_margin)
    elif efficiency == "arithmetic":
        eff = arithmetic_efficiency(signal, max_margin)
    else:
        raise ValueError(f"efficiency must be 'harmonic' or 'arithmetic', got {efficiency!r}")
    return information_capacity(num_negatives) * eff
