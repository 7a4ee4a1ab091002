"""One teacher's selection before formatting: the rows (a relabeled pool may add some), the deepening of short
rows, and the negatives (:func:`~st_hardneg.select.negatives.select_negatives`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from st_hardneg.filters.methods import resolve_auto
from st_hardneg.formatting.formatters import Selected
from st_hardneg.pool.candidates import CandidateExtension, TeacherCandidates
from st_hardneg.pool.inputs import csr_matrix_rows
from st_hardneg.pool.statistics import SelectionStatistics
from st_hardneg.pool.store import ROW_SALT, PoolStore
from st_hardneg.select.deepening import DeepeningPlan, extra_candidates, plan_deepening
from st_hardneg.select.duplicates import DuplicateGuard, duplicate_guard
from st_hardneg.select.existing import kept_negatives
from st_hardneg.select.judged import extra_positive_lists, extra_positive_rows, resolve_relabel_mode
from st_hardneg.select.negatives import row_positive_scores, select_negatives
from st_hardneg.select.rules import NegativeRule
from st_hardneg.select.settings import SelectionSettings

logger = logging.getLogger(__name__)


class Picked(NamedTuple):
    """A single-teacher selection before formatting."""

    selected: Selected
    statistics: SelectionStatistics
    settings: SelectionSettings  # teacher, relabel_mode and method (auto) resolved
    teacher: TeacherCandidates
    extension: CandidateExtension | None  # the deeper candidates known after it (None: nothing searched)


def pick(
    pool: PoolStore,
    settings: SelectionSettings,
    *,
    chunk_size: int,
    show_progress: bool,
    extensions: dict[str, CandidateExtension] | None = None,
) -> Picked:
    """One teacher's rows and negatives, before formatting (what a selection and a sweep share), with a relabeled
    pool's judgments applied (judged candidates kept out, relabeled positives as extra rows or list entries) and
    short rows deepened for ``on_short="deepen"``.

    ``extensions``: deeper candidates found earlier and not kept in the pool (a sweep passes what its previous
    configurations found); default: the pool's own. The pool is not changed: the deeper candidates come back in
    :attr:`Picked.extension`, for :meth:`~st_hardneg.pool.store.PoolStore.keep_deepened`."""
    if settings.ensemble is not None:
        raise ValueError(f"ensemble={settings.ensemble!r}: a sweep scores one teacher's selections at a time")
    tc = pool.teacher_candidates(settings.teacher)
    depth = tc.depth
    settings.check_depth(depth, len(pool.corpus))
    relabel_mode = resolve_relabel_mode(pool.judgments, settings.relabel_mode)
    method, _ = resolve_auto(settings.method, pool.positives_indptr)
    settings = settings.replace(teacher=tc.name, relabel_mode=relabel_mode, method=method)
    row_query, row_positive, row_keys = pool.row_query, pool.row_positive, pool.row_keys(settings.seed)
    positive_scores = row_positive_scores(tc, pool.row_query, settings.positive_score)
    own_scores = None  # each row's own positive score: the teacher's, unless relabeled rows are added
    # ---- relabeled pools (st_hardneg.relabel): judged candidates, extra positive rows or list entries
    judged = extras = None
    if relabel_mode not in (None, "off"):
        same_teacher = pool.judgments.config.get("teacher") == tc.name
        judged = pool.judgments.lookup(len(pool.corpus), relabel_mode, judged_teacher=same_teacher)
        if settings.relabeled_output != "exclude":
            rq, rd, at = judged.relabeled()
            extras = extra_positive_rows(
                tc, rq, rd, positions=at if same_teacher else None, corpus=pool.corpus,
                query_keys=pool.query_keys, seed=settings.seed, row_salt=ROW_SALT,
                positive_score=settings.positive_score,
            )  # fmt: skip
        if settings.relabeled_output == "rows":
            row_query = np.concatenate([row_query, extras.row_query])
            row_positive = np.concatenate([row_positive, extras.row_positive])
            positive_scores = np.concatenate([positive_scores, extras.positive_scores])
            own_scores = np.concatenate([np.asarray(tc.positive_scores), extras.own_scores])
            row_keys = np.concatenate([row_keys, extras.row_keys])
    elif settings.relabeled_output != "exclude" and pool.judgments is None:
        raise ValueError(
            f"relabeled_output={settings.relabeled_output!r} needs a relabeled pool; this pool has no judgments: "
            "run pool.relabel(ARHN(judge, ...)) first"
        )
    rule = NegativeRule.of(settings)
    duplicates = duplicate_guard(
        pool.corpus,
        pool.positives_indptr,
        pool.positives_indices,
        exact=settings.exact_duplicates,
        near=settings.near_duplicates,
    )
    deepening = None
    if settings.on_short == "deepen":
        known = (extensions or {}).get(tc.name, tc.extension)
        deepening = deepen(pool, tc, known, rule, settings.max_depth, row_query, positive_scores, judged, duplicates)
    selected, stats = select_negatives(
        tc,
        row_query,
        row_positive,
        positive_scores,
        rule=rule,
        row_keys=row_keys,
        deepening=deepening,
        chunk_size=chunk_size,
        show_progress=show_progress,
        judged=judged,
        own_positive_scores=own_scores,
        duplicates=duplicates,
        kept=kept_negatives(pool.config, tc.name, len(row_query)),
    )
    if extras is not None and settings.relabeled_output == "rows":
        stats.relabeled_rows = len(extras.row_query)
    if extras is not None and settings.relabeled_output == "list":
        selected.extra_positives, selected.extra_positive_scores = extra_positive_lists(
            selected.row_query, extras.row_query, extras.row_positive, extras.own_scores
        )
        stats.relabeled_in_lists = int((selected.extra_positives >= 0).sum())
    extension = deepening.extension if deepening is not None and deepening.anchors_searched else None
    return Picked(selected, stats, settings, tc, extension)


def deepen(
    pool: PoolStore,
    tc: TeacherCandidates,
    extension: CandidateExtension | None,
    rule: NegativeRule,
    max_depth: int | None,
    row_query: np.ndarray,
    positive_scores: np.ndarray,
    judged: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
    duplicates: DuplicateGuard | None = None,
) -> DeepeningPlan:
    """Search the anchors of rows short at the pool's depth deeper (:mod:`st_hardneg.select.deepening`), starting
    from the deeper candidates already found (``extension``); the plan holds the extension with what was found.
    ``row_query`` / ``positive_scores``: the rows selected (a relabeled pool
    may add rows); ``judged``: a relabeled pool's lookup, whose relabeled and filtered candidates do not count
    as survivors."""
    corpus_size = len(pool.corpus)
    limit = corpus_size if max_depth is None else min(max_depth, corpus_size)
    if rule.range_max is not None:  # no deeper than the rank window reaches
        limit = min(limit, max(rule.range_max, tc.depth))
    extension = extension or CandidateExtension.empty(len(tc.candidates), tc.depth)
    search = None
    if pool.can_search(tc.name):
        texts = pool.query_texts

        def search(queries: np.ndarray, depth: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
            index = pool.teacher_index(tc.name)  # indexed on first need when only the teacher is in memory
            logger.info("Searching %d anchors to depth %d with teacher %s", len(queries), depth, tc.name)
            return extra_candidates(
                lambda q, k: index.search(texts, q, k, show_progress=False),
                queries,
                depth,
                np.asarray(tc.candidates[queries]),
                csr_matrix_rows(pool.positives_indptr, pool.positives_indices, queries),
                corpus_size,
            )

    plan = plan_deepening(
        tc.candidates,
        tc.scores,
        extension,
        row_query,
        positive_scores,
        rule=rule,
        num_negatives=rule.num_negatives,
        limit=limit,
        search=search,
        teacher=tc.name,
        judged=judged,
        duplicates=duplicates,
    )
    return plan
