"""Compare the ECI of several hard-negative sets under one model."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from datasets import Dataset

from st_hardneg.eci.compute import eci_from_scores, stored_scores
from st_hardneg.eci.groups import group_queries
from st_hardneg.eci.report import ECIReport
from st_hardneg.eci.settings import ECISettings
from st_hardneg.eci.similarity import score_groups
from st_hardneg.settings.base import document_options

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


@document_options(ECISettings)
def compare_eci(
    datasets: Mapping[str, Dataset],
    model: Any | None = None,
    settings: ECISettings | None = None,
    *,
    show_progress: bool = True,
    **kwargs: Any,
) -> ECIComparison:
    """ECI of several mined sets under the same model and settings, sorted best first.

    Texts shared by the sets (anchors, positives, common negatives) are encoded once for all of them.

    Args:
        datasets: Name -> mined dataset (any format; see :func:`~st_hardneg.eci.compute_eci`).
        model: The scoring model, or ``None`` to use each set's stored ``scores``.
        settings: An :class:`~st_hardneg.eci.ECISettings` for every set; keyword arguments override its fields.
        show_progress: Show progress bars.
        **kwargs: Fields of :class:`~st_hardneg.eci.ECISettings` (an unknown name raises ``TypeError``):

            {options}

    Returns:
        An :class:`ECIComparison`; ``print`` it for a table.

    Raises:
        ValueError: If ``datasets`` is empty.

    Examples:
        >>> from datasets import Dataset
        >>> easy = Dataset.from_dict({"anchor": ["q"], "positive": ["p"], "negative": ["n"], "scores": [[0.9, 0.1]]})
        >>> hard = Dataset.from_dict({"anchor": ["q"], "positive": ["p"], "negative": ["m"], "scores": [[0.9, 0.5]]})
        >>> compare_eci({"easy": easy, "hard": hard}, show_progress=False).best
        'hard'
    """
    settings = ECISettings.from_kwargs(settings, **kwargs)
    if not datasets:
        raise ValueError("no datasets to compare")
    grouped = {
        name: group_queries(
            ds,
            anchor_column=settings.anchor_column,
            positive_column=settings.positive_column,
            show_progress=show_progress,
        )
        for name, ds in datasets.items()
    }
    all_groups = [g for groups in grouped.values() for g in groups]
    if model is None:
        pos_all, neg_all = stored_scores(all_groups)
    else:
        pos_all, neg_all = score_groups(all_groups, model, batch_size=settings.batch_size, show_progress=show_progress)

    reports: list[tuple[str, ECIReport]] = []
    start = 0
    for name, groups in grouped.items():
        stop = start + len(groups)
        report = eci_from_scores(
            pos_all[start:stop],
            neg_all[start:stop],
            top_n=settings.top_n,
            clamp=settings.clamp,
            temperature=settings.temperature,
        )
        reports.append((name, report))
        start = stop
    reports.sort(key=lambda item: item[1].eci, reverse=True)
    return ECIComparison(rows=tuple(reports))
