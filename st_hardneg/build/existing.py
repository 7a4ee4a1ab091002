"""Negatives the dataset already has, joined to their anchor's candidates (``existing_negatives="join"``): each is
scored by every teacher (``Teacher.score_pairs``) and placed among the anchor's candidates by its score, so the
rank window, the mining method and the score band filter it like any other candidate. A text missing from the corpus
was added to it for the build (:func:`corpus_with_existing`); an existing negative that is one of the anchor's
positives, or already among its candidates, is not added twice."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from st_hardneg.pool.candidates import TeacherCandidates, row_isin
from st_hardneg.pool.inputs import csr_matrix_rows
from st_hardneg.pool.store import PoolStore

logger = logging.getLogger(__name__)

__all__ = ["corpus_with_existing", "join_existing"]


def corpus_with_existing(corpus: list[str] | None, positives: Sequence[str], existing: list[list[str]]) -> list[str]:
    """The corpus for a build that joins existing negatives: the given corpus (or the positives, as without one), then
    the existing negatives missing from it, said in one log line."""
    texts = list(corpus) if corpus is not None else list(dict.fromkeys(positives))
    known = set(texts)
    missing = list(dict.fromkeys(t for row in existing for t in row if t not in known))
    if missing:
        logger.warning(
            "%d existing negatives are not in the corpus: added to it for this build (existing_negatives='join')",
            len(missing),
        )
    return texts + missing


def join_existing(pool: PoolStore, existing: list[list[str]], *, show_progress: bool = True) -> int:
    """Add each row's existing negatives to its anchor's candidates under every teacher (in place).

    Returns the number of (anchor, document) pairs added to the candidates of the first teacher."""
    doc_ids = {t: i for i, t in enumerate(pool.corpus.to_pylist())}
    pairs = [(int(pool.row_query[r]), doc_ids[t]) for r, texts in enumerate(existing) for t in texts]
    if not pairs:
        return 0
    qd = np.unique(np.asarray(pairs, dtype=np.int64), axis=0)
    positives = csr_matrix_rows(pool.positives_indptr, pool.positives_indices, qd[:, 0])
    qd = qd[~row_isin(qd[:, 1:], positives)[:, 0]]
    queries, corpus = pool.queries.to_pylist(), pool.corpus.to_pylist()
    added = None
    for name, tc in pool.teachers.items():
        new = qd[~row_isin(qd[:, 1:], np.asarray(tc.candidates[qd[:, 0]]).astype(np.int64))[:, 0]]
        count = len(new)
        added = count if added is None else added
        if not count:
            continue
        teacher = pool.teacher_objects[name]
        scores = teacher.score_pairs(corpus, queries, new[:, 0], new[:, 1], show_progress=show_progress)
        pool.teachers[name] = _merged(tc, new, np.asarray(scores, dtype=np.float32))
    logger.info("Joined %d existing negatives to their anchors' candidates", added or 0)
    return added or 0


def _merged(tc: TeacherCandidates, new: np.ndarray, scores: np.ndarray) -> TeacherCandidates:
    """The teacher's candidates with the ``new`` (query, document) pairs placed by score; the reserve without them."""
    nq = len(tc.candidates)
    per_query = np.bincount(new[:, 0], minlength=nq)
    width = int(per_query.max())
    slot = np.arange(len(new)) - np.concatenate([[0], np.cumsum(per_query)])[new[:, 0]]  # new is sorted by query
    extra = np.full((nq, width), -1, dtype=np.int64)
    extra_scores = np.full((nq, width), -np.inf, dtype=np.float32)
    extra[new[:, 0], slot], extra_scores[new[:, 0], slot] = new[:, 1], scores
    cand = np.concatenate([np.asarray(tc.candidates).astype(np.int64), extra], axis=1)
    sc = np.concatenate([np.asarray(tc.scores, dtype=np.float32), extra_scores], axis=1)
    order = np.argsort(-sc.astype(np.float64), axis=1, kind="stable")  # padding (-inf) last
    cand, sc = np.take_along_axis(cand, order, axis=1), np.take_along_axis(sc, order, axis=1)
    last = int((cand >= 0).sum(axis=1).max())
    reserve = np.asarray(tc.random_candidates).astype(np.int64)
    in_extra = row_isin(reserve, extra)
    return TeacherCandidates(
        name=tc.name,
        config=tc.config,
        candidates=cand[:, : max(last, tc.candidates.shape[1])].astype(np.int32),
        scores=sc[:, : max(last, tc.candidates.shape[1])],
        positive_scores=tc.positive_scores,
        random_candidates=np.where(in_extra, -1, reserve).astype(np.int32),
        random_scores=np.where(in_extra, -np.inf, np.asarray(tc.random_scores)).astype(np.float32),
        min_positive_scores=tc.min_positive_scores,
        extension=tc.extension,
    )


def keep_existing(pool: PoolStore, existing: list[list[str]], *, show_progress: bool = True) -> int:
    """Record each row's existing negatives in the pool (``existing_negatives="keep"``), with every teacher's
    scores of them, for selections to put them first, unfiltered (:mod:`st_hardneg.select.existing`). An existing
    negative that is one of the anchor's positives is left out. Returns how many were recorded."""
    doc_ids = {t: i for i, t in enumerate(pool.corpus.to_pylist())}
    rows = [list(dict.fromkeys(doc_ids[t] for t in texts)) for texts in existing]
    positives = csr_matrix_rows(pool.positives_indptr, pool.positives_indices, pool.row_query)
    rows = [[d for d in docs if d not in set(positives[r].tolist())] for r, docs in enumerate(rows)]
    pq = np.asarray([int(pool.row_query[r]) for r, docs in enumerate(rows) for _ in docs], dtype=np.int64)
    pd = np.asarray([d for docs in rows for d in docs], dtype=np.int64)
    queries, corpus = pool.queries.to_pylist(), pool.corpus.to_pylist()
    scores: dict[str, list[list[float]]] = {}
    for name in pool.teachers:
        flat = (
            np.asarray(pool.teacher_objects[name].score_pairs(corpus, queries, pq, pd, show_progress=show_progress))
            if len(pd)
            else np.zeros(0)
        )
        offsets = np.cumsum([0] + [len(docs) for docs in rows])
        scores[name] = [flat[offsets[r] : offsets[r + 1]].astype(float).tolist() for r in range(len(rows))]
    pool.config["existing_negatives"] = {"ids": rows, "scores": scores}
    logger.info("Kept %d existing negatives to put ahead of the mined ones", len(pd))
    return len(pd)
