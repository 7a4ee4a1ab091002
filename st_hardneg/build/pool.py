"""Building a pool: inputs checked, every teacher run over the layout (:mod:`st_hardneg.build.building`), in this
process or sharded and resumable (:mod:`st_hardneg.engines`). Stands above the store (:mod:`st_hardneg.pool`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TypeVar

import pyarrow as pa

from st_hardneg.build.building import index_teachers, pool_config, rank_with_teacher
from st_hardneg.build.existing import corpus_with_existing, join_existing, keep_existing
from st_hardneg.data.arrow_texts import as_arrow
from st_hardneg.data.existing import existing_negative_columns, read_existing_negatives
from st_hardneg.data.leakage import rows_to_keep
from st_hardneg.engines.build import build_sharded
from st_hardneg.engines.settings import EngineSettings
from st_hardneg.keyed_random import text_keys
from st_hardneg.pool.candidates import TeacherCandidates
from st_hardneg.pool.input_columns import InputColumns, check_keep_columns, read_input_columns
from st_hardneg.pool.inputs import (
    FixedCorpus,
    PairLayout,
    build_layout,
    corpus_fingerprint,
    dataset_fingerprint,
    read_corpus,
    read_pairs,
)
from st_hardneg.pool.settings import PoolSettings
from st_hardneg.pool.statistics import PoolStatistics
from st_hardneg.pool.store import PoolStore
from st_hardneg.settings.base import split_kwargs
from st_hardneg.teachers.base import Teacher, TeacherIndex
from st_hardneg.teachers.resolve import resolve_teachers

logger = logging.getLogger(__name__)

__all__ = ["build_pool", "pool_from_layout"]

P = TypeVar("P", bound=PoolStore)


def build_pool(
    cls: type[P],
    dataset: Any,
    teacher: Any | Sequence[Any],
    *,
    corpus: Any = None,
    settings: PoolSettings | None = None,
    engine_settings: EngineSettings | None = None,
    show_progress: bool = True,
    **kwargs: Any,
) -> P:
    """``CandidatePool.build``: check every input, then run the teachers (sharded with ``work_dir``); a ``cls``."""
    pool_kwargs, engine_kwargs = split_kwargs(kwargs, PoolSettings, EngineSettings)
    settings = PoolSettings.from_kwargs(settings, **pool_kwargs)
    engine = EngineSettings.from_kwargs(engine_settings, **engine_kwargs)
    teachers = resolve_teachers(teacher)
    anchor_column, positive_column, anchors, positives = read_pairs(
        dataset, settings.anchor_column, settings.positive_column
    )
    check_keep_columns(dataset, settings.keep_columns, anchor_column, positive_column)
    fingerprint = dataset_fingerprint(anchors, positives)  # of the pairs given, before the leakage guard
    existing = existing_negatives(dataset, settings.existing_negatives, sharded=engine.sharded)
    keep = rows_to_keep(anchors, settings.exclude)
    anchors, positives, excluded = drop_leaked(anchors, positives, keep)
    if existing is not None and keep is not None:
        existing = [existing[i] for i in keep]
    texts = read_corpus(corpus) if corpus is not None else None
    if existing is not None:
        texts = corpus_with_existing(texts, positives, existing)
    layout = build_layout(anchors, positives, texts)
    settings = settings.replace(anchor_column=anchor_column, positive_column=positive_column)
    inputs = read_input_columns(
        dataset, corpus, layout, anchor_column, positive_column, settings.keep_columns, rows=keep
    )
    if engine.sharded:
        pool = build_sharded(
            layout,
            teachers,
            settings,
            engine,
            dataset_fingerprint=fingerprint,
            corpus_given=corpus is not None,
            show_progress=show_progress,
            pool_class=cls,
        )
        pool.teacher_objects.update({t.name: t for t in teachers})  # they score soft labels on demand
        pool.statistics.rows_excluded = excluded
        return with_input_columns(pool, inputs)
    pool = pool_from_layout(
        cls,
        layout,
        teachers,
        settings,
        dataset_fingerprint=fingerprint,
        corpus_given=corpus is not None,
        show_progress=show_progress,
    )
    pool.statistics.rows_excluded = excluded
    if existing is not None and settings.existing_negatives == "join":
        pool.statistics.existing_negatives_joined = join_existing(pool, existing, show_progress=show_progress)
    elif existing is not None:
        pool.statistics.existing_negatives_kept = keep_existing(pool, existing, show_progress=show_progress)
    return with_input_columns(pool, inputs)


def existing_negatives(dataset: Any, mode: str, *, sharded: bool) -> list[list[str]] | None:
    """Each row's existing negatives for ``existing_negatives="join"``; ``None`` otherwise (a one-line note when the
    dataset has some and they are ignored). Raises before any work when ``join`` has nothing to join."""
    columns = existing_negative_columns(dataset)
    if mode == "ignore":
        if columns:
            logger.warning(
                "The dataset's negative columns %s are ignored: existing_negatives='join' adds them to their anchors' "
                "candidates, 'keep' puts them ahead of the mined ones",
                columns,
            )
        return None
    if not columns:
        raise ValueError(
            f"existing_negatives={mode!r}, but the dataset has no negative column (negative, negative_<n>, negatives)"
        )
    if sharded:
        raise ValueError(f"existing_negatives={mode!r} is not available with a sharded build (work_dir) yet")
    return read_existing_negatives(dataset, columns)


def drop_leaked(anchors: list[str], positives: list[str], keep: Any) -> tuple[list[str], list[str], int]:
    """The pairs without the rows whose anchor is an evaluation anchor (``keep``: the other rows' indices, from
    :func:`~st_hardneg.data.leakage.rows_to_keep`; None: every row), and how many were dropped."""
    if keep is None:
        return anchors, positives, 0
    if not len(keep):
        raise ValueError(
            f"exclude: every one of the {len(anchors)} training rows has an evaluation anchor; nothing is left to mine"
        )
    return [anchors[i] for i in keep], [positives[i] for i in keep], len(anchors) - len(keep)


def _one_array(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The pool's corpus as one Arrow array (a corpus dataset's chunks are joined here, in Arrow)."""
    return texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts


def with_input_columns(pool: P, inputs: InputColumns | None) -> P:
    """The pool holding its inputs' ids and kept columns (none: nothing held), recorded in its config."""
    pool.input_columns = inputs
    if inputs is not None:
        pool.config["input_columns"] = inputs.describe()
    return pool


def pool_from_layout(
    cls: type[P],
    layout: PairLayout,
    teachers: Sequence[Teacher],
    settings: PoolSettings,
    *,
    dataset_fingerprint: str,
    corpus_given: bool,
    indexes: dict[str, TeacherIndex] | None = None,
    fixed_corpus: FixedCorpus | None = None,
    show_progress: bool = True,
) -> P:
    """Run the teachers over a checked layout (the step after :func:`build_pool`'s checks; the miner calls it with
    its corpus indexed once in ``indexes``)."""
    stats = PoolStatistics.of_layout(layout)
    query_keys = text_keys(layout.queries)
    candidates: dict[str, TeacherCandidates] = {}
    built = index_teachers(teachers, layout.corpus, indexes=indexes, show_progress=show_progress)
    for t in teachers:
        logger.info("Mining candidates with teacher %s", t.name)
        index = built[t.name]
        tc, tstats = rank_with_teacher(
            layout,
            index,
            t.name,
            t.config(),
            depth=settings.depth,
            num_random=settings.num_random,
            seed=settings.seed,
            query_keys=query_keys,
            show_progress=show_progress,
        )
        candidates[t.name] = tc
        stats.teachers[t.name] = tstats
    config = pool_config(
        settings,
        {name: tc.config for name, tc in candidates.items()},
        corpus_given=corpus_given,
        dataset_fingerprint=dataset_fingerprint,
        corpus_fingerprint=corpus_fingerprint(layout.corpus),
    )
    pool = cls(
        queries=pa.array(layout.queries, type=pa.large_string()),
        corpus=fixed_corpus.arrow if fixed_corpus is not None else _one_array(as_arrow(layout.corpus)),
        row_query=layout.row_query,
        row_positive=layout.row_positive,
        positives_indptr=layout.positives_indptr,
        positives_indices=layout.positives_indices,
        teachers=candidates,
        config=config,
        statistics=stats,
        teacher_objects={t.name: t for t in teachers},
        indexes=built,
        query_keys=query_keys,
    )
    return pool
