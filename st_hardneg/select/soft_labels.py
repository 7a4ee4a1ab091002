"""Soft labels (``output_scores``): each score teacher's score of every output pair, from the pool where it scored
the pair, from the teacher in memory where it did not."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from st_hardneg.pool.candidates import TeacherCandidates
from st_hardneg.pool.lookup import lookup_scores
from st_hardneg.pool.statistics import SelectionStatistics
from st_hardneg.pool.store import PoolStore

logger = logging.getLogger(__name__)


def score_columns(
    pool: PoolStore,
    selected: Any,
    names: list[str],
    *,
    score_teachers: Sequence[str] | None,
    ensemble: bool,
    stats: SelectionStatistics,
    show_progress: bool,
) -> tuple[dict[str, tuple[np.ndarray, ...]], dict[str, Any]]:
    """Soft labels: each score teacher's score of every output (anchor, positive) and (anchor, negative) pair,
    and of a relabeled pool's extra list positives (``relabeled_output="list"``).

    A pair the teacher never scored in the pool (a negative another teacher chose outside its candidates and
    fill reserve; a relabeled positive another teacher ranked) is scored by the teacher itself when it is in
    memory, and counted in ``stats.pairs_scored_on_demand``; otherwise a ``ValueError`` says which teacher and
    how many pairs. No soft label is left NaN. ``names``: the selecting teachers (an ``ensemble``'s members).
    """
    score_names = list(score_teachers or (names if ensemble else names[:1]))
    for name in score_names:
        pool.teacher_candidates(name)
    extra_docs = selected.extra_positives
    columns, context = {}, {}
    for name in score_names:
        tc = pool.teachers[name]
        own = not ensemble and name == names[0]  # the selecting teacher: the selection's scores
        if own:
            positives = np.array(selected.positive_scores, dtype=np.float32)
        else:
            positives = positive_scores_of(pool, tc, selected)
        blocks = [(positives[:, None], selected.row_positive[:, None])]
        blocks.append((lookup_scores(tc, selected.row_query, selected.negatives), selected.negatives))
        if extra_docs is not None:
            extra = (
                np.array(selected.extra_positive_scores, dtype=np.float32)
                if own
                else lookup_scores(tc, selected.row_query, extra_docs)
            )
            blocks.append((extra, extra_docs))
        missing = [np.isnan(scores) & (docs >= 0) for scores, docs in blocks]
        if any(m.any() for m in missing):
            at = [np.nonzero(m) for m in missing]
            pair_q = np.concatenate([selected.row_query[r] for r, _ in at])
            pair_d = np.concatenate([np.asarray(docs)[r, c] for (r, c), (_, docs) in zip(at, blocks)])
            scored = score_missing(pool, name, pair_q, pair_d, show_progress)
            offset = 0
            for (scores, _), m in zip(blocks, missing):
                scores[m] = scored[offset : offset + int(m.sum())]
                offset += int(m.sum())
            stats.pairs_scored_on_demand[name] = len(pair_q)
        key = "scores" if len(score_names) == 1 else f"scores_{name}"
        columns[key] = (blocks[0][0][:, 0], *(scores for scores, _ in blocks[1:]))
        context[name] = tc.config
    return columns, context


def positive_scores_of(pool: PoolStore, tc: TeacherCandidates, selected: Any) -> np.ndarray:
    """``tc``'s score of each selected row's positive: the pool's rows from the pool, rows a relabeled pool added
    (``relabeled_output="rows"``) from the teacher's candidates (NaN where it did not rank that document)."""
    rows = np.asarray(selected.rows)
    in_pool = rows < len(pool.row_query)
    positives = np.full(len(rows), np.nan, dtype=np.float32)
    positives[in_pool] = np.asarray(tc.positive_scores)[rows[in_pool]]
    if not in_pool.all():
        added = ~in_pool
        positives[added] = lookup_scores(tc, selected.row_query[added], selected.row_positive[added, None])[:, 0]
    return positives


def score_missing(
    pool: PoolStore, name: str, pair_q: np.ndarray, pair_d: np.ndarray, show_progress: bool
) -> np.ndarray:
    """Teacher ``name``'s scores of (anchor, document) pairs it never scored in the pool, by the teacher in
    memory (a ``ValueError`` when the pool holds none)."""
    teacher = pool.teacher_objects.get(name)
    if teacher is None:
        example_q, example_d = pool.queries[int(pair_q[0])].as_py(), pool.corpus[int(pair_d[0])].as_py()
        raise ValueError(
            f"teacher {name!r} never scored {len(pair_q)} of the selected (anchor, document) pairs (e.g. "
            f"{example_q[:60]!r} / {example_d[:60]!r}: outside its {pool.depth} candidates and its fill reserve), "
            "and the teacher is not in memory to score them (a pool read from disk holds no teacher): pass it to "
            f"CandidatePool.load(path, teachers=[...]), or leave {name!r} out of score_teachers"
        )
    logger.info("Scoring %d (anchor, document) pairs with teacher %s for soft labels", len(pair_q), name)
    return teacher.score_pairs(
        pool.corpus.to_pylist(), pool.queries.to_pylist(), pair_q, pair_d, show_progress=show_progress
    ).astype(np.float32)
