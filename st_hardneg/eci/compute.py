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
from st_hardneg.eci.settings import ECISettings
from st_hardneg.eci.similarity import score_groups
from st_hardneg.eci.stats import Clamp, query_stats
from st_hardneg.settings.base import document_options

logger = logging.getLogger(__name__)

__all__ = [
    "GroupedECI",
    "compute_eci",
    "eci_from_scores",
    "report_from_groups",
    "stored_scores",
]


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


def stored_scores(groups: Sequence[QueryGroup]) -> tuple[list[list[float]], list[list[float]]]:
    """The scores stored in ``groups`` (a mined set's ``scores`` column), for scoring without a model.

    Args:
        groups: Queries from :func:`~st_hardneg.eci.groups.group_queries`.

    Returns:
        ``(positive_scores, negative_scores)``: per query, lists aligned with its positives and negatives.

    Raises:
        ValueError: If any query lacks stored scores.
    """
    if any(g.positive_scores is None or g.negative_scores is None for g in groups):
        raise ValueError(
            "model=None needs stored scores for every positive and negative (a `scores` column); "
            "pass a model to score the texts instead"
        )
    return [g.positive_scores for g in groups], [g.negative_scores for g in groups]  # type: ignore[misc]


@document_options(ECISettings)
def report_from_groups(
    groups: Sequence[QueryGroup],
    model: Any | None = None,
    settings: ECISettings | None = None,
    *,
    show_progress: bool = False,
    **kwargs: Any,
) -> ECIReport:
    """ECI of already grouped queries (see :func:`compute_eci`).

    Args:
        groups: Queries from :func:`~st_hardneg.eci.groups.group_queries`.
        model: The scoring model, or ``None`` to use the stored scores.
        settings: An :class:`~st_hardneg.eci.ECISettings`; keyword arguments override its fields (the column
            fields play no part here: the queries are already grouped).
        show_progress: Show encoding progress bars.
        **kwargs: Fields of :class:`~st_hardneg.eci.ECISettings`:

            {options}

    Returns:
        An :class:`~st_hardneg.eci.report.ECIReport`.
    """
    settings = ECISettings.from_kwargs(settings, **kwargs)
    if model is None:
        positive_scores, negative_scores = stored_scores(groups)
    else:
        positive_scores, negative_scores = score_groups(
            groups, model, batch_size=settings.batch_size, show_progress=show_progress
        )
    report = eci_from_scores(
        positive_scores, negative_scores, top_n=settings.top_n, clamp=settings.clamp, temperature=settings.temperature
    )
    if report.signal < 0:
        logger.warning("Mean negative score S_n=%.3f is below 0; ECI counts it as 0 signal", report.signal)
    return report


@document_options(ECISettings)
class GroupedECI:
    """A mined set grouped into queries once, with its ECI settings.

    :class:`~st_hardneg.eci.ECIEvaluator` and :class:`~st_hardneg.eci.ECICallback` each hold one. The settings
    are checked and the dataset grouped at construction, so a bad value or a missing column fails before any model
    is called; :meth:`report` scores the set with a model.

    Args:
        dataset: A mined dataset (triplet, n-tuple, labeled-list or labeled-pair).
        settings: An :class:`~st_hardneg.eci.ECISettings`; keyword arguments override its fields.
        show_progress: Show encoding progress bars.
        **kwargs: Fields of :class:`~st_hardneg.eci.ECISettings`:

            {options}

    Attributes:
        settings: The resolved :class:`~st_hardneg.eci.ECISettings`.
        groups: The queries, from :func:`~st_hardneg.eci.groups.group_queries`.
        last_report: The latest report, or ``None`` before the first.

    Examples:
        >>> from datasets import Dataset
        >>> ds = Dataset.from_dict({"anchor": ["q"], "positive": ["p"], "negative": ["n"], "scores": [[0.9, 0.4]]})
        >>> grouped = GroupedECI(ds, top_n=1)
        >>> grouped.settings.top_n, len(grouped.groups), round(grouped.report(None).max_margin, 3)
        (1, 1, 0.5)
    """

    def __init__(
        self, dataset: Dataset, settings: ECISettings | None = None, *, show_progress: bool = False, **kwargs: Any
    ) -> None:
        self.settings = ECISettings.from_kwargs(settings, **kwargs)
        self.show_progress = show_progress
        self.groups = group_queries(
            dataset, anchor_column=self.settings.anchor_column, positive_column=self.settings.positive_column
        )
        self.last_report: ECIReport | None = None

    def report(self, model: Any | None) -> ECIReport:
        """The ECI report of the set under ``model`` (``None``: stored scores); also kept as :attr:`last_report`."""
        self.last_report = report_from_groups(self.groups, model, self.settings, show_progress=self.show_progress)
        return self.last_report


@document_options(ECISettings)
def compute_eci(
    dataset: Dataset,
    model: Any | None = None,
    settings: ECISettings | None = None,
    *,
    show_progress: bool = True,
    **kwargs: Any,
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
        settings: An :class:`~st_hardneg.eci.ECISettings`; keyword arguments override its fields. Settings are
            checked before the dataset is read or any model is called.
        show_progress: Show progress bars.
        **kwargs: Fields of :class:`~st_hardneg.eci.ECISettings` (an unknown name raises ``TypeError``):

            {options}

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
        >>> compute_eci(ds, top_n=1, show_progress=False).num_negatives
        1.0
    """
    settings = ECISettings.from_kwargs(settings, **kwargs)
    groups = group_queries(
        dataset,
        anchor_column=settings.anchor_column,
        positive_column=settings.positive_column,
        show_progress=show_progress,
    )
    return report_from_groups(groups, model, settings, show_progress=show_progress)


class HoldsGroupedECI:
    """What :class:`~st_hardneg.eci.ECIEvaluator` and :class:`~st_hardneg.eci.ECICallback` share: the
    :class:`GroupedECI` they hold (``self.grouped``) and what they answer from it."""

    grouped: GroupedECI

    @property
    def settings(self) -> ECISettings:
        """The :class:`~st_hardneg.eci.ECISettings` this scores with."""
        return self.grouped.settings

    @property
    def groups(self) -> list[QueryGroup]:
        """The set's queries, grouped by anchor at construction."""
        return self.grouped.groups

    @property
    def last_report(self) -> ECIReport | None:
        """The report of the latest evaluation, or ``None`` before the first."""
        return self.grouped.last_report

    def compute_report(self, model: Any) -> ECIReport:
        """The full report for ``model`` on this set (also kept as :attr:`last_report`)."""
        return self.grouped.report(model)
