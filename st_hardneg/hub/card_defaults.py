"""What a card takes from the data when it is not given: the source and license from the ``datasets`` info, ECI
from the pool's teacher scores.

- :func:`info_source` / :func:`info_license`: ``dataset.info.dataset_name`` and ``dataset.info.license`` of the sets
  saved (``datasets`` keeps a dataset's info through ``map``, so a set mined with ``pairs.map(miner)`` still names
  the pairs' dataset and license), for :func:`~st_hardneg.hub.save_for_hub` when neither ``source=`` /
  ``license=`` nor the pool's recorded source says it.
- :func:`pool_eci_reports`: ECI of a set saved without a ``scores`` column, from the teacher's scores the pool
  holds: the set's selection made again with ``output_scores=True`` (the same rows, plus the teacher's scores),
  scored as :func:`~st_hardneg.eci.compute_eci` scores a set's stored scores.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from st_hardneg.hub.contents import HubPart
from st_hardneg.hub.settings import CardSettings

logger = logging.getLogger(__name__)

__all__ = ["from_dataset_info", "info_license", "info_source", "pool_eci_reports", "recorded_source"]


def _info_field(parts: Sequence[HubPart], name: str) -> str | None:
    for p in parts:
        value = getattr(getattr(p.dataset, "info", None), name, None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def info_source(parts: Sequence[HubPart]) -> str | None:
    """The first ``dataset.info.dataset_name`` among the sets (with its ``config_name`` when not ``default``)."""
    name = _info_field(parts, "dataset_name")
    config = _info_field(parts, "config_name")
    if name and config and config != "default":
        return f"{name} ({config})"
    return name


def info_license(parts: Sequence[HubPart]) -> str | None:
    """The first non-empty ``dataset.info.license`` among the sets."""
    return _info_field(parts, "license")


def from_dataset_info(parts: Sequence[HubPart], source: Any, card: CardSettings) -> tuple[Any, CardSettings]:
    """``source=`` and the card's license, else the sets' ``datasets`` info (``dataset_name``, ``license``).

    A source the pool recorded (the command's) comes before the info; for plain datasets (no mining record) the
    info's dataset name makes the card's title.
    """
    if source is None and not recorded_source(parts):
        source = info_source(parts)
        if source is not None and card.pretty_name is None and all(p.selection is None for p in parts):
            card = card.replace(pretty_name=f"Hard negatives for {source}")
    if card.license is None and (license := info_license(parts)) is not None:
        card = card.replace(license=license)
    return source, card


def recorded_source(parts: Sequence[HubPart]) -> bool:
    """Whether any selection among the sets carries a source its pool recorded (``pool.config["source"]``)."""
    return any(p.selection is not None and p.selection.context.get("pool", {}).get("source") for p in parts)


@contextlib.contextmanager
def _quiet_pool() -> Iterator[None]:
    """The selection made again repeats the first one's warnings: keep them out of the log this once."""
    pool_logger = logging.getLogger("st_hardneg.pool")
    level = pool_logger.level
    pool_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        pool_logger.setLevel(level)


def _same_rows(a: Any, b: Any) -> bool:
    """Whether two datasets hold the same rows (compared as Arrow tables, index mappings applied)."""
    return len(a) == len(b) and a.with_format("arrow")[:].equals(b.with_format("arrow")[:])


def pool_eci_reports(parts: Sequence[HubPart], pool: Any) -> dict[str, tuple[Any, str]]:
    """``{part key: (ECIReport, what scored it)}`` from ``pool``'s teacher scores, for the selections saved without
    a ``scores`` column (a single teacher's; an ensemble's sets are left to ``eci_model=``).

    The selection is made again from ``pool`` with ``output_scores=True``; when its rows differ from the set's
    (``pool`` is not the pool the set came from), the set gets no ECI and a warning says why. The pool's
    ``history`` is left as it was.
    """
    from st_hardneg.eci.compute import compute_eci

    reports: dict[str, tuple[Any, str]] = {}
    if pool is None:
        return reports
    for p in parts:
        if p.selection is None or "scores" in p.dataset.column_names or p.selection.settings.ensemble is not None:
            continue
        settings = p.selection.settings.replace(output_scores=True)
        history = len(pool.history)
        try:
            with _quiet_pool():
                scored = pool.select(settings, show_progress=False)
        finally:
            del pool.history[history:]
        if not _same_rows(scored.select_columns(p.dataset.column_names), p.dataset):
            logger.warning("%s: not selected from the pool given, so its card has no ECI", p.key)
            continue
        teacher = p.selection.context.get("teacher", {}).get("name") or next(iter(pool.teachers), "")
        scored_with = f"the teacher's scores held in the pool (`{teacher}`)"
        reports[p.key] = (compute_eci(scored, show_progress=False), scored_with)
    return reports
