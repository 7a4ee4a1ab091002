"""Histograms of a mined set's teacher scores, as NV-Retriever's Figure 1 draws them.

Three panels per set: the positives' scores, the selected negatives' scores, and the margin (positive score minus
negative score, one per negative; left of 0, a negative the teacher scores above its positive, a likely false
negative). Several sets (configurations) can share one figure, drawn as outlines on the same axes, to compare
mining methods as the paper's Figure 1 compares Naive Top-K with TopK-PercPos.

The histograms come from the selection's statistics (:class:`~st_hardneg.pool.statistics.ScoreSummary`, 20 bins)
or, for a plain dataset, from its stored ``scores`` column. matplotlib is optional (``pip install
"st-hardneg[plots]"``): :func:`matplotlib_available` says whether it is there, and the card says so when it is not.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from st_hardneg.pool.statistics import ScoreSummary

logger = logging.getLogger(__name__)

__all__ = [
    "PANELS",
    "matplotlib_available",
    "plot_score_histograms",
    "save_score_histograms",
    "score_distributions",
]

#: The panels, in order: (key, title, x-axis label).
PANELS = (
    ("positive", "Positive scores", "teacher score of (anchor, positive)"),
    ("negative", "Negative scores", "teacher score of (anchor, negative)"),
    ("margin", "Margin", "positive score - negative score"),
)


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def score_distributions(selection_or_dataset: Any) -> dict[str, ScoreSummary] | None:
    """``{"positive", "negative", "margin"}`` score summaries of a selection, or of a dataset's stored scores.

    Returns ``None`` for a dataset without a ``scores`` column of ``[positive, negative, ...]`` lists (n-tuple,
    triplet and labeled-list sets written with ``output_scores=True``). From a triplet set's rows, a positive
    counts once per negative (once per row); the selection's statistics count it once.

    Examples:
        >>> from datasets import Dataset
        >>> ds = Dataset.from_dict({"anchor": ["q"], "positive": ["p"], "negative_1": ["a"], "negative_2": ["b"],
        ...                         "scores": [[0.9, 0.5, 0.3]]})
        >>> d = score_distributions(ds)
        >>> d["negative"].count, round(d["margin"].mean, 3)
        (2, 0.5)
    """
    stats = getattr(selection_or_dataset, "statistics", None)
    if stats is not None and getattr(stats, "negative_scores", None) is not None:
        return {"positive": stats.positive_scores, "negative": stats.negative_scores, "margin": stats.margins}
    dataset = getattr(selection_or_dataset, "dataset", selection_or_dataset)
    if "scores" not in getattr(dataset, "column_names", ()):
        return None
    rows = dataset["scores"]
    positives, negatives, margins = [], [], []
    for row in rows:
        if not row or len(row) < 2:
            continue
        pos = float(row[0])
        neg = np.asarray(row[1:], dtype=np.float64)
        positives.append(pos)
        negatives.append(neg)
        margins.append(pos - neg)
    if not positives:
        return None
    return {
        "positive": ScoreSummary.of(np.asarray(positives)),
        "negative": ScoreSummary.of(np.concatenate(negatives)),
        "margin": ScoreSummary.of(np.concatenate(margins)),
    }


def plot_score_histograms(distributions: Mapping[str, Mapping[str, ScoreSummary]], *, title: str | None = None) -> Any:
    """A :class:`matplotlib.figure.Figure`: one panel per score kind, one histogram per named set.

    Args:
        distributions: ``{set name: score_distributions(...)}``; with one set the bars are filled, with several
            each set is an outline (densities, so sets of different sizes compare).
        title: the figure's title.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError('Score histograms need matplotlib: pip install "st-hardneg[plots]"') from err
    several = len(distributions) > 1
    fig = Figure(figsize=(12, 3.4), layout="constrained")
    axes = fig.subplots(1, len(PANELS))
    for ax, (key, panel_title, xlabel) in zip(axes, PANELS, strict=True):
        for name, dist in distributions.items():
            summary = dist.get(key)
            hist = summary.histogram if summary is not None else None
            if not hist or not hist.get("counts"):
                continue
            counts = np.asarray(hist["counts"], dtype=np.float64)
            edges = np.asarray(hist["edges"], dtype=np.float64)
            if several:
                widths = np.diff(edges)
                density = counts / max(counts.sum(), 1.0) / np.where(widths > 0, widths, 1.0)
                ax.stairs(density, edges, label=name, linewidth=1.6)
            else:
                ax.stairs(counts, edges, fill=True, alpha=0.75, label=f"{name} (n={summary.count})")
            if summary.median is not None and not several:
                ax.axvline(summary.median, color="black", linestyle=":", linewidth=1)
        if key == "margin":
            ax.axvline(0.0, color="crimson", linewidth=1)
        ax.set_title(panel_title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density" if several else "count")
    if several:
        axes[-1].legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def save_score_histograms(
    distributions: Mapping[str, Mapping[str, ScoreSummary]], path: str | Path, *, title: str | None = None
) -> bool:
    """Draw :func:`plot_score_histograms` into a PNG file; ``False`` (nothing written) without matplotlib."""
    if not matplotlib_available():
        logger.warning('matplotlib is not installed: no score histograms (pip install "st-hardneg[plots]")')
        return False
    fig = plot_score_histograms(distributions, title=title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    return True
