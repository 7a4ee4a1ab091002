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
        extra_positives: ``[n, m]`` corpus indices of further positives (relabeled ones), ``-1``-padded; used by
            the labeled-list format.
        extra_positive_scores: ``[n, m]``, NaN at padding.
    """

    row_query: np.ndarray
    row_positive: np.ndarray
    negatives: np.ndarray
    positive_scores: np.ndarray
    negative_scores: np.ndarray
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
) -> Dataset:
    """Build the output :class:`datasets.Dataset`. ``queries`` and ``corpus`` are Arrow string arrays."""
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {OUTPUT_FORMATS}, got {output_format!r}")
    s = selected
    valid = s.negatives >= 0
    columns: dict[str, pa.Array] = {}
    if output_format == "n-tuple":
        if not valid.all():
            raise ValueError("n-tuple rows need every negative; short rows must be filled or dropped first")
        columns[anchor_column] = pc.take(queries, s.row_query)
        columns[positive_column] = pc.take(corpus, s.row_positive)
        for j in range(s.negatives.shape[1]):
            columns[f"negative_{j + 1}"] = pc.take(corpus, s.negatives[:, j])
        if output_scores:
            columns["scores"] = _fixed_lists(np.concatenate([s.positive_scores[:, None], s.negative_scores], axis=1))
    elif output_format == "triplet":
        row, col = np.nonzero(valid)
        columns[anchor_column] = pc.take(queries, s.row_query[row])
        columns[positive_column] = pc.take(corpus, s.row_positive[row])
        columns["negative"] = pc.take(corpus, s.negatives[row, col])
        if output_scores:
            columns["scores"] = _fixed_lists(np.stack([s.positive_scores[row], s.negative_scores[row, col]], axis=1))
    elif output_format == "labeled-list":
        n = len(s.row_positive)
        extra = s.extra_positives if s.extra_positives is not None else np.full((n, 0), -1, np.int64)
        extra_scores = s.extra_positive_scores if s.extra_positive_scores is not None else np.zeros(extra.shape)
        docs = np.concatenate([s.row_positive[:, None], extra, s.negatives], axis=1)
        keep = np.concatenate([np.ones((n, 1), bool), extra >= 0, valid], axis=1)
        offsets = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int32)
        columns[anchor_column] = pc.take(queries, s.row_query)
        columns[positive_column] = pa.ListArray.from_arrays(offsets, pc.take(corpus, docs[keep]))
        if output_scores:
            values = np.concatenate([s.positive_scores[:, None], extra_scores, s.negative_scores], axis=1)[keep]
            columns["scores"] = pa.ListArray.from_arrays(offsets, pa.array(values.astype(np.float32)))
        else:
            labels = np.zeros(keep.shape, dtype=np.int64)
            labels[:, : 1 + extra.shape[1]] = 1
            columns["labels"] = pa.ListArray.from_arrays(offsets, pa.array(labels[keep]))
    else:  # labeled-pair
        q, d, label, score = _labeled_pairs(s, valid)
        columns[anchor_column] = pc.take(queries, q)
        columns[positive_column] = pc.take(corpus, d)
        if output_scores:
            columns["score"] = pa.array(score.astype(np.float32))
        else:
            columns["label"] = pa.array(label)
    # An explicit fingerprint: without it, datasets pickles the whole table to hash it (seconds and several times
    # the table's size in memory on large outputs).
    return Dataset(InMemoryTable(pa.table(columns)), fingerprint=generate_random_fingerprint())


def _fixed_lists(values: np.ndarray) -> pa.Array:
    values = values.astype(np.float32)
    offsets = np.arange(0, values.size + 1, values.shape[1], dtype=np.int32)
    return pa.ListArray.from_arrays(offsets, pa.array(values.ravel()))


def _labeled_pairs(s: Selected, valid: np.ndarray) -> tuple[np.ndarray, ...]:
    """(query, doc, label, score) per output row: each row's positive, then each anchor's negatives once."""
    n, k = s.negatives.shape
    q = np.concatenate([s.row_query[:, None], np.repeat(s.row_query[:, None], k, axis=1)], axis=1)
    d = np.concatenate([s.row_positive[:, None], s.negatives], axis=1)
    label = np.zeros((n, k + 1), dtype=np.int64)
    label[:, 0] = 1
    score = np.concatenate([s.positive_scores[:, None], s.negative_scores], axis=1)
    keep = np.concatenate([np.ones((n, 1), bool), valid], axis=1)
    q, d, label, score = q[keep], d[keep], label[keep], score[keep]
    # One row per distinct (query, document, label); the first occurrence keeps its place.
    key = np.stack([q, d, label], axis=1)
    _, first = np.unique(key, axis=0, return_index=True)
    first.sort()
    return q[first], d[first], label[first], score[first]
