"""How ECI is computed: :class:`ECISettings`, the single source of the ECI options' defaults and checks."""

from __future__ import annotations

from dataclasses import dataclass

from st_hardneg.eci.heuristics import DEFAULT_TEMPERATURE
from st_hardneg.eci.stats import CLAMPS, Clamp
from st_hardneg.settings.base import Settings, check_choice, check_columns, check_float, check_int, option

__all__ = ["ECISettings"]


@dataclass(frozen=True)
class ECISettings(Settings):
    """How ECI reads and scores a mined set: the options of every ECI entry point.

    :func:`~st_hardneg.eci.compute_eci`, :func:`~st_hardneg.eci.compare_eci`, :class:`~st_hardneg.eci.ECIEvaluator`,
    :class:`~st_hardneg.eci.ECICallback` (and :class:`~st_hardneg.eci.compute.GroupedECI`,
    :func:`~st_hardneg.eci.compute.report_from_groups`) take these fields as keyword arguments, a ``settings=``
    object, or both (keywords override the object's fields). Every value is checked here, on creation, so a bad
    one fails before the dataset is read or any model is called.

    Examples:
        >>> ECISettings(top_n=3).to_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'anchor_column': None, 'positive_column': None, 'top_n': 3, 'clamp': 'aggregate', 'temperature': 0.05,
         'batch_size': 32}
        >>> settings = ECISettings.from_kwargs(ECISettings(top_n=3), clamp="per_query")  # keywords override
        >>> settings.top_n, settings.clamp
        (3, 'per_query')
        >>> ECISettings(clamp="per-query")
        Traceback (most recent call last):
        ...
        ValueError: clamp must be one of 'aggregate', 'per_query'; got 'per-query' (did you mean 'per_query'?)
        >>> ECISettings(top_n=0)
        Traceback (most recent call last):
        ...
        ValueError: top_n must be a whole number >= 1, got 0
    """

    anchor_column: str | None = option(
        None, "column of anchors; default 'anchor' if present, else the first text column", metavar="COLUMN"
    )
    positive_column: str | None = option(
        None,
        "column of positives (the document list of a labeled-list set, the document of a labeled-pair set); "
        "default 'positive' if present, else the next text column",
        metavar="COLUMN",
    )
    top_n: int | None = option(
        None,
        "keep only each query's top_n hardest negatives under the scoring model (the fixed-N variant of the "
        "paper's Table 4); None keeps all",
    )
    clamp: Clamp = option(
        "aggregate",
        "where Eq. 9's clamp at 0 applies: to the mean margin over queries (aggregate), or to each query's margin "
        "first (per_query, more lenient)",
        choices=CLAMPS,
    )
    temperature: float = option(
        DEFAULT_TEMPERATURE,
        "tau of the estimated gradient norm heuristic (Eq. 11); 0.05 matches the scale of 20 of "
        "MultipleNegativesRankingLoss",
    )
    batch_size: int = option(32, "encoding (or cross-encoder prediction) batch size")

    def __post_init__(self) -> None:
        check_columns(self.anchor_column, self.positive_column)
        check_int("top_n", self.top_n, minimum=1, optional=True)
        check_choice("clamp", self.clamp, CLAMPS)
        check_float("temperature", self.temperature, minimum=0, strict_minimum=True)
        check_int("batch_size", self.batch_size, minimum=1)
