"""The ECI report: set-level figures, how they were aggregated, and the per-query arrays behind them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from st_hardneg.eci.formula import (
    arithmetic_efficiency,
    harmonic_efficiency,
    information_capacity,
)
from st_hardneg.eci.heuristics import (
    DEFAULT_TEMPERATURE,
    estimated_gradient_norm,
    estimated_score_variance,
)
from st_hardneg.eci.stats import Clamp, QueryStats, aggregate_margin

__all__ = ["ECIReport"]

# ECI and its parts: what evaluators and callbacks log (heuristics and per-query arrays stay in the report).
_METRIC_FIELDS = (
    "eci",
    "num_negatives",
    "signal",
    "max_margin",
    "harmonic_efficiency",
    "information_capacity",
    "max_sim_positive",
    "max_sim_negative",
    "violation_rate",
)


@dataclass(frozen=True, eq=False)
class ECIReport:
    """ECI of one hard-negative set, with its parts (Eq. 10) and the Table 6 heuristics.

    Aggregation: ``signal`` is the mean over queries of each query's mean negative score (each query weighs the
    same, as in the margin); ``num_negatives`` is the mean count per query; ``max_margin`` is the effective
    (clamped) Max-Margin, aggregated as ``clamp`` says (see :func:`~st_hardneg.eci.stats.aggregate_margin`).

    Attributes:
        eci: ``information_capacity * harmonic_efficiency``.
        num_negatives: ``|N|``, mean negatives per query.
        signal: ``S_n``, the average hardness.
        max_margin: ``Delta'_max``, the effective Max-Margin (>= 0).
        harmonic_efficiency: ``2 S_n Delta' / (S_n + Delta')`` (Eq. 8).
        information_capacity: ``ln(1 + |N|)`` (Eq. 7).
        mean_margin: Mean of the per-query ``MaxSim_p - MaxSim_n`` before any clamp.
        max_sim_positive: Mean over queries of the best positive score (``MaxSim_p``).
        max_sim_negative: Mean over queries of the hardest negative score (``MaxSim_n``).
        violation_rate: Share of queries whose hardest negative scores at least as high as their best positive.
        eci_arithmetic: The Table 5 ablation: capacity times the arithmetic mean of signal and margin.
        gradient_norm: Estimated gradient norm (Eq. 11), mean over queries of ``sum_i exp(s_i / tau)``.
        score_variance: Estimated score variance (Eq. 12), ``0.5 * (max_sim_negative - signal)^2``.
        temperature: The ``tau`` used for ``gradient_norm``.
        clamp: Where the margin's clamp at 0 was applied, ``"aggregate"`` or ``"per_query"``.
        top_n: The fixed-N cut (Table 4) applied to each query's negatives, or ``None``.
        num_queries: Number of queries scored.
        per_query: The per-query arrays (:class:`~st_hardneg.eci.stats.QueryStats`).
    """

    eci: float
    num_negatives: float
    signal: float
    max_margin: float
    harmonic_efficiency: float
    information_capacity: float
    mean_margin: float
    max_sim_positive: float
    max_sim_negative: float
    violation_rate: float
    eci_arithmetic: float
    gradient_norm: float
    score_variance: float
    temperature: float
    clamp: Clamp
    top_n: int | None
    num_queries: int
    per_query: QueryStats

    @classmethod
    def from_stats(
        cls,
        stats: QueryStats,
        *,
        clamp: Clamp = "aggregate",
        temperature: float = DEFAULT_TEMPERATURE,
        top_n: int | None = None,
    ) -> ECIReport:
        """Aggregate per-query statistics into a report.

        Args:
            stats: Per-query arrays from :func:`~st_hardneg.eci.stats.query_stats`.
            clamp: ``"aggregate"`` (default) or ``"per_query"``; see
                :func:`~st_hardneg.eci.stats.aggregate_margin`.
            temperature: ``tau`` for the estimated gradient norm.
            top_n: The cut already applied to ``stats`` (recorded, not applied again).

        Returns:
            The report.
        """
        num_negatives = float(stats.num_negatives.mean())
        signal = float(stats.signal.mean())
        max_margin = aggregate_margin(stats.margin, clamp)
        capacity = information_capacity(num_negatives)
        efficiency = harmonic_efficiency(signal, max_margin)
        max_sim_negative = float(stats.max_sim_negative.mean())
        return cls(
            eci=capacity * efficiency,
            num_negatives=num_negatives,
            signal=signal,
            max_margin=max_margin,
            harmonic_efficiency=efficiency,
            information_capacity=capacity,
            mean_margin=float(stats.margin.mean()),
            max_sim_positive=float(stats.max_sim_positive.mean()),
            max_sim_negative=max_sim_negative,
            violation_rate=float((stats.margin <= 0).mean()),
            eci_arithmetic=capacity * arithmetic_efficiency(signal, max_margin),
            gradient_norm=estimated_gradient_norm(stats.negative_scores, temperature),
            score_variance=estimated_score_variance(signal, max_sim_negative),
            temperature=temperature,
            clamp=clamp,
            top_n=top_n,
            num_queries=len(stats),
            per_query=stats,
        )

    @property
    def avg_hardness(self) -> float:
        """Average hardness (Table 6), the same number as ``signal``."""
        return self.signal

    @property
    def per_query_eci(self) -> np.ndarray:
        """Each query's own ECI: ``ln(1 + n_q) * H(S_n(q), max(0, margin_q))``; 0 where the boundary is violated."""
        s = np.maximum(self.per_query.signal, 0.0)
        d = np.maximum(self.per_query.margin, 0.0)
        total = s + d
        eff = np.divide(2.0 * s * d, total, out=np.zeros_like(total), where=total > 0)
        return np.log1p(self.per_query.num_negatives) * eff

    @staticmethod
    def metric_names() -> tuple[str, ...]:
        """Keys of :meth:`to_metrics`, in order."""
        return tuple("eci" if field == "eci" else f"eci_{field}" for field in _METRIC_FIELDS)

    def to_metrics(self) -> dict[str, float]:
        """ECI and its parts as flat metrics (``eci``, ``eci_signal``, ...), the keys evaluators and callbacks log."""
        names = self.metric_names()
        return {name: float(getattr(self, field)) for name, field in zip(names, _METRIC_FIELDS, strict=True)}

    def to_dict(self) -> dict[str, float | int | str | None]:
        """Every scalar field (no per-query arrays), e.g. for JSON or a dataset card."""
        return {
            "eci": self.eci,
            "num_negatives": self.num_negatives,
            "signal": self.signal,
            "max_margin": self.max_margin,
            "harmonic_efficiency": self.harmonic_efficiency,
            "information_capacity": self.information_capacity,
            "mean_margin": self.mean_margin,
            "max_sim_positive": self.max_sim_positive,
            "max_sim_negative": self.max_sim_negative,
            "violation_rate": self.violation_rate,
            "eci_arithmetic": self.eci_arithmetic,
            "avg_hardness": self.avg_hardness,
            "gradient_norm": self.gradient_norm,
            "score_variance": self.score_variance,
            "temperature": self.temperature,
            "clamp": self.clamp,
            "top_n": self.top_n,
            "num_queries": self.num_queries,
        }

    def __str__(self) -> str:
        return (
            f"ECI {self.eci:.3f} = ln(1 + {self.num_negatives:.1f}) x H(S_n={self.signal:.3f}, "
            f"Max-Margin={self.max_margin:.3f}) = {self.information_capacity:.3f} x "
            f"{self.harmonic_efficiency:.3f} over {self.num_queries} queries "
            f"(clamp={self.clamp}, top_n={self.top_n}, violations={self.violation_rate:.1%})"
        )
