"""Writing selected negatives as sentence-transformers training datasets.

Texts are gathered with ``pyarrow.compute.take`` from Arrow arrays of the queries and the corpus, so building the
output never goes through per-row Python lists (the RAM problem of sentence-transformers' miner on large sets).

Formats, named as sentence-transformers names them (``mine_hard_negatives(output_format=...)``):

- ``"triplet"``: (anchor, positive, negative), one row per negative; ``scores`` = [pos, neg].
- ``"n-tuple"``: (anchor, positive, negative_1, ..., negative_n); ``scores`` = [pos, neg_1, ..., neg_n].
  For ``MultipleNegativesRankingLoss`` with hard negatives.
- ``"labeled-pair"``: (anchor, <positive column>, label) rows, 1 for the positive and 0 for each negative;
  with scores, a ``score`` column replaces ``label``. An anchor's negatives appear once even when several rows
  share the anchor.
- ``"labeled-list"``: (anchor, [positive, neg_1, ...], labels [1, 0, ...]); with scores, ``scores`` replaces
  ``labels``. Extra positives of a relabeled pool (``relabeled_output="list"``) follow the positive, labelled 1:
  (anchor, [positive, extra_1, ..., neg_1, ...], labels [1, 1, ..., 0, ...]).

Scores of several teachers (soft labels, ``score_teachers``) come as one column per teacher, ``scores_<name>``
(``score_<name>`` for labeled pairs), laid out like ``scores`` (NaN for the extra positives of a labeled list, which
only the selection's own ``scores`` column knows). The teacher column (``output_teachers``) names who chose each
negative: ``teachers`` (a list per row, aligned with the negatives; null for the positives of a labeled list) or
``teacher`` (triplet and labeled-pair rows; null on positive rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset
from datasets.fingerprint import generate_random_fingerprint
from datasets.table import InMemoryTable

from st_hardneg.formatting.carried import Carried, ids_of, lists

OutputFormat = Literal["triplet", "n-tuple", "labeled-pair", "labeled-list"]
OUTPUT_FORMATS: tuple[str, ...] = ("triplet", "n-tuple", "labeled-pair", "labeled-list")


@dataclass
class Selected:
    """Rows after selection: everything a formatter needs, as arrays.

    Attributes:
        row_query: ``[n]`` query index of each kept row.
        row_positive: ``[n]`` corpus index of each kept row's positive.
        negatives: ``[n, k]`` corpus indices of the negatives, hardest first, ``-1``-padded.
        positive_scores: ``[n]``.
        negative_scores: ``[n, k]``, NaN at padding.
        rows: ``[n]`` position of each kept row among the rows the selection started from.
        teacher_bits: uint64 ``[n, k]``, bit ``t`` set when the selection's teacher ``t`` chose the negative (0 for
            padding and random fill documents).
        extra_positives: ``[n, m]`` corpus indices of further positives (relabeled ones), ``-1``-padded; used by
            the labeled-list format.
        extra_positive_scores: ``[n, m]``, NaN at padding.
    """

    row_query: np.ndarray
    row_positive: np.ndarray
    negatives: np.ndarray
    positive_scores: np.ndarray
    negative_scores: np.ndarray
    rows: np.ndarray | None = None
    teacher_bits: np.ndarray | None = None
    extra_positives: np.ndarray | None = field(default=None)
    extra_positive_scores: np.ndarray | None = field(default=None)


def format_dataset(
    selected: Selected,
    queries: pa.Array,
    corpus: pa.Array,
    output_format: OutputFormat,
    *,
    anchor_column: str = "anchor",
    positive_column: str = "positive",
    output_scores: bool = False,
    score_columns: dict[str, tuple[np.ndarray, ...]] | None = None,
    teacher_labels: np.ndarray | None = None,
    include_positives: bool = False,
    carried: Carried | None = None,
) -> Dataset:
    """Build the output :class:`datasets.Dataset`. ``queries`` and ``corpus`` are Arrow string arrays.

    Args:
        output_scores: add the selection's own scores as ``scores`` (when ``score_columns`` is not given).
        score_columns: ``{column: (positive scores [n], negative scores [n, k])}``, each written like ``scores``
            (named ``scores...``; a labeled-pair column is named ``score...``); replaces ``output_scores``. A third
            array ``[n, m]`` gives that column's scores of ``selected.extra_positives`` (``labeled-list``); without
            it, the ``scores`` column takes ``selected.extra_positive_scores`` and the others NaN.
        teacher_labels: ``[n, k]`` strings naming who chose each negative (``None`` at padding).
        include_positives: ``labeled-list`` only: each row's list is in the teacher's rank order, the positive(s)
            among the negatives where their scores put them (sentence-transformers' ``include_positives``, for
            reranking evaluation sets), instead of the positive first.
        carried: ids and kept input columns of the selected rows (:mod:`st_hardneg.formatting.carried`), written
            after the format's own columns.
    """
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {OUTPUT_FORMATS}, got {output_format!r}")
    s = selected
    valid = s.negatives >= 0
    if score_columns is None:
        score_columns = {"scores": (s.positive_scores, s.negative_scores)} if output_scores else {}
    table = {name: np.concatenate([scores[0][:, None], scores[1]], axis=1) for name, scores in score_columns.items()}
    extra_table = {name: scores[2] for name, scores in score_columns.items() if len(scores) > 2}
    columns: dict[str, pa.Array] = {}
    ids: dict[str, pa.Array] = {}
    if output_format == "n-tuple":
        if not valid.all():
            raise ValueError("n-tuple rows need every negative; short rows must be filled or dropped first")
        columns[anchor_column] = pc.take(queries, s.row_query)
        columns[positive_column] = pc.take(corpus, s.row_positive)
        for j in range(s.negatives.shape[1]):
            columns[f"negative_{j + 1}"] = pc.take(corpus, s.negatives[:, j])
        for name, values in table.items():
            columns[name] = _fixed_lists(values)
        if teacher_labels is not None:
            columns["teachers"] = _string_lists(teacher_labels, np.ones(valid.shape, bool))
        source = np.arange(len(s.row_query))
        if carried is not None and carried.writes_ids:
            ids["positive_id"] = carried.positive_ids
            for j in range(s.negatives.shape[1]):
                ids[f"negative_{j + 1}_id"] = ids_of(carried.corpus_ids, s.negatives[:, j])
    elif output_format == "triplet":
        row, col = np.nonzero(valid)
        columns[anchor_column] = pc.take(queries, s.row_query[row])
        columns[positive_column] = pc.take(corpus, s.row_positive[row])
        columns["negative"] = pc.take(corpus, s.negatives[row, col])
        for name, values in table.items():
            columns[name] = _fixed_lists(np.stack([values[row, 0], values[row, col + 1]], axis=1))
        if teacher_labels is not None:
            columns["teacher"] = pa.array(teacher_labels[row, col].tolist(), type=pa.string())
        source = row
        if carried is not None and carried.writes_ids:
            ids["positive_id"] = pc.take(carried.positive_ids, pa.array(row))
            ids["negative_id"] = ids_of(carried.corpus_ids, s.negatives[row, col])
    elif output_format == "labeled-list":
        n = len(s.row_positive)
        extra = s.extra_positives if s.extra_positives is not None else np.full((n, 0), -1, np.int64)
        extra_scores = s.extra_positive_scores if s.extra_positive_scores is not None else np.zeros(extra.shape)
        docs = np.concatenate([s.row_positive[:, None], extra, s.negatives], axis=1)
        keep = np.concatenate([np.ones((n, 1), bool), extra >= 0, valid], axis=1)
        order = None
        if include_positives:  # rank order by the selection's scores, padding last; a tie puts the positive first
            ranked = np.concatenate([s.positive_scores[:, None], extra_scores, s.negative_scores], axis=1)
            order = np.argsort(np.where(keep, -ranked.astype(np.float64), np.inf), axis=1, kind="stable")
            docs, keep = np.take_along_axis(docs, order, axis=1), np.take_along_axis(keep, order, axis=1)
        offsets = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int32)
        columns[anchor_column] = pc.take(queries, s.row_query)
        columns[positive_column] = pa.ListArray.from_arrays(offsets, pc.take(corpus, docs[keep]))
        for name, values in table.items():
            # extra (relabeled) positives: the column's own scores of them when given (soft labels), else the
            # selection's own scores in "scores"
            extra_values = extra_table.get(name, extra_scores if name == "scores" else np.full(extra.shape, np.nan))
            values = np.concatenate([values[:, :1], extra_values, values[:, 1:]], axis=1)
            values = (values if order is None else np.take_along_axis(values, order, axis=1))[keep]
            columns[name] = pa.ListArray.from_arrays(offsets, pa.array(values.astype(np.float32)))
        if not table:
            labels = np.zeros(keep.shape, dtype=np.int64)
            labels[:, : 1 + extra.shape[1]] = 1
            labels = labels if order is None else np.take_along_axis(labels, order, axis=1)
            columns["labels"] = pa.ListArray.from_arrays(offsets, pa.array(labels[keep]))
        if teacher_labels is not None:
            with_positive = np.concatenate([np.full((n, 1 + extra.shape[1]), None, object), teacher_labels], axis=1)
            with_positive = with_positive if order is None else np.take_along_axis(with_positive, order, axis=1)
            columns["teachers"] = _string_lists(with_positive, keep)
        source = np.arange(n)
        if carried is not None and carried.writes_ids:
            ids["positive_ids"] = _positive_id_lists(carried, extra)
            ids["negative_ids"] = lists(ids_of(carried.corpus_ids, s.negatives[valid]), valid.sum(axis=1))
    else:  # labeled-pair
        at = _labeled_pairs(s, valid)
        q = np.repeat(s.row_query[:, None], valid.shape[1] + 1, axis=1).ravel()[at]
        d = np.concatenate([s.row_positive[:, None], s.negatives], axis=1).ravel()[at]
        columns[anchor_column] = pc.take(queries, q)
        columns[positive_column] = pc.take(corpus, d)
        for name, values in table.items():
            columns["score" + name[len("scores") :]] = pa.array(values.ravel()[at].astype(np.float32))
        if not table:
            columns["label"] = pa.array((at % (valid.shape[1] + 1) == 0).astype(np.int64))
        if teacher_labels is not None:
            with_positive = np.concatenate([np.full((len(valid), 1), None, object), teacher_labels], axis=1)
            columns["teacher"] = pa.array(with_positive.ravel()[at].tolist(), type=pa.string())
        source = at // (valid.shape[1] + 1)
        if carried is not None and carried.writes_ids:
            positive = at % (valid.shape[1] + 1) == 0
            ids["positive_id"] = pc.if_else(pa.array(positive), pc.take(carried.positive_ids, pa.array(source)), None)
            ids["negative_id"] = pc.if_else(pa.array(~positive), ids_of(carried.corpus_ids, np.maximum(d, 0)), None)
    if carried is not None:  # after the format's own columns, so theirs keep their positions
        columns.update(carried.row_columns(source, ids))
    # An explicit fingerprint: without it, datasets pickles the whole table to hash it (seconds and several times
    # the table's size in memory on large outputs).
    return Dataset(InMemoryTable(pa.table(columns)), fingerprint=generate_random_fingerprint())


def _fixed_lists(values: np.ndarray) -> pa.Array:
    values = values.astype(np.float32)
    offsets = np.arange(0, values.size + 1, values.shape[1], dtype=np.int32)
    return pa.ListArray.from_arrays(offsets, pa.array(values.ravel()))


def _string_lists(values: np.ndarray, keep: np.ndarray) -> pa.Array:
    offsets = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int32)
    return pa.ListArray.from_arrays(offsets, pa.array(values[keep].tolist(), type=pa.string()))


def _labeled_pairs(s: Selected, valid: np.ndarray) -> np.ndarray:
    """Positions in the flattened ``[n, 1 + k]`` (positive, negatives) matrix of the output rows: each row's
    positive, then each anchor's negatives once (one row per distinct (query, document, label); the first
    occurrence keeps its place)."""
    n, k = s.negatives.shape
    q = np.repeat(s.row_query[:, None], k + 1, axis=1)
    d = np.concatenate([s.row_positive[:, None], s.negatives], axis=1)
    label = np.zeros((n, k + 1), dtype=np.int64)
    label[:, 0] = 1
    keep = np.concatenate([np.ones((n, 1), bool), valid], axis=1)
    at = np.flatnonzero(keep.ravel())
    key = np.stack([q.ravel()[at], d.ravel()[at], label.ravel()[at]], axis=1)
    _, first = np.unique(key, axis=0, return_index=True)
    first.sort()
    return at[first]


def _positive_id_lists(carried: Carried, extra: np.ndarray) -> pa.Array:
    """Per labeled-list row, the ids of its positive and then of its extra (relabeled) positives."""
    n = len(extra)
    er, _ = np.nonzero(extra >= 0)  # the row of each extra positive, row-major like extra[extra >= 0]
    every = pa.concat_arrays([carried.positive_ids, ids_of(carried.corpus_ids, extra[extra >= 0])])
    rows = np.concatenate([np.arange(n), er])
    order = np.argsort(rows * 2 + (np.arange(len(rows)) >= n), kind="stable")
    return lists(pc.take(every, pa.array(order)), 1 + (extra >= 0).sum(axis=1))
