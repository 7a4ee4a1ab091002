"""A corpus given as ``{id: text}`` or as a ``datasets.Dataset`` with id, text and title columns: its texts and ids.

A dataset's document text is its ``text`` column (or its one text column that is neither an id nor a title), with
its ``title`` joined as BEIR and sentence-transformers join them: ``(title + " " + text).strip()``. Its ids come from
the first column present among :data:`st_hardneg.columns.CORPUS_ID_COLUMNS` (``_id``, ``id``, ``doc_id``, ...).
A ``{id: text}`` mapping gives its keys as ids and its values as texts. Ids are strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from st_hardneg.columns import column_names, corpus_id_column, is_id_column, text_columns

__all__ = ["arrow_table", "corpus_ids", "corpus_text_column", "corpus_texts", "is_dataset"]


def is_dataset(corpus: Any) -> bool:
    """Whether ``corpus`` is a table with named columns (a ``datasets.Dataset``), not a list or array of texts."""
    return hasattr(corpus, "column_names") and not hasattr(corpus, "__array__") and not isinstance(corpus, Mapping)


def corpus_text_column(corpus: Any) -> str:
    """The column of a corpus dataset that holds the document texts (see the module docstring).

    Raises:
        ValueError: no ``text`` column and not exactly one other text column.
    """
    names = column_names(corpus)
    if "text" in names:
        return "text"
    texts = text_columns(corpus)
    eligible = [c for c in names if c != "title" and not is_id_column(c) and (texts is None or c in texts)]
    if len(eligible) != 1:
        raise ValueError(
            f"corpus is a dataset with columns {names}: name its document column 'text' (and its ids '_id' or 'id', "
            "its titles 'title')"
        )
    return eligible[0]


def corpus_ids(corpus: Any) -> pa.Array | None:
    """The corpus's document ids in order as an Arrow string array, or None when it has none (a list of texts)."""
    if isinstance(corpus, Mapping):
        return pa.array([str(key) for key in corpus], type=pa.large_string())
    if not is_dataset(corpus):
        return None
    column = corpus_id_column(column_names(corpus))
    if column is None:
        return None
    return _as_strings(arrow_table(corpus).column(column), f"corpus id column {column!r}")


def arrow_table(dataset: Any) -> pa.Table:
    """The Arrow table of a ``datasets.Dataset`` in row order (memory-mapped when the dataset is; a dataset with an
    indices mapping, from ``select`` or ``filter``, is gathered first), or of a dict of columns."""
    if not hasattr(dataset, "data"):
        return pa.table({c: dataset[c] for c in column_names(dataset)})
    if getattr(dataset, "_indices", None) is not None:
        dataset = dataset.flatten_indices()
    return dataset.data.table if hasattr(dataset.data, "table") else dataset.data


def _as_strings(values: Any, what: str) -> pa.Array:
    """``values`` (an Arrow array or chunked array) as one large_string array, refusing missing values."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], type=pa.large_string())
    if values.null_count:
        first = values.is_null().to_pylist().index(True)
        raise ValueError(f"the {what} has {values.null_count} missing value(s), the first in row {first}")
    return values.cast(pa.large_string())


def corpus_texts(corpus: Any) -> pa.ChunkedArray:
    """The document texts of a corpus dataset as an Arrow array, chunk by chunk as the dataset stores them (a
    memory-mapped dataset without titles is read in place; with titles, each chunk is joined as BEIR does)."""
    column = corpus_text_column(corpus)
    table = arrow_table(corpus)
    texts = table.column(column)
    if "title" not in table.column_names or column == "title":
        return texts
    import pyarrow.compute as pc

    titles = table.column("title")
    chunks = []
    for title_chunk, text_chunk in zip(_rechunk(titles, texts), texts.chunks, strict=True):
        joined = pc.binary_join_element_wise(
            pc.fill_null(title_chunk.cast(pa.large_string()), ""),
            pc.fill_null(text_chunk.cast(pa.large_string()), ""),
            pa.scalar(" ", pa.large_string()),
        )
        chunks.append(pc.utf8_trim_whitespace(joined))
    return pa.chunked_array(chunks, type=pa.large_string())


def _rechunk(values: pa.ChunkedArray, like: pa.ChunkedArray) -> list[pa.Array]:
    """``values`` sliced into chunks the lengths of ``like``'s."""
    out, start = [], 0
    for chunk in like.chunks:
        out.append(values.slice(start, len(chunk)).combine_chunks())
        start += len(chunk)
    return out
