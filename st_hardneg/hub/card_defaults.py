"""What a card takes from the data when it is not given: the source and license from the ``datasets`` info, ECI
from the pool's teacher scores.

- :func:`info_source` / :func:`info_license`: ``dataset.info.dataset_name`` and ``dataset.info.license`` of the sets
  saved (``datasets`` keeps a dataset's info through ``map``, so a set mined with ``pairs.map(miner)`` still names
  the pairs' dataset and license), for :func:`~st_hardneg.hub.save_for_hub` when neither ``source=`` /
  ``license=`` nor the pool's recorded source says it.
- :func:`pool_eci_reports`: ECI of a set saved without a ``scores`` column, from the teacher's scores the pool
  holds: each (anchor, positive) and (anchor, negative) pair of the set looked up in the
  :class:`~st_hardneg.pool.store.PoolStore` (the rows' positive scores, the teacher's candidates, its fill reserve
  and deeper candidates), scored as :func:`~st_hardneg.eci.compute_eci` scores a set's stored scores. Nothing is
  selected again and the pool is not changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from st_hardneg.eci.compute import report_from_groups
from st_hardneg.eci.groups import QueryGroup, group_queries
from st_hardneg.hub.contents import HubPart
from st_hardneg.hub.settings import CardSettings
from st_hardneg.pool.candidates import CandidateExtension, TeacherCandidates
from st_hardneg.pool.lookup import lookup_scores

if TYPE_CHECKING:
    from st_hardneg.pool.store import PoolStore

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


def _normalised(value: Any) -> Any:
    """A record as JSON keeps it (tuples as lists), so a pool saved and loaded compares equal to itself."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _not_from_pool(selection: Any, pool: PoolStore) -> str | None:
    """Why ``selection`` was not selected from ``pool`` (its recorded pool and teacher differ), or ``None``."""
    recorded = selection.context.get("pool", {})
    for key, what in (("dataset_fingerprint", "pairs"), ("corpus_fingerprint", "corpus")):
        if recorded.get(key) != pool.config.get(key):
            return f"the pool given was built on other {what}"
    if _normalised(recorded.get("settings")) != _normalised(pool.config.get("settings")):
        return "the pool given was built with other settings"
    teacher = selection.context.get("teacher", {})
    name = teacher.get("name")
    if name not in pool.teachers:
        return f"the pool given has no teacher {name!r} (it has {list(pool.teachers)})"
    if _normalised(teacher) != _normalised(pool.teachers[name].config):
        return f"the pool given holds another teacher {name!r}"
    return None


def _keyed(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``values`` at the first of ``keys`` equal to each of ``wanted``; NaN where none is."""
    out = np.full(len(wanted), np.nan, dtype=np.float32)
    if len(keys) == 0 or len(wanted) == 0:
        return out
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    at = np.minimum(np.searchsorted(sorted_keys, wanted), len(keys) - 1)
    found = sorted_keys[at] == wanted
    out[found] = np.asarray(values, dtype=np.float32)[order[at[found]]]
    return out


def _extension_scores(extension: CandidateExtension | None, query: np.ndarray, doc: np.ndarray, n: int) -> np.ndarray:
    """The deeper candidates' scores of ``(query[i], doc[i])`` (``n``: corpus size); NaN where not among them."""
    if extension is None or len(extension) == 0:
        return np.full(len(query), np.nan, dtype=np.float32)
    owner = np.repeat(np.arange(len(extension.lengths), dtype=np.int64), extension.lengths)
    keys = owner * n + np.asarray(extension.candidates, dtype=np.int64)
    return _keyed(keys, extension.scores, query * n + doc)


def _text_ids(texts: list[str], values: Any) -> np.ndarray:
    """Each text's index in the Arrow array ``values`` (unique texts); ``-1`` where it is not there."""
    found = pc.index_in(pa.array(texts, type=values.type), value_set=values)
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _teacher_scores(
    pool: PoolStore, tc: TeacherCandidates, query: np.ndarray, doc: np.ndarray, deepened: Any, positive: bool
) -> np.ndarray:
    """``tc``'s score of each ``(query[i], doc[i])`` pair as the pool holds it: a positive from the rows' positive
    scores (a relabeled positive from the candidates), a negative from the candidates and fill reserve, then the
    deeper candidates (the pool's, and those the selection found); NaN where the teacher never scored the pair."""
    n = len(pool.corpus)
    scores = np.full(len(query), np.nan, dtype=np.float32)
    if positive:
        rows = np.asarray(pool.row_query, dtype=np.int64) * n + np.asarray(pool.row_positive, dtype=np.int64)
        scores = _keyed(rows, tc.positive_scores, query * n + doc)
    missing = np.isnan(scores)
    if missing.any():
        scores[missing] = lookup_scores(tc, query[missing], doc[missing, None])[:, 0]
    for extension in (tc.extension, deepened.get(tc.name)):
        missing = np.isnan(scores)
        if missing.any():
            scores[missing] = _extension_scores(extension, query[missing], doc[missing], n)
    return scores


def _pool_groups(part: HubPart, pool: PoolStore, tc: TeacherCandidates) -> list[QueryGroup] | str:
    """The set's queries with ``tc``'s scores looked up in ``pool``, or why they cannot all be."""
    try:
        groups = group_queries(part.dataset)
    except ValueError as err:
        return str(err)
    query = _text_ids([g.anchor for g in groups], pool.queries)
    if (query < 0).any():
        return f"{int((query < 0).sum())} of its anchors are not in the pool given"
    looked_up = []
    for kind in ("positives", "negatives"):
        texts = [getattr(g, kind) for g in groups]
        counts = np.array([len(t) for t in texts], dtype=np.int64)
        doc = _text_ids([text for group in texts for text in group], pool.corpus)
        if (doc < 0).any():
            return f"{int((doc < 0).sum())} of its {kind} are not in the pool's corpus"
        scores = _teacher_scores(
            pool, tc, np.repeat(query, counts), doc, part.selection.deepened, positive=kind == "positives"
        )
        if np.isnan(scores).any():
            return (
                f"teacher {tc.name!r} never scored {int(np.isnan(scores).sum())} of its (anchor, {kind[:-1]}) pairs "
                "in the pool: neither among its candidates nor its fill reserve"
            )
        looked_up.append(np.split(scores.astype(float), np.cumsum(counts)[:-1]))
    return [
        replace(g, positive_scores=p.tolist(), negative_scores=n.tolist())
        for g, p, n in zip(groups, *looked_up, strict=True)
    ]


def pool_eci_reports(parts: Sequence[HubPart], pool: PoolStore | None) -> dict[str, tuple[Any, str]]:
    """``{part key: (ECIReport, what scored it)}`` from ``pool``'s teacher scores, for the selections saved without
    a ``scores`` column (a single teacher's; an ensemble's sets are left to ``eci_model=``).

    Each pair of the set is looked up in ``pool``; the pool is not changed (no selection is made). A set gets no
    ECI, and a warning says why, when ``pool`` is not the pool it was selected from (other fingerprints, settings
    or teacher) or a pair is not among the teacher's scores the pool holds.
    """
    reports: dict[str, tuple[Any, str]] = {}
    if pool is None:
        return reports
    for p in parts:
        if p.selection is None or "scores" in p.dataset.column_names or p.selection.settings.ensemble is not None:
            continue
        reason = _not_from_pool(p.selection, pool)
        if reason is not None:
            logger.warning("%s: not selected from the pool given (%s), so its card has no ECI", p.key, reason)
            continue
        tc = pool.teachers[p.selection.context["teacher"]["name"]]
        groups = _pool_groups(p, pool, tc)
        if isinstance(groups, str):
            logger.warning("%s: no ECI from the pool's scores (%s); pass eci_model= to score it", p.key, groups)
            continue
        scored_with = f"the teacher's scores held in the pool (`{tc.name}`)"
        reports[p.key] = (report_from_groups(groups), scored_with)
    return reports
