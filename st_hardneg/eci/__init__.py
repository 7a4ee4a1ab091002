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

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ECICallback": "st_hardneg.eci.callback",
        "ECIComparison": "st_hardneg.eci.compare",
        "compare_eci": "st_hardneg.eci.compare",
        "compute_eci": "st_hardneg.eci.compute",
        "eci_from_scores": "st_hardneg.eci.compute",
        "ECIEvaluator": "st_hardneg.eci.evaluator",
        "arithmetic_efficiency": "st_hardneg.eci.formula",
        "eci": "st_hardneg.eci.formula",
        "effective_margin": "st_hardneg.eci.formula",
        "harmonic_efficiency": "st_hardneg.eci.formula",
        "information_capacity": "st_hardneg.eci.formula",
        "QueryGroup": "st_hardneg.eci.groups",
        "detect_format": "st_hardneg.eci.groups",
        "group_queries": "st_hardneg.eci.groups",
        "estimated_gradient_norm": "st_hardneg.eci.heuristics",
        "estimated_score_variance": "st_hardneg.eci.heuristics",
        "metric_path": "st_hardneg.eci.metric",
        "scores_for_metric": "st_hardneg.eci.metric",
        "ECIReport": "st_hardneg.eci.report",
        "ECISettings": "st_hardneg.eci.settings",
        "QueryStats": "st_hardneg.eci.stats",
        "aggregate_margin": "st_hardneg.eci.stats",
        "query_stats": "st_hardneg.eci.stats",
    },
)
