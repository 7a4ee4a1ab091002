"""Effective Contrastive Information (ECI): score a hard-negative set before training.

ECI (Sinha et al., 2026) multiplies the information capacity ``ln(1 + |N|)`` of a negative set by the harmonic
mean of its signal ``S_n`` (mean query-negative similarity) and its safety, the Max-Margin
``max(0, MaxSim_p - MaxSim_n)``.

Layers: :mod:`.formula` (numbers), :mod:`.stats` and :mod:`.heuristics` (score arrays), :mod:`.groups` (mined
datasets -> queries), :mod:`.similarity` (model I/O), :mod:`.report`, :mod:`.compute` / :mod:`.compare`, and
the training hooks :mod:`.evaluator` and :mod:`.callback`; :mod:`.metric` ships ECI as an ``evaluate`` metric
(``evaluate.load(st_hardneg.eci.metric_path())``). :class:`ECISettings` (:mod:`.settings`) holds the
options they share (columns, ``top_n``, ``clamp``, ``temperature``, ``batch_size``), their defaults and checks.
"""

from __future__ import annotations

from st_hardneg.eci.callback import ECICallback
from st_hardneg.eci.compare import ECIComparison, compare_eci
from st_hardneg.eci.compute import compute_eci, eci_from_scores
from st_hardneg.eci.evaluator import ECIEvaluator
from st_hardneg.eci.formula import (
    arithmetic_efficiency,
    eci,
    effective_margin,
    harmonic_efficiency,
    information_capacity,
)
from st_hardneg.eci.groups import QueryGroup, detect_format, group_queries
from st_hardneg.eci.heuristics import (
    average_hardness,
    estimated_gradient_norm,
    estimated_gradient_norm_from_summary,
    estimated_score_variance,
)
from st_hardneg.eci.metric import metric_path, scores_for_metric
from st_hardneg.eci.report import ECIReport
from st_hardneg.eci.settings import ECISettings
from st_hardneg.eci.stats import QueryStats, aggregate_margin, query_stats

__all__ = [
    "ECICallback",
    "ECIComparison",
    "ECIEvaluator",
    "ECIReport",
    "ECISettings",
    "QueryGroup",
    "QueryStats",
    "aggregate_margin",
    "arithmetic_efficiency",
    "average_hardness",
    "compare_eci",
    "compute_eci",
    "detect_format",
    "eci",
    "eci_from_scores",
    "effective_margin",
    "estimated_gradient_norm",
    "estimated_gradient_norm_from_summary",
    "estimated_score_variance",
    "group_queries",
    "harmonic_efficiency",
    "information_capacity",
    "metric_path",
    "query_stats",
    "scores_for_metric",
]
