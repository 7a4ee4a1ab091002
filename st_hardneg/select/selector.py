"""A selection from a pool: one teacher or an ensemble, soft labels, teacher labels, formatting; the result with
its provenance (:class:`Selection`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from st_hardneg.ensembles.base import EnsembleInput
from st_hardneg.ensembles.strategies import select_ensemble
from st_hardneg.filters.methods import resolve_auto
from st_hardneg.formatting.formatters import format_dataset
from st_hardneg.pool.candidates import CandidateExtension
from st_hardneg.pool.statistics import SelectionStatistics
from st_hardneg.pool.store import PoolStore
from st_hardneg.select.carried_rows import carried_rows, check_ids, count_missing_ids
from st_hardneg.select.duplicates import duplicate_guard
from st_hardneg.select.judged import resolve_relabel_mode
from st_hardneg.select.pick import pick
from st_hardneg.select.report import count_teachers, fit_warnings, teacher_labels
from st_hardneg.select.settings import SelectionSettings
from st_hardneg.select.soft_labels import score_columns

logger = logging.getLogger(__name__)

__all__ = ["Selection", "select", "selection_teachers"]


class _SelectionFields(NamedTuple):
    """The four fields of a :class:`Selection`.

    Attributes:
        dataset: the mined :class:`datasets.Dataset`.
        statistics: what the selection kept, removed, filled and dropped.
        settings: the :class:`~st_hardneg.settings.SelectionSettings` used (``teacher`` and ``on_short`` resolved).
        context: what the settings ran on: the teacher's configuration and the pool's depth and fingerprints.
    """

    dataset: Any
    statistics: SelectionStatistics
    settings: SelectionSettings
    context: dict[str, Any]


class Selection(_SelectionFields):
    """A selection's result with its provenance: ``(dataset, statistics, settings, context)``.

    Attributes:
        dataset: the mined :class:`datasets.Dataset`.
        statistics: what the selection kept, removed, filled and dropped.
        settings: the :class:`~st_hardneg.settings.SelectionSettings` used (``teacher`` and ``on_short`` resolved).
        context: what the settings ran on: the teacher's configuration and the pool's depth and fingerprints;
            ``method_choice``: what ``method="auto"`` chose, from how many positives per anchor.
        deepened: ``{teacher: CandidateExtension}``, the deeper candidates ``on_short="deepen"`` found (empty when
            nothing was searched). The pool does not keep them unless you ask: ``pool.keep_deepened(selection)``.
    """

    deepened: Mapping[str, CandidateExtension] = MappingProxyType({})

    def __new__(
        cls,
        dataset: Any,
        statistics: SelectionStatistics,
        settings: SelectionSettings,
        context: dict[str, Any],
        *,
        deepened: Mapping[str, CandidateExtension] | None = None,
    ) -> Selection:
        self = super().__new__(cls, dataset, statistics, settings, context)
        if deepened:
            self.deepened = dict(deepened)
        return self

    @property
    def config(self) -> dict[str, Any]:
        """``{"settings": ..., "teacher": ..., "pool": ...}``: what ``mining.json``, the history and cards record."""
        return {"settings": self.settings.to_dict(), **self.context}


def select(pool: PoolStore, settings: SelectionSettings, *, chunk_size: int, show_progress: bool) -> Selection:
    """One selection: pick (one teacher, :func:`~st_hardneg.select.pick.pick`, or an ensemble,
    :mod:`st_hardneg.ensembles`), count, warn, add soft labels, format. The pool is not changed; deeper candidates
    found come back in :attr:`Selection.deepened`."""
    names = selection_teachers(pool, settings)
    check_ids(pool, settings.output_ids)  # before any search
    requested = settings.method
    method, per_anchor = resolve_auto(requested, pool.positives_indptr)
    if per_anchor is not None:
        logger.info("method=%r: %.2f distinct positives per anchor -> %s", requested.spec, per_anchor, method.spec)
        settings = settings.replace(method=method)
    members = [pool.teachers[name] for name in names]
    depth = members[0].depth
    if settings.ensemble is None:
        selected, stats, settings, tc, extension = pick(
            pool, settings, chunk_size=chunk_size, show_progress=show_progress
        )
        deepened = {tc.name: extension} if extension is not None else {}
        teacher_context = tc.config
        stats.warnings.extend(fit_warnings(settings, stats, pool.statistics.teachers.get(tc.name)))
    else:
        deepened = {}
        settings.check_depth(depth, len(pool.corpus))
        relabel_mode = resolve_relabel_mode(pool.judgments, settings.relabel_mode)
        if settings.relabeled_output != "exclude" and pool.judgments is None:
            raise ValueError(
                f"relabeled_output={settings.relabeled_output!r} needs a relabeled pool; this pool has no "
                "judgments: run pool.relabel(ARHN(judge, ...)) first"
            )
        if pool.config.get("existing_negatives"):
            raise ValueError(
                "this pool keeps the dataset's own negatives ahead of the mined ones (existing_negatives='keep'), "
                "which one teacher's selection does; an ensemble cannot yet: select one teacher, or build with "
                "existing_negatives='join'"
            )
        settings = settings.replace(teacher=tuple(names), relabel_mode=relabel_mode)
        judged = None
        if relabel_mode not in (None, "off"):
            if settings.relabeled_output != "exclude":
                raise ValueError(
                    f"relabeled_output={settings.relabeled_output!r} takes one teacher; an ensemble keeps the "
                    "relabeled positives out of every member's negatives (relabeled_output='exclude')"
                )
            judged = pool.judgments.lookup(len(pool.corpus), relabel_mode)  # by (anchor, document) ids
        selected, stats = select_ensemble(
            EnsembleInput(
                members,
                pool.row_query,
                pool.row_positive,
                pool.query_keys,
                pool.row_keys(settings.seed),
                settings,
                chunk_size=chunk_size,
                show_progress=show_progress,
                judged=judged,
                duplicates=duplicate_guard(
                    pool.corpus,
                    pool.positives_indptr,
                    pool.positives_indices,
                    exact=settings.exact_duplicates,
                    near=settings.near_duplicates,
                ),
            )
        )
        teacher_context = {
            "type": "ensemble",
            "strategy": settings.ensemble,
            **({"rrf_k": settings.rrf_k} if settings.ensemble == "rrf" else {}),
            "members": {name: pool.teachers[name].config for name in names},
        }
        stats.warnings.extend(fit_warnings(settings, stats, None))
    count_teachers(stats, selected, names)
    for message in stats.warnings:
        logger.warning(message)
    pool_settings = pool.config["settings"]
    columns, score_context = (
        score_columns(
            pool,
            selected,
            names,
            score_teachers=settings.score_teachers,
            ensemble=settings.ensemble is not None,
            stats=stats,
            show_progress=show_progress,
        )
        if settings.output_scores
        else ({}, {})
    )
    dataset = format_dataset(
        selected,
        pool.queries,
        pool.corpus,
        settings.output_format,
        anchor_column=pool_settings["anchor_column"],
        positive_column=pool_settings["positive_column"],
        score_columns=columns,
        teacher_labels=teacher_labels(selected, names) if settings.output_teachers else None,
        include_positives=settings.include_positives,
        carried=carried_rows(pool, selected, settings.output_ids, stats),
    )
    stats.examples_out = len(dataset)
    if settings.output_ids:
        stats.ids_missing = count_missing_ids(dataset, settings.output_format)
    context = {
        "teacher": teacher_context,
        **({"score_teachers": score_context} if score_context else {}),
        "pool": {
            "depth": depth,
            "seed": pool_settings["seed"],
            "dataset_fingerprint": pool.config.get("dataset_fingerprint"),
            "corpus_fingerprint": pool.config.get("corpus_fingerprint"),
            "corpus_given": pool.config.get("corpus_given"),
            "settings": dict(pool_settings),  # the PoolSettings: num_random decides the fill documents
            "source": pool.config.get("source"),  # where the pairs came from (set by the command, or by you)
        },
    }
    if per_anchor is not None:  # what method="auto" chose, and from what
        context["method_choice"] = {
            "requested": requested.spec,
            "positives_per_anchor": round(per_anchor, 4),
            "chosen": method.spec,
        }
    if settings.relabel_mode is not None:  # the judge, its prompts, ARHN's settings, the mode, the judging counts
        j = pool.judgments
        context["relabel"] = {**j.config, "mode": settings.relabel_mode, "statistics": j.statistics.to_dict()}
    selection = Selection(dataset, stats, settings, context, deepened=deepened)
    logger.info(
        "Selected %d negatives for %d rows with %s (%d removed by the method, %d rows deepened, %d filled, "
        "%d rows dropped)",
        int((selected.negatives >= 0).sum()),
        stats.rows_out,
        settings.method,
        stats.removed_by_method,
        stats.rows_deepened,
        stats.negatives_filled,
        stats.rows_dropped,
    )
    return selection


def selection_teachers(pool: PoolStore, settings: SelectionSettings) -> list[str]:
    """The teacher names a selection uses, checked against the pool (all of them for an unnamed ensemble)."""
    names = settings.teachers
    if names is None:
        if settings.ensemble is None:
            return [pool.teacher_candidates(None).name]
        names = tuple(pool.teachers)
        if len(names) < 2:
            raise ValueError(f"ensemble={settings.ensemble!r} needs two or more teachers; this pool has {names}")
    for name in names:
        pool.teacher_candidates(name)
    return list(names)
