"""Compare the ECI of several hard-negative sets under one model."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from datasets import Dataset

from st_hardneg.eci.compute import _stored_scores, eci_from_scores
from st_hardneg.eci.groups import group_queries
from st_hardneg.eci.heuristics import DEFAULT_TEMPERATURE
from st_hardneg.eci.report import ECIReport
from st_hardneg.eci.similarity import score_groups
from st_hardneg.eci.stats import Clamp

__all__ = ["ECIComparison", "compare_eci"]

_COLUMNS = ("name", "|N|", "S_n", "Max-Margin", "Harmonic Eff.", "ECI")


@dataclass(frozen=True, eq=False)
class ECIComparison:
    """Reports of several sets, best ECI first.

    Attributes:
        rows: ``(name, report)`` pairs sorted by descending ECI (ties keep the input order).
    """

    rows: tuple[tuple[str, ECIReport], ...]

    def __iter__(self) -> Iterator[tuple[str, ECIReport]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, name: str) -> ECIReport:
        return dict(self.rows)[name]

    @property
    def best(self) -> str:
        """Name of the set with the highest ECI."""
        return self.rows[0][0]

    def to_markdown(self) -> str:
        """The comparison as a Markdown table laid out like the paper's Table 1."""
        lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
        for name, r in self.rows:
            lines.append(
                f"| {name} | {r.num_negatives:g} | {r.signal:.3f} | {r.max_margin:.3f} "
                f"| {r.harmonic_efficiency:.3f} | {r.eci:.3f} |"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()


def compare_eci(
    datasets: Mapping[str, Dataset],
    model: Any | None = None,
    *,
    anchor_column: str | None = None,
    positive_column: str | None = None,
    top_n: int | None = None,
    clamp: Clamp = "aggregate",
    temperature: float = DEFAULT_TEMPERATURE,
    batch_size: int = 32,
    show_progress: bool = True,
) -> ECIComparison:
    """ECI of several mined sets under the same model, sorted best first.

    Texts shared by the sets (anchors, positives, common negatives) are encoded once for all of them.

    Args:
        datasets: Name -> mined dataset (any format; see :func:`~st_hardneg.eci.compute_eci`).
        model: The scoring model, or ``None`` to use each set's stored ``scores``.
        anchor_column: The query column, for every set.
        positive_column: The positive column, for every set.
        top_n: Fixed-N cut per query (Table 4), or ``None``.
        clamp: ``"aggregate"`` (default) or ``"per_query"``; see :func:`~st_hardneg.eci.compute_eci`.
        temperature: ``tau`` for the estimated gradient norm.
        batch_size: Encoding batch size.
        show_progress: Show progress bars.

    Returns:
        An :class:`ECIComparison`; ``print`` it for a table.

    Raises:
        ValueError: If ``datasets`` is empty.
    """
    if not datasets:
        raise ValueError("no datasets to compare")
    grouped = {
        name: group_queries(
            ds, anchor_column=anchor_column, positive_column=positive_column, show_progress=show_progress
        )
        for name, ds in datasets.items()
    }
    all_groups = [g for groups in grouped.values() for g in groups]
    if model is None:
        pos_all, neg_all = _stored_scores(all_groups)
    else:
        pos_all, neg_all = score_groups(all_groups, model, batch_size=batch_size, show_progress=show_progress)

    reports: list[tuple[str, ECIReport]] = []
    start = 0
    for name, groups in grouped.items():
        stop = start + len(groups)
        report = eci_from_scores(
            pos_all[start:stop], neg_all[start:stop], top_n=top_n, clamp=clamp, temperature=temperature
        )
        reports.append((name, report))
        start = stop
    reports.sort(key=lambda item: item[1].eci, reverse=True)
    return ECIComparison(rows=tuple(reports))
