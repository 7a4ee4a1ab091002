"""ECI as a Hugging Face ``evaluate`` metric: :func:`metric_path` gives the module ``evaluate.load`` accepts.

The metric script ships inside the package (``st_hardneg/eci/evaluate_metric/eci/eci.py``), so loading it needs no
network: ``evaluate.load`` imports a local metric folder directly. It computes ECI from stored scores with
:func:`~st_hardneg.eci.eci_from_scores`, so its numbers are those of :func:`~st_hardneg.eci.compute_eci`.

Examples:
    >>> import evaluate
    >>> eci = evaluate.load(metric_path())
    >>> result = eci.compute(positive_scores=[[0.9], [0.8]], negative_scores=[[0.5, 0.3], [0.6, 0.2]])
    >>> round(result["eci"], 3), result["num_queries"]
    (0.377, 2)
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["metric_path", "scores_for_metric"]


def metric_path() -> str:
    """The folder of the ECI ``evaluate`` metric (pass it to ``evaluate.load``)."""
    return str(Path(__file__).parent / "evaluate_metric" / "eci")


def scores_for_metric(dataset, *, anchor_column: str | None = None, positive_column: str | None = None) -> dict:
    """``{"positive_scores": [...], "negative_scores": [...]}`` per query from a mined set's stored scores, the
    metric's inputs (rows grouped by anchor as :func:`~st_hardneg.eci.compute_eci` groups them).

    Examples:
        >>> from datasets import Dataset
        >>> ds = Dataset.from_dict({"anchor": ["q", "q"], "positive": ["p", "p"], "negative": ["a", "b"],
        ...                         "scores": [[0.9, 0.5], [0.9, 0.3]]})
        >>> scores_for_metric(ds)
        {'positive_scores': [[0.9]], 'negative_scores': [[0.5, 0.3]]}
    """
    from st_hardneg.eci.compute import stored_scores
    from st_hardneg.eci.groups import group_queries

    groups = group_queries(dataset, anchor_column=anchor_column, positive_column=positive_column)
    positive, negative = stored_scores(groups)
    return {"positive_scores": positive, "negative_scores": negative}
