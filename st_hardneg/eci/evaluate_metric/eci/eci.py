"""Effective Contrastive Information (ECI) as a Hugging Face ``evaluate`` metric.

Load it with ``evaluate.load(st_hardneg.eci.metric_path())``. Each example is one query: the scores of its
positives and the scores of its negatives (under any model: a mined set's stored ``scores``, or a model's
similarities). The numbers are those of :func:`st_hardneg.eci.eci_from_scores`, which this script calls.
"""

import datasets
import evaluate

_CITATION = """\
@article{sinha2026eci,
  title={ECI: Effective Contrastive Information to Evaluate Hard-Negatives},
  author={Sinha, Aarush and Seetharaman, Rahul and Bansal, Aman},
  journal={arXiv preprint arXiv:2603.20990},
  year={2026}
}
"""

_DESCRIPTION = """\
Effective Contrastive Information (Sinha et al., 2026) scores a hard-negative set before training:
ECI = ln(1 + |N|) * 2 S_n D / (S_n + D), with |N| the negatives per query, S_n the mean query-negative score
(signal) and D = max(0, MaxSim_p - MaxSim_n) the Max-Margin (safety). Computed by st-hardneg.
"""

_KWARGS_DESCRIPTION = """
Args:
    positive_scores: one list per query, the scores of its positives.
    negative_scores: one list per query, the scores of its negatives.
    top_n: keep each query's top_n highest-scoring negatives (the paper's Table 4 fixed-N variant); None keeps all.
    clamp: "aggregate" (default: Eq. 9's clamp applied to the mean margin) or "per_query".
    temperature: tau of the estimated gradient norm heuristic (Eq. 11), default 0.05.
Returns:
    eci, num_negatives, signal, max_margin, harmonic_efficiency, information_capacity, mean_margin,
    max_sim_positive, max_sim_negative, violation_rate, eci_arithmetic, avg_hardness, gradient_norm,
    score_variance, temperature, clamp, top_n, num_queries: the fields of st_hardneg's ECIReport.to_dict().
Examples:
    >>> import evaluate, st_hardneg.eci
    >>> eci = evaluate.load(st_hardneg.eci.metric_path())
    >>> round(eci.compute(positive_scores=[[0.9], [0.8]], negative_scores=[[0.5, 0.3], [0.6, 0.2]])["eci"], 3)
    0.377
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Eci(evaluate.Metric):
    """ECI of per-query positive and negative scores."""

    def _info(self):
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "positive_scores": datasets.Sequence(datasets.Value("float64")),
                    "negative_scores": datasets.Sequence(datasets.Value("float64")),
                }
            ),
            reference_urls=["https://arxiv.org/abs/2603.20990"],
        )

    def _compute(self, positive_scores, negative_scores, top_n=None, clamp="aggregate", temperature=0.05):
        from st_hardneg.eci.compute import eci_from_scores
        from st_hardneg.eci.settings import ECISettings

        settings = ECISettings(top_n=top_n, clamp=clamp, temperature=temperature)  # the same checks as compute_eci
        report = eci_from_scores(
            positive_scores,
            negative_scores,
            top_n=settings.top_n,
            clamp=settings.clamp,
            temperature=settings.temperature,
        )
        return report.to_dict()
