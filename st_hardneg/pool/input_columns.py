"""What a pool keeps of its inputs besides the texts: the ids of its anchors, positives and corpus documents, and the
input columns named by ``keep_columns`` (:class:`InputColumns`).

Ids are read where the inputs carry them (:mod:`st_hardneg.columns` names the id columns of pairs,
:mod:`st_hardneg.pool.corpus_input` those of a corpus) and never invented: an id nobody gave is null. A document's
id is the id its text had in the corpus the first time it appeared (a corpus holding one text under two ids is one
document); a document the corpus gave no id (a positive not in it, a corpus of bare texts) has the positive id of
the first row whose positive it is. A row's positive id is the one its row gives,
else its document's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather

from st_hardneg.columns import column_names, id_columns
from st_hardneg.pool.corpus_input import arrow_table, corpus_ids

__all__ = ["InputColumns", "check_keep_columns", "check_output_ids", "read_input_columns"]

ANCHOR_ID = "anchor_id"
POSITIVE_ID = "positive_id"
_ROWS_FILE = "input_rows.arrow"
_CORPUS_IDS_FILE = "corpus_ids.arrow"


@dataclass
class InputColumns:
    """Ids and kept columns of a pool's inputs.

    Attributes:
        rows: one row per input row: ``anchor_id`` and ``positive_id`` when the pairs have id columns, then the
            ``keep_columns`` under their own names.
        corpus_ids: ``[corpus]`` id of each pool document (string; null where none was given), or None when neither
            the corpus nor the pairs gave document ids.
        keep_columns: the kept columns' names, in order.
    """

    rows: pa.Table
    corpus_ids: pa.Array | None = None
    keep_columns: tuple[str, ...] = field(default=())

    @property
    def anchor_ids(self) -> pa.Array | None:
        return self.rows.column(ANCHOR_ID).combine_chunks() if ANCHOR_ID in self.rows.column_names else None

    def row_positive_ids(self, row_positive: np.ndarray) -> pa.Array | None:
        """``[rows]`` each row's positive id: the row's own, else its document's; None when neither exists."""
        own = self.rows.column(POSITIVE_ID).combine_chunks() if POSITIVE_ID in self.rows.column_names else None
        if self.corpus_ids is None:
            return own
        by_document = pc.take(self.corpus_ids, pa.array(np.asarray(row_positive, dtype=np.int64)))
        return by_document if own is None else pc.coalesce(own, by_document)

    def has_ids(self) -> bool:
        return ANCHOR_ID in self.rows.column_names and self.corpus_ids is not None

    def take_rows(self, rows: np.ndarray) -> InputColumns:
        return InputColumns(self.rows.take(pa.array(np.asarray(rows, np.int64))), self.corpus_ids, self.keep_columns)

    def describe(self) -> dict[str, Any]:
        """What the pool's config records: which ids it has, and the kept columns."""
        return {
            "anchor_ids": ANCHOR_ID in self.rows.column_names,
            "positive_ids": POSITIVE_ID in self.rows.column_names,
            "corpus_ids": self.corpus_ids is not None,
            "keep_columns": list(self.keep_columns),
        }

    def save(self, path: Path, write_with: Any) -> None:
        """``input_rows.arrow`` and, with document ids, ``corpus_ids.arrow`` (uncompressed: memory-mapped)."""
        write_with(path / _ROWS_FILE, lambda f: feather.write_feather(self.rows, f, compression="uncompressed"))
        if self.corpus_ids is not None:
            table = pa.table({"id": self.corpus_ids})
            write_with(path / _CORPUS_IDS_FILE, lambda f: feather.write_feather(table, f, compression="uncompressed"))

    @classmethod
    def load(cls, path: Path, keep_columns: Sequence[str]) -> InputColumns | None:
        if not (path / _ROWS_FILE).exists():
            return None
        rows = feather.read_table(path / _ROWS_FILE, memory_map=True)
        ids = None
        if (path / _CORPUS_IDS_FILE).exists():
            ids = feather.read_table(path / _CORPUS_IDS_FILE, memory_map=True).column("id").combine_chunks()
        return cls(rows, ids, tuple(keep_columns))


def check_keep_columns(dataset: Any, keep_columns: Sequence[str], anchor_column: str, positive_column: str) -> None:
    """Raise (one line, before anything is encoded) when a kept column is not in ``dataset`` or is the anchor or
    positive column itself."""
    names = column_names(dataset)
    for name in keep_columns:
        if name not in names:
            raise ValueError(f"keep_columns: {name!r} is not a column of the dataset; its columns are {names}")
        if name in (anchor_column, positive_column):
            raise ValueError(f"keep_columns: {name!r} is the {'anchor' if name == anchor_column else 'positive'} "
                             "column, already in every output row")  # fmt: skip


def check_output_ids(
    dataset: Any, corpus: Any, anchor_column: str | None, positive_column: str | None, *, corpus_has_ids: bool = False
) -> None:
    """Raise (one line, before anything is encoded) unless the inputs carry the ids ``output_ids=True`` writes:
    anchor ids in the pairs, and document ids in the corpus (or, without a corpus, positive ids in the pairs)."""
    from st_hardneg.columns import resolve_columns

    anchor_column, positive_column = resolve_columns(dataset, anchor_column, positive_column)
    names = column_names(dataset)
    anchor_id, positive_id = id_columns(names, anchor_column, positive_column)
    if anchor_id is None:
        raise ValueError(
            f"output_ids=True needs the anchors' ids: the dataset has no anchor id column ({anchor_column}_id, "
            f"anchor_id, query_id, ...); its columns are {names}. No ids are invented"
        )
    if corpus is None and positive_id is None:
        raise ValueError(
            f"output_ids=True needs the documents' ids: give the pairs a positive id column ({positive_column}_id, "
            f"positive_id, corpus_id, ...) or a corpus with ids ({{id: text}}, or a Dataset with an id column); the "
            f"dataset's columns are {names}"
        )
    if corpus is not None and not corpus_has_ids and corpus_ids(corpus) is None:
        raise ValueError(
            "output_ids=True needs the documents' ids: this corpus has none; give it as {id: text} or as a Dataset "
            "with an id column (_id, id, doc_id, ...). No ids are invented"
        )


def read_input_columns(
    dataset: Any,
    corpus: Any,
    layout: Any,
    anchor_column: str,
    positive_column: str,
    keep_columns: Sequence[str] = (),
    *,
    document_ids: pa.Array | None = None,
    rows: np.ndarray | None = None,
) -> InputColumns | None:
    """The ids and kept columns of a pool's inputs, aligned with its ``layout`` (a
    :class:`~st_hardneg.pool.inputs.PairLayout`); None when the inputs have neither ids nor kept columns.

    ``document_ids``: the ids of the layout's corpus itself (a miner's fixed corpus), instead of ``corpus``'s.
    ``rows``: the dataset's rows the layout was built from, in order (the leakage guard's
    :func:`~st_hardneg.data.leakage.rows_to_keep`); None: every row.
    """
    anchor_id, positive_id = id_columns(column_names(dataset), anchor_column, positive_column)
    given_ids = corpus_ids(corpus) if corpus is not None else None
    if anchor_id is None and positive_id is None and given_ids is None and document_ids is None and not keep_columns:
        return None
    table = arrow_table(dataset)
    if rows is not None:  # the rows the leakage guard kept, so ids and kept columns stay aligned with the layout
        table = table.take(pa.array(np.asarray(rows, dtype=np.int64)))
    columns: dict[str, Any] = {}
    if anchor_id is not None:
        columns[ANCHOR_ID] = _strings(table.column(anchor_id), anchor_id)
    if positive_id is not None:
        columns[POSITIVE_ID] = _strings(table.column(positive_id), positive_id)
    for name in keep_columns:
        columns[name] = table.column(name)
    rows = pa.table(columns) if columns else pa.table({"_": pa.nulls(table.num_rows)}).drop(["_"])
    if document_ids is None:
        document_ids = _document_ids(layout, given_ids, columns.get(POSITIVE_ID))
    return InputColumns(rows, document_ids, tuple(keep_columns))


def _document_ids(layout: Any, given_ids: pa.Array | None, positive_ids: pa.Array | None) -> pa.Array | None:
    """``[layout.corpus]`` ids: the given corpus's (first occurrence of each text), else the positive id of the
    first row whose positive the document is; null where neither exists."""
    if given_ids is None and positive_ids is None:
        return None
    size = len(layout.corpus)
    given = 0 if layout.corpus_first is None else len(layout.corpus_first)
    ids = pa.nulls(size, pa.large_string())
    if given_ids is not None and given:
        first = np.asarray(layout.corpus_first, dtype=np.int64)
        beyond = first >= len(given_ids)  # texts added to the given corpus for the build (existing negatives)
        taken = pc.take(given_ids, pa.array(np.where(beyond, 0, first), mask=beyond))
        ids = pa.concat_arrays([taken.cast(pa.large_string()), pa.nulls(size - given, pa.large_string())])
    if positive_ids is not None:
        docs, first_row = np.unique(layout.row_positive, return_index=True)
        at = np.full(size, -1, dtype=np.int64)
        at[docs] = first_row
        by_row = pc.take(positive_ids, pa.array(np.maximum(at, 0), mask=at < 0)).cast(pa.large_string())
        ids = pc.coalesce(ids, by_row)
    return ids


def _strings(values: Any, column: str) -> pa.Array:
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if values.null_count:
        raise ValueError(f"id column {column!r} has {values.null_count} missing value(s)")
    return values.cast(pa.large_string())
