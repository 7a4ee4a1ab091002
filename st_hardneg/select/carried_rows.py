"""What the selected rows carry from their input rows (:class:`~st_hardneg.formatting.carried.Carried`): the
``keep_columns`` the pool kept, and with ``output_ids`` the ids of anchors, positives and documents.

A row a relabeled pool added (``relabeled_output="rows"``) came from no input row: its kept columns are null, its
anchor id is that of its anchor's first input row and its positive id that of its document.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from st_hardneg.formatting.carried import Carried
from st_hardneg.formatting.formatters import Selected
from st_hardneg.pool.statistics import SelectionStatistics
from st_hardneg.pool.store import PoolStore

__all__ = ["carried_rows", "check_ids", "count_missing_ids"]


def check_ids(pool: PoolStore, output_ids: bool) -> None:
    """Raise (one line) when ``output_ids=True`` asks for ids this pool was not given."""
    inputs = pool.input_columns
    if output_ids and (inputs is None or not inputs.has_ids()):
        raise ValueError(
            "output_ids=True, but this pool was built without ids: give the pairs an anchor id column (anchor_id, "
            "query_id, ...) and the corpus ids ({id: text}, or a Dataset with an id column); none are invented"
        )


def carried_rows(pool: PoolStore, selected: Selected, output_ids: bool, stats: SelectionStatistics) -> Carried | None:
    """The kept columns and (``output_ids``) ids of the selected rows; None when there is nothing to carry."""
    check_ids(pool, output_ids)
    inputs = pool.input_columns
    if inputs is None or (not output_ids and not inputs.keep_columns):
        return None
    n_in = len(pool)
    rows = np.arange(len(selected.row_query)) if selected.rows is None else np.asarray(selected.rows, np.int64)
    own = rows < n_in
    at = pa.array(np.where(own, rows, 0), mask=~own)
    carried = Carried()
    if inputs.keep_columns:
        carried.kept = inputs.rows.select(list(inputs.keep_columns)).take(at)
        stats.columns_kept = list(inputs.keep_columns)
    if output_ids:
        queries, first = np.unique(pool.row_query, return_index=True)
        first_row = np.zeros(len(pool.queries), dtype=np.int64)
        first_row[queries] = first
        carried.anchor_ids = pc.take(inputs.anchor_ids, pa.array(np.where(own, rows, first_row[selected.row_query])))
        by_document = pc.take(inputs.corpus_ids, pa.array(selected.row_positive))
        own_ids = pc.take(inputs.row_positive_ids(pool.row_positive), at)
        carried.positive_ids = pc.coalesce(own_ids, by_document)
        carried.corpus_ids = inputs.corpus_ids
    return carried


def count_missing_ids(dataset: object, output_format: str) -> int:
    """Null values (the inner values of list columns included) in a mined set's id columns; a labeled pair counts
    once when it has neither a positive nor a negative id (it holds one of the two by design)."""
    table = dataset.data.table if hasattr(dataset.data, "table") else dataset.data
    if output_format == "labeled-pair":
        either = pc.coalesce(table.column("positive_id"), table.column("negative_id"))
        return table.column("anchor_id").null_count + either.null_count
    missing = 0
    for name in table.column_names:
        if name in ("anchor_id", "positive_id", "negative_id", "positive_ids", "negative_ids") or (
            name.startswith("negative_") and name.endswith("_id")
        ):
            column = table.column(name)
            if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
                column = pc.list_flatten(column)
            missing += column.null_count
    return missing
