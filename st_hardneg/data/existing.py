"""Negatives a dataset already has (MS MARCO style): a ``negative`` column, ``negative_1`` ... ``negative_n``
columns, or a list column ``negatives``. :func:`existing_negative_columns` finds them, :func:`read_existing_negatives`
reads each row's texts (empty cells and ``None`` skipped)."""

from __future__ import annotations

import re
from typing import Any

from st_hardneg.columns import column_names

__all__ = ["existing_negative_columns", "read_existing_negatives"]

_NEGATIVE = re.compile(r"^negatives?(_\d+)?$")


def existing_negative_columns(dataset: Any) -> list[str]:
    """The dataset's negative columns, in column order (``negative``, ``negative_<n>``, ``negatives``).

    Examples:
        >>> existing_negative_columns({"anchor": [], "positive": [], "negative_1": [], "negative_2": [], "x": []})
        ['negative_1', 'negative_2']
    """
    return [c for c in column_names(dataset) if _NEGATIVE.match(c)]


def read_existing_negatives(dataset: Any, columns: list[str]) -> list[list[str]]:
    """Each row's existing negative texts, from ``columns`` (a column of texts or of lists of texts)."""
    rows: list[list[str]] = []
    for c, column in enumerate(columns):
        values = list(dataset[column])
        if c == 0:
            rows = [[] for _ in values]
        for i, value in enumerate(values):
            for text in value if isinstance(value, (list, tuple)) else [value]:
                if text is None:
                    continue
                if not isinstance(text, str):
                    raise TypeError(
                        f"Row {i}: column {column!r} holds {type(text).__name__} {text!r}, not a negative's text"
                    )
                if text.strip():
                    rows[i].append(text)
    return rows
