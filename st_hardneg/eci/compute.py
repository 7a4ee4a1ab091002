"""ECI of a mined dataset: read it, score it, aggregate it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from datasets import Dataset
from numpy.typing import ArrayLike

from st_hardneg.eci.groups import QueryGroup, group_queries
from st_hardneg.eci.heuristics import DEFAULT_TEMPERATURE
from st_hardneg.eci.report import ECIReport
from st_hardneg.eci.similarity import score_groups
from st_hardneg.eci.stats import Clamp, query_stats

logger = logging.getLogger(__name__)

__all__ = ["GroupedECI", "compute_eci", "eci_from_scores", "report_from_groups"]


def eci_from_scores(
    positive_scores: Sequence[ArrayLike],
    negative_scores: Sequence[ArrayLike],
    *,
    top_n: int | None = None,
    clamp: Clamp = "aggregate",
    temperature: float = DEFAULT_TEMPERATURE,
) -> ECIReport:
    """ECI from per-query score arrays, no model involved.

    Args:
        positive_scores: For each query, its positives' scores.
        negative_scores: For each query, its negatives' scores.
        top_n: Keep only each query's ``top_n`` highest-scoring negatives (Table 4's fixed-N variant).
        clamp: Where Eq. 9's clamp at 0 applies: ``"aggregate"`` (default, to the mean margin) or
            ``"per_query"``; see :func:`~st_hardneg.eci.stats.aggregate_margin`.
        temperature: ``tau`` for the estimated gradient norm (Eq. 11).

    Returns:
        An :class:`~st_hardneg.eci.report.ECIReport`.

    Examples:
        >>> report = eci_from_scores([[0.9], [0.8]], [[0.5, 0.3], [0.6, 0.2]])
        >>> round(report.signal, 3), round(report.max_margin, 3), round(report.eci, 3)
        (0.4, 0.3, 0.377)
    """
    stats = query_stats(positive_scores, negative_scores, top_n=top_n)
    return ECIReport.from_stats(stats, clamp=clamp, temperature=temperature, top_n=top_n)


def _stored_scores(groups: Sequence[QueryGroup]) -> tuple[list[list[float]], list[list[float]]]:
    if any(g.positive_scores is None or g.negative_scores is None for g in groups):
        raise ValueError(
            "model=None needs stored scores for every positive and negative (a `scores` column); "
            "pass a model to score the texts instead"
        )
    return [g.positive_scores for g in groups], [g.negative_scores for g in groups]  # type: ignore[misc]


def report_from_groups(
    groups: Sequence[QueryGroup],
    model: Any | None = None,
    *,
    top_n: int | None = None,
    clamp: Clamp = "aggregate",
    temperature: float = DEFAULT_TEMPERATURE,
    batch_size: int = 32,
    show_progress: bool = False,
) -> ECIReport:
    """ECI of already grouped queries (see :func:`compute_eci` for the arguments)."""
    if model is None:
        positive_scores, negative_scores = _stored_scores(groups)
    else:
        positive_scores, negative_scores = score_groups(
            groups, model, batch_size=batch_size, show_progress=show_progress
        )
    report = eci_from_scores(positive_scores, negative_scores, top_n=top_n, clamp=clamp, temperature=temperature)
    if report.signal < 0:
        logger.warning("Mean negative score S_n=%.3f is below 0; ECI counts it as 0 signal", report.signal)
    return report


class GroupedECI:
    """A mined set grouped once, with the ECI settings: what :class:`ECIEvaluator` and :class:`ECICallback` share.

    Args are those of :func:`compute_eci`; :meth:`report` scores the set with a model.
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        anchor_column: str | None = None,
        positive_column: str | None = None,
        top_n: int | None = None,
        clamp: Clamp = "aggregate",
        temperature: float = DEFAULT_TEMPERATURE,
        batch_size: int = 32,
        show_progress: bool = False,
    ) -> None:
        self.groups = group_queries(dataset, anchor_column=anchor_column, positive_column=positive_column)
        self.top_n = top_n
        self.clamp = clamp
        self.temperature = temperature
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.last_report: ECIReport | None = None

    def report(self, model: Any) -> ECIReport:
        """The ECI report of the set under ``model`` (also kept as :attr:`last_report`)."""
        self.last_report = report_from_groups(
            self.groups,
            model,
            top_n=self.top_n,
            clamp=self.clamp,
            temperature=self.temperature,
            batch_size=self.batch_size,
            show_progress=self.show_progress,
        )
        return self.last_report


def compute_eci(
    dataset: Dataset,
    model: Any | None = None,
    *,
    anchor_column: str | None = None,
    positive_column: str | None = None,
    top_n: int | None = None,
    clamp: Clamp = "aggregate",
    temperature: float = DEFAULT_TEMPERATURE,
    batch_size: int = 32,
    show_progress: bool = True,
) -> ECIReport:
    """Effective Contrastive Information of a mined hard-negative dataset.

    Rows are grouped by anchor text into queries (a query's negatives are the union of its rows' negatives,
    deduplicated by text); each query's positives and negatives are scored under ``model``; the per-query
    statistics are aggregated into ``|N|``, ``S_n`` and the Max-Margin, and from them the ECI (Eq. 10).

    The margin's clamp at 0 (Eq. 9) applies by default to the mean margin over queries (``clamp="aggregate"``):
    the paper writes Eq. 8-9 on set-level ``S_n`` and ``Max-Margin``, and the mean of per-query margins is
    exactly ``mean(MaxSim_p) - mean(MaxSim_n)``; clamping the mean also lets a badly violated query pull the
    margin down in proportion, which is what the paper wants the metric to punish. ``clamp="per_query"`` clamps
    each query first (violations count as 0, never below), which is more lenient.

    Args:
        dataset: A mined dataset: triplet, n-tuple, labeled-list or labeled-pair (see
            :mod:`st_hardneg.eci.groups`).
        model: A ``SentenceTransformer`` (each unique text encoded once), a ``CrossEncoder`` (each unique pair
            scored once), or ``None`` to use the dataset's stored ``scores`` column.
        anchor_column: The query column; default ``anchor`` if present, else the first column.
        positive_column: The positive column; default ``positive`` if present, else the next column.
        top_n: Keep only each query's ``top_n`` hardest negatives under ``model`` (the fixed-N variant of
            Table 4); ``None`` keeps all.
        clamp: ``"aggregate"`` (default) or ``"per_query"``, see above.
        temperature: ``tau`` for the estimated gradient norm heuristic; 0.05 matches the scale of 20 in
            ``MultipleNegativesRankingLoss``.
        batch_size: Encoding batch size.
        show_progress: Show progress bars.

    Returns:
        An :class:`~st_hardneg.eci.report.ECIReport` with the set-level figures and per-query arrays.

    Examples:
        >>> from datasets import Dataset
        >>> ds = Dataset.from_dict({
        ...     "anchor": ["q1", "q1", "q2"], "positive": ["p1", "p1", "p2"], "negative": ["a", "b", "c"],
        ...     "scores": [[0.9, 0.5], [0.9, 0.3], [0.8, 0.6]],
        ... })
        >>> report = compute_eci(ds, show_progress=False)  # stored scores; pass a model to rescore
        >>> report.num_queries, report.num_negatives, round(report.signal, 3)
        (2, 1.5, 0.5)
    """
    groups = group_queries(
        dataset, anchor_column=anchor_column, positive_column=positive_column, show_progress=show_progress
    )
    return report_from_groups(
        groups,
        model,
        top_n=top_n,
        clamp=clamp,
        temperature=temperature,
        batch_size=batch_size,
        show_progress=show_progress,
    )
