"""The leakage guard (``exclude=``): training rows whose anchor is an evaluation anchor are dropped before anything
is encoded, and counted.

An evaluation set is given as a ``datasets.Dataset`` (or dict of columns), whose anchors are read by the column rule
(:mod:`st_hardneg.columns`: the ``anchor`` column, else the first text column), as a list of anchor texts, or, on the
command line, as a file (one anchor per line in a ``.txt`` file; any other file is read as a dataset). Anchors are
compared after :func:`~st_hardneg.data.normalize.normalize_text` (case, punctuation, whitespace), so
``"What is X?"`` in the evaluation set removes ``"what is x"`` from training. The settings keep the normalised
evaluation anchors (sorted, each once), so a recorded mining configuration drops the same rows again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from st_hardneg.columns import column_names, text_columns
from st_hardneg.data.loading import _load_file
from st_hardneg.data.normalize import normalize_texts

logger = logging.getLogger(__name__)

__all__ = ["evaluation_anchors", "read_exclude_file", "rows_to_keep"]


def evaluation_anchors(value: Any) -> tuple[str, ...] | None:
    """The normalised anchors of an evaluation set (a Dataset or dict of columns, or a list of anchor texts), sorted,
    each once; ``None`` stays ``None``.

    Raises:
        TypeError / ValueError: on one line, for anything else (a single string: give a list, or a file on the
            command line).
    """
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError(
            "exclude takes an evaluation Dataset or a list of anchor texts, got one string; pass [text] for one anchor"
        )
    if isinstance(value, Mapping) or hasattr(value, "column_names") or hasattr(value, "columns"):
        names = column_names(value)
        texts = text_columns(value)
        column = "anchor" if "anchor" in names else next(iter(texts if texts is not None else names), None)
        if column is None:
            raise ValueError(f"exclude: the evaluation set has no text column to read anchors from; columns {names}")
        value = value[column]
    if not isinstance(value, (Sequence, np.ndarray)) and not hasattr(value, "__iter__"):
        raise TypeError(f"exclude takes an evaluation Dataset or a list of anchor texts, got {type(value).__name__}")
    values = list(value)
    bad = next((v for v in values if not isinstance(v, str)), None)
    if bad is not None:
        raise TypeError(f"exclude: every evaluation anchor must be a string, got {type(bad).__name__} {bad!r}")
    if not values:
        raise ValueError("exclude: the evaluation set has no anchors")
    return tuple(sorted(set(normalize_texts(values))))


def read_exclude_file(path: str) -> tuple[str, ...]:
    """The command line's ``--exclude FILE``: a ``.txt`` file holds one anchor per line; any other file is loaded as a
    dataset (``.jsonl``, ``.csv``, ``.parquet``, ...; its anchor column by the column rule)."""
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"{path}: no such file")
    if file.suffix == ".txt":
        lines = [line.strip() for line in file.read_text(encoding="utf-8").splitlines()]
        anchors = evaluation_anchors([line for line in lines if line])
    else:
        anchors = evaluation_anchors(_load_file(file))
    assert anchors is not None
    return anchors


def rows_to_keep(anchors: Sequence[str], exclude: tuple[str, ...] | None) -> np.ndarray | None:
    """Indices of the rows whose anchor is not an evaluation anchor (``None`` when nothing is excluded); the rows
    dropped are counted and logged as a warning."""
    if not exclude:
        return None
    evaluation = set(exclude)
    leaked = np.fromiter((a in evaluation for a in normalize_texts(anchors)), dtype=bool, count=len(anchors))
    dropped = int(leaked.sum())
    if dropped:
        logger.warning(
            "exclude: dropped %d of %d training rows whose anchor is one of the %d evaluation anchors (leakage)",
            dropped,
            len(anchors),
            len(exclude),
        )
    return np.flatnonzero(~leaked)
