"""Read a mined dataset into queries: the one place that knows the four mined formats.

Formats (sentence-transformers conventions, as the core miner writes them):

- ``"triplet"``: ``(anchor, positive, negative)``, one row per negative; optional ``scores`` ``[pos, neg]``.
- ``"n-tuple"``: ``(anchor, positive, negative_1, ..., negative_n)``; optional ``scores`` ``[pos, neg_1..neg_n]``.
- ``"labeled-list"``: ``(anchor, [positive, neg_1, ...])`` with ``labels`` ``[1, 0, ...]`` or ``scores`` aligned
  with the list (without ``labels`` the first document is the positive).
- ``"labeled-pair"``: ``(anchor, document, label)`` rows, optional ``score``; ``label > 0`` marks a positive.

Rows that share an anchor text are one query: its positives and its negatives are the unions over those rows,
deduplicated by text (the first score seen for a text is kept). The anchor and positive columns follow the
project's one column rule, :func:`st_hardneg.columns.resolve_columns`, with text and list-of-text columns read from
the dataset's features.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from datasets import Dataset
from tqdm.auto import tqdm

from st_hardneg.columns import NON_TEXT_COLUMNS, resolve_columns

logger = logging.getLogger(__name__)

__all__ = ["MinedFormat", "QueryGroup", "detect_format", "group_queries"]

MinedFormat = Literal["triplet", "n-tuple", "labeled-list", "labeled-pair"]


@dataclass
class QueryGroup:
    """One query with its positives and negatives, deduplicated by text.

    Attributes:
        anchor: The query text.
        positives: Positive documents, first-seen order.
        negatives: Negative documents, first-seen order.
        positive_scores: Stored scores aligned with ``positives``, or ``None`` when the dataset has none.
        negative_scores: Stored scores aligned with ``negatives``, or ``None`` when the dataset has none.
    """

    anchor: str
    positives: list[str] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)
    positive_scores: list[float] | None = None
    negative_scores: list[float] | None = None


def _is_text(feature: Any) -> bool:
    return getattr(feature, "dtype", None) in ("string", "large_string")


def _is_text_list(feature: Any) -> bool:
    return _is_text(getattr(feature, "feature", None))


def _negative_columns(dataset: Dataset, anchor_column: str, positive_column: str) -> list[str]:
    return [
        c
        for c in dataset.column_names
        if c not in (anchor_column, positive_column) and c not in NON_TEXT_COLUMNS and _is_text(dataset.features[c])
    ]


def _format_of(dataset: Dataset, anchor_column: str, positive_column: str) -> MinedFormat:
    """The format of ``dataset`` once its anchor and positive columns are known."""
    if _is_text_list(dataset.features[positive_column]):
        return "labeled-list"
    if "label" in dataset.column_names:
        return "labeled-pair"
    negatives = _negative_columns(dataset, anchor_column, positive_column)
    if not negatives:
        raise ValueError(
            f"no negative column found in {dataset.column_names} (anchor={anchor_column!r}, "
            f"positive={positive_column!r}); expected a triplet, n-tuple, labeled-list or labeled-pair dataset"
        )
    return "triplet" if len(negatives) == 1 else "n-tuple"


def detect_format(
    dataset: Dataset, anchor_column: str | None = None, positive_column: str | None = None
) -> MinedFormat:
    """Tell which mined format ``dataset`` is in.

    Args:
        dataset: The mined dataset.
        anchor_column: The query column; default by the project's column rule
            (:func:`st_hardneg.columns.resolve_columns`).
        positive_column: The positive (or document, or document-list) column; default by the same rule.

    Returns:
        ``"labeled-list"`` when the positive column holds lists, ``"labeled-pair"`` when there is a ``label``
        column, ``"triplet"`` with one negative column, ``"n-tuple"`` with more.

    Raises:
        ValueError: If a named column is missing, or no negatives can be found.

    Examples:
        >>> from datasets import Dataset
        >>> detect_format(Dataset.from_dict({"query": ["q"], "docs": [["p", "n"]], "labels": [[1, 0]]}))
        'labeled-list'
    """
    anchor_column, positive_column = resolve_columns(dataset, anchor_column, positive_column)
    return _format_of(dataset, anchor_column, positive_column)


def _row_items(
    fmt: MinedFormat, row: dict[str, Any], positive_column: str, negative_columns: Sequence[str]
) -> tuple[list[tuple[str, float | None]], list[tuple[str, float | None]]]:
    """One row's ``(text, score-or-None)`` positives and negatives."""
    scores = row.get("scores")
    if fmt == "labeled-pair":
        item = (row[positive_column], row.get("score"))
        return ([item], []) if float(row["label"]) > 0 else ([], [item])
    if fmt == "labeled-list":
        docs = list(row[positive_column])
        labels = row.get("labels")
        if labels is None:
            labels = [1] + [0] * (len(docs) - 1)
        if len(labels) != len(docs) or (scores is not None and len(scores) != len(docs)):
            raise ValueError(f"row lists differ in length: {len(docs)} documents, labels/scores {labels}/{scores}")
        items = [(d, None if scores is None else scores[i]) for i, d in enumerate(docs)]
        return (
            [it for it, lab in zip(items, labels, strict=True) if float(lab) > 0],
            [it for it, lab in zip(items, labels, strict=True) if float(lab) <= 0],
        )
    # triplet / n-tuple
    if scores is not None and len(scores) != 1 + len(negative_columns):
        raise ValueError(f"scores {scores} do not match 1 positive + {len(negative_columns)} negatives")
    positives = [(row[positive_column], None if scores is None else scores[0])]
    negatives = [(row[c], None if scores is None else scores[j + 1]) for j, c in enumerate(negative_columns)]
    return positives, negatives


def group_queries(
    dataset: Dataset,
    *,
    anchor_column: str | None = None,
    positive_column: str | None = None,
    show_progress: bool = False,
) -> list[QueryGroup]:
    """Group a mined dataset's rows by anchor text into queries.

    Args:
        dataset: A mined dataset in any of the four formats (see the module docstring).
        anchor_column: The query column; default ``anchor`` if present, else the first text column (the
            project's one column rule, :func:`st_hardneg.columns.resolve_columns`).
        positive_column: The positive column; default ``positive`` if present, else the next text column.
        show_progress: Show a tqdm bar over rows.

    Returns:
        One :class:`QueryGroup` per distinct anchor, in first-seen order. Queries without a positive or without
        a negative are dropped (a warning gives the count): they have no margin. Scores are attached only when
        every kept item carries one.

    Raises:
        ValueError: If a named column is missing, or the dataset's format cannot be recognised.

    Examples:
        >>> from datasets import Dataset
        >>> ds = Dataset.from_dict({"anchor": ["q", "q"], "positive": ["p", "p"], "negative": ["n1", "n2"]})
        >>> group_queries(ds)[0].negatives
        ['n1', 'n2']
    """
    anchor_column, positive_column = resolve_columns(dataset, anchor_column, positive_column)
    fmt = _format_of(dataset, anchor_column, positive_column)
    negative_columns = _negative_columns(dataset, anchor_column, positive_column)
    logger.debug("Reading %d rows as %s (anchor=%r, positive=%r)", len(dataset), fmt, anchor_column, positive_column)

    # anchor -> (positives: text -> score, negatives: text -> score); dicts keep first-seen order
    merged: dict[str, tuple[dict[str, float | None], dict[str, float | None]]] = {}
    for row in tqdm(dataset, desc="Grouping by anchor", disable=not show_progress, total=len(dataset)):
        pos_items, neg_items = _row_items(fmt, row, positive_column, negative_columns)
        positives, negatives = merged.setdefault(row[anchor_column], ({}, {}))
        for target, items in ((positives, pos_items), (negatives, neg_items)):
            for text, score in items:
                if text is not None and text not in target:
                    target[text] = None if score is None else float(score)

    groups: list[QueryGroup] = []
    skipped = 0
    for anchor, (positives, negatives) in merged.items():
        if not positives or not negatives:
            skipped += 1
            continue
        has_scores = all(s is not None for s in (*positives.values(), *negatives.values()))
        groups.append(
            QueryGroup(
                anchor=anchor,
                positives=list(positives),
                negatives=list(negatives),
                positive_scores=list(positives.values()) if has_scores else None,
                negative_scores=list(negatives.values()) if has_scores else None,
            )
        )
    if skipped:
        logger.warning("Dropped %d of %d queries that lack a positive or a negative", skipped, len(merged))
    if not groups:
        raise ValueError("no query has both a positive and a negative")
    return groups
