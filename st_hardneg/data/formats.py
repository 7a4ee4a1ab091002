"""Mapping a data file's extension to the ``datasets`` builder that reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SUPPORTED_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz", ".csv", ".tsv", ".parquet")

# Read text cells as written: without this, pandas turns cells such as "NA", "null" or "" into missing values.
_CSV_KWARGS: dict[str, Any] = {"keep_default_na": False, "na_filter": False}


def file_loader(path: Path, *, extra_suffixes: tuple[str, ...] = ()) -> tuple[str, dict[str, Any]]:
    """Picks the ``datasets.load_dataset`` builder name and options for a data file.

    Args:
        path: The data file; only its name is looked at.
        extra_suffixes: Further suffixes the caller supports itself, listed in the error message.

    Returns:
        The builder name (``"json"``, ``"csv"`` or ``"parquet"``) and keyword arguments for ``load_dataset``.

    Raises:
        ValueError: If the extension is not one of :data:`SUPPORTED_SUFFIXES`.
    """
    name = path.name.lower()
    if name.endswith((".json", ".jsonl", ".json.gz", ".jsonl.gz")):
        return "json", {}
    if name.endswith(".csv"):
        return "csv", dict(_CSV_KWARGS)
    if name.endswith(".tsv"):
        return "csv", {**_CSV_KWARGS, "delimiter": "\t"}
    if name.endswith(".parquet"):
        return "parquet", {}
    supported = ", ".join((*SUPPORTED_SUFFIXES, *extra_suffixes))
    raise ValueError(f"Unsupported file type: {path.name!r} (supported: {supported})")
