"""Selecting from a relabeled pool: what a pool's judgments (:mod:`st_hardneg.relabel`) change in a selection.

- Relabeled passages join their anchor's positives: like positives they are removed from the candidates before the
  mining method runs, so they are never selected as negatives (nor counted among the candidates considered).
- Filtered passages are removed the same way.
- ``relabeled_output="rows"`` adds an (anchor, relabeled passage) row for each relabeled passage, whose negatives
  are selected like any row's (its positive score: the teacher's score of that passage; its random draws keyed by
  the seed, the anchor and the passage, as for every row). ``"list"`` adds the relabeled passages to the anchor's
  labeled-list with label 1 (for listwise losses that take several positives).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from st_hardneg.keyed_random import combine, text_keys
from st_hardneg.pool.candidates import TeacherCandidates

#: Rows looked up at once when a relabeled passage's teacher score must be found in another teacher's ranking.
_CHUNK = 16384

__all__ = ["ExtraRows", "check_no_judgments_needed", "extra_positive_rows", "resolve_relabel_mode"]


def check_no_judgments_needed(settings: Any) -> None:
    """Raise before any work when selection settings ask for judgments but the pool will be built fresh (which has
    none): ``mine_hard_negatives``, ``HardNegativeMiner`` and the command without ``--pool``."""
    asked = [
        f"{name}={value!r}"
        for name, value, default in (
            ("relabel_mode", settings.relabel_mode, (None, "off")),
            ("relabeled_output", settings.relabeled_output, ("exclude",)),
        )
        if value not in default
    ]
    if asked:
        raise ValueError(
            f"{' and '.join(asked)} select with a relabeled pool's judgments, and a newly built pool has none: "
            "build the pool, run pool.relabel(ARHN(judge, ...)) (or st-hardneg relabel POOL), then select from it"
        )


def resolve_relabel_mode(judgments: Any, requested: str | None) -> str | None:
    """The mode a selection applies: the pool's ARHN mode by default, ``"off"`` to ignore the judgments. ``None``
    when the pool has no judgments (and none were asked for)."""
    if judgments is None:
        if requested not in (None, "off"):
            raise ValueError(
                f"relabel_mode={requested!r} needs a relabeled pool; this pool has no judgments: run "
                "pool.relabel(ARHN(judge, ...)) (or st-hardneg relabel POOL) first"
            )
        return None
    if requested is None:
        return judgments.mode
    if requested != "off" and requested not in judgments.modes:
        judgments.labels(requested)  # raises, naming what the judgments can decide
    return requested


class ExtraRows(NamedTuple):
    """Rows added for relabeled positives: query, positive (corpus id), the positive score the methods compare
    with, the row's own positive score, and its key."""

    row_query: np.ndarray
    row_positive: np.ndarray
    positive_scores: np.ndarray
    own_scores: np.ndarray
    row_keys: np.ndarray


def extra_positive_rows(
    tc: TeacherCandidates,
    queries: np.ndarray,
    documents: np.ndarray,
    *,
    positions: np.ndarray | None = None,
    corpus: Any,
    query_keys: np.ndarray,
    seed: int,
    row_salt: np.uint64,
    positive_score: str,
) -> ExtraRows:
    """Rows for relabeled (query, document) pairs.

    A row's own positive score is the teacher's score of the passage (the anchor's lowest labelled positive score
    when the teacher did not rank it); the methods compare with it for ``positive_score="row"``, and with the
    anchor's lowest labelled positive score for ``"min"``. ``positions``: where each passage is in ``tc``'s
    ranking, when ``tc`` is the teacher that was judged (otherwise it is looked up, in chunks). Row keys follow
    :meth:`CandidatePool.row_keys <st_hardneg.pool.CandidatePool.row_keys>`: seed, anchor text and positive text, so
    a row's draws do not depend on the other rows.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    q = np.asarray(queries, dtype=np.int64)
    d = np.asarray(documents, dtype=np.int64)
    lowest = np.asarray(tc.min_positive_scores, dtype=np.float32)[q]
    own = lowest.copy()
    if positions is not None and len(q):
        ok = (positions >= 0) & (positions < tc.depth)
        at = np.where(ok, positions, 0)
        ok &= np.asarray(tc.candidates[q, at]) == d  # the passage is where the judged ranking had it
        own = np.where(ok, np.asarray(tc.scores[q, at], dtype=np.float32), lowest)
    else:
        for start in range(0, len(q), _CHUNK):  # memory: a chunk of rows x depth
            s = slice(start, start + _CHUNK)
            hit = np.asarray(tc.candidates[q[s]]) == d[s, None]
            at = hit.argmax(axis=1)
            own[s] = np.where(hit.any(axis=1), np.asarray(tc.scores[q[s], at], dtype=np.float32), lowest[s])
    own = own.astype(np.float32)
    scores = own if positive_score == "row" else lowest
    doc_keys = text_keys(pc.take(corpus, pa.array(d)).to_pylist()) if len(d) else np.zeros(0, np.uint64)
    keys = combine(query_keys[q], doc_keys, np.uint64(seed), row_salt) if len(q) else np.zeros(0, np.uint64)
    return ExtraRows(q, d, scores, own, keys)


def extra_positive_lists(
    row_query: np.ndarray, queries: np.ndarray, documents: np.ndarray, scores_of: Any
) -> tuple[np.ndarray, np.ndarray]:
    """``[rows, m]`` relabeled passages of each row's anchor (-1 padded) and their teacher scores (NaN padded)."""
    n = len(row_query)
    if len(queries) == 0:
        return np.full((n, 0), -1, np.int64), np.full((n, 0), np.nan, np.float32)
    counts = np.bincount(queries, minlength=int(max(row_query.max(initial=0), queries.max()) + 1))
    width = int(counts.max())
    starts = np.concatenate([[0], np.cumsum(counts)])
    per_row = counts[row_query]
    out = np.full((n, width), -1, np.int64)
    out_scores = np.full((n, width), np.nan, np.float32)
    rows, j = np.nonzero(np.arange(width)[None, :] < per_row[:, None])
    src = starts[row_query[rows]] + j
    out[rows, j] = documents[src]
    out_scores[rows, j] = scores_of[src]
    return out, out_scores
