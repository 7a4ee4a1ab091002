"""From a dataset of (anchor, positive) rows to the integer layout a candidate pool works on.

- Anchors are deduplicated by exact text: rows sharing an anchor are one query with several positives.
- The corpus is ``corpus`` (deduplicated by exact text) plus every positive not already in it; without ``corpus``
  it is the dataset's positives. Duplicated texts are one document.
- Rows keep their order; each row records its query and its positive document.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from st_hardneg.columns import resolve_columns
from st_hardneg.data.arrow_texts import ArrowTexts, iter_chunks
from st_hardneg.pool.corpus_input import corpus_ids, corpus_texts, is_dataset
from st_hardneg.teachers.cache import texts_digest

logger = logging.getLogger(__name__)


def read_pairs(
    dataset: Any, anchor_column: str | None = None, positive_column: str | None = None
) -> tuple[str, str, list[str], list[str]]:
    """The anchor and positive columns of ``dataset`` (by :func:`st_hardneg.columns.resolve_columns`) and their texts.

    Raises:
        TypeError: ``dataset`` is not a ``datasets.Dataset`` or a dict of columns.
        ValueError: a missing column, an empty dataset, or a row whose anchor or positive is not a non-empty string.
    """
    if isinstance(dataset, Mapping):
        lengths = {name: len(values) for name, values in dataset.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"The dataset's columns differ in length: {lengths}")
    anchor_column, positive_column = resolve_columns(dataset, anchor_column, positive_column)
    anchors, positives = list(dataset[anchor_column]), list(dataset[positive_column])
    if len(anchors) == 0:
        raise ValueError("The dataset has no rows to mine")
    check_texts(anchors, f"anchor (column {anchor_column!r})")
    check_texts(positives, f"positive (column {positive_column!r})")
    return anchor_column, positive_column, anchors, positives


def read_corpus(corpus: Any) -> Sequence[str]:
    """The corpus as a list of texts, checked: every entry a non-empty string, at least one entry.

    ``corpus`` is a list of texts, a ``{id: text}`` mapping (its values, in order), or a ``datasets.Dataset`` with
    a text column (and optional id and title columns: :mod:`st_hardneg.pool.corpus_input`). The ids are read by
    :func:`st_hardneg.pool.corpus_input.corpus_ids`. A dataset's texts stay in Arrow: they come back as an
    :class:`~st_hardneg.data.arrow_texts.ArrowTexts`, checked chunk by chunk.

    Raises:
        TypeError: a single string, or non-string entries.
        ValueError: an empty corpus or an empty text (named by its position).
    """
    if isinstance(corpus, Mapping):
        corpus = list(corpus.values())
    elif is_dataset(corpus):
        return read_arrow_corpus(corpus_texts(corpus))
    if isinstance(corpus, (str, bytes)):
        raise TypeError("corpus is a single string; pass a list of document texts")
    try:
        texts = list(corpus)
    except TypeError:
        raise TypeError(f"corpus must be a list of texts, got {type(corpus).__name__}") from None
    if not texts:
        raise ValueError("corpus is empty; give the documents to mine from, or leave it out to use the positives")
    check_texts(texts, "corpus entry", prefix="corpus")
    return texts


def read_arrow_corpus(texts: pa.ChunkedArray) -> ArrowTexts:
    """A corpus dataset's texts, checked chunk by chunk (never all turned into Python strings at once)."""
    if len(texts) == 0:
        raise ValueError("corpus is empty; give the documents to mine from, or leave it out to use the positives")
    start = 0
    for chunk in iter_chunks(texts):
        if chunk.null_count:
            first = start + chunk.is_null().to_pylist().index(True)
            raise TypeError(f"corpus[{first}]: the corpus entry is None; every corpus entry must be a string")
        blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(chunk.cast(pa.large_string()))), 0)
        if pc.any(blank).as_py():
            first = start + blank.to_pylist().index(True)
            raise ValueError(f"corpus[{first}]: the corpus entry is {chunk[first - start].as_py()!r}; every corpus "
                             "entry must be a non-empty string")  # fmt: skip
        start += len(chunk)
    return ArrowTexts(texts)


def dataset_fingerprint(anchors: Sequence[str], positives: Sequence[str]) -> str:
    """A digest of the (anchor, positive) rows in order: a pool records it to recognise its dataset."""
    return texts_digest([text for pair in zip(anchors, positives) for text in pair])


def corpus_fingerprint(corpus: Sequence[str]) -> str:
    """A digest of the pool's deduplicated corpus texts in order."""
    return texts_digest(corpus)


class FixedCorpus:
    """A deduplicated corpus indexed once and shared by many small pools (``HardNegativeMiner``)."""

    def __init__(self, corpus: Iterable[str]) -> None:
        self.ids: dict[str, int] = {}
        first: list[int] = []
        for i, text in enumerate(read_corpus(corpus)):
            if text not in self.ids:
                self.ids[text] = len(self.ids)
                first.append(i)
        self.texts: list[str] = list(self.ids)
        given = corpus_ids(corpus)
        #: the document ids the corpus gave (``{id: text}``, a Dataset with an id column), first id of each text
        self.document_ids = None if given is None else given.take(np.asarray(first, dtype=np.int64))
        self._arrow = None

    @property
    def arrow(self):
        import pyarrow as pa

        if self._arrow is None:
            self._arrow = pa.array(self.texts, type=pa.large_string())
        return self._arrow


@dataclass
class PairLayout:
    """Integer view of the input rows.

    Attributes:
        queries: unique anchor texts, in first-seen order.
        corpus: unique document texts: the given corpus first, then positives missing from it (an
            :class:`~st_hardneg.data.arrow_texts.ArrowTexts` when the corpus was given in Arrow).
        row_query: ``[rows]`` query index of each row.
        row_positive: ``[rows]`` corpus index of each row's positive.
        positives_indptr / positives_indices: CSR lists of each query's distinct positive documents.
        added_positives: how many positives were not in the given corpus and were added to it.
        duplicate_corpus_texts: how many corpus entries were duplicates of an earlier one.
        corpus_first: ``[given documents]`` position in the given corpus of each of its distinct texts' first
            occurrence (where its id is read from); None without a given corpus.
    """

    queries: list[str]
    corpus: list[str]
    row_query: np.ndarray
    row_positive: np.ndarray
    positives_indptr: np.ndarray
    positives_indices: np.ndarray
    added_positives: int = 0
    duplicate_corpus_texts: int = 0
    corpus_first: np.ndarray | None = None

    @property
    def max_positives(self) -> int:
        return int(np.diff(self.positives_indptr).max(initial=0))

    def positives_matrix(self, queries: np.ndarray) -> np.ndarray:
        """``[len(queries), max_positives]`` positive document ids of the given queries, ``-1``-padded."""
        return csr_matrix_rows(self.positives_indptr, self.positives_indices, queries)


def csr_matrix_rows(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``[len(rows), widest]`` entries of the given rows of a CSR list (``indptr``, ``indices``), ``-1``-padded."""
    rows = np.asarray(rows, dtype=np.int64)
    counts = np.diff(indptr)[rows]
    width = max(int(counts.max(initial=0)), 1)
    out = np.full((len(rows), width), -1, dtype=np.int64)
    col = np.arange(width)
    mask = col[None, :] < counts[:, None]
    starts = np.asarray(indptr)[rows]
    out[mask] = np.asarray(indices)[(starts[:, None] + col[None, :])[mask]]
    return out


def build_layout(
    anchors: Sequence[str],
    positives: Sequence[str],
    corpus: Iterable[str] | None = None,
    *,
    fixed_corpus: FixedCorpus | None = None,
) -> PairLayout:
    """Deduplicate anchors and documents and index the rows.

    Args:
        fixed_corpus: an already indexed corpus (``dataset.map`` mining): positives are looked up in it and never
            added, and ``corpus`` is ignored.

    Texts are expected to be checked already (:func:`read_pairs`, :func:`read_corpus`).
    """
    if len(anchors) != len(positives):
        raise ValueError(f"{len(anchors)} anchors but {len(positives)} positives")
    if len(anchors) == 0:
        raise ValueError("The dataset has no rows to mine")

    if fixed_corpus is not None:
        missing = sum(p not in fixed_corpus.ids for p in positives)
        if missing:
            raise ValueError(
                f"{missing} positives are not in the miner's corpus; include every positive in `corpus` "
                "(e.g. corpus + list(dataset['positive']))"
            )
        query_ids = {}
        row_query = np.fromiter((query_ids.setdefault(a, len(query_ids)) for a in anchors), np.int64, len(anchors))
        row_positive = np.fromiter((fixed_corpus.ids[p] for p in positives), np.int64, len(positives))
        return _layout(list(query_ids), fixed_corpus.texts, row_query, row_positive, 0, 0)

    if isinstance(corpus, ArrowTexts):
        return _arrow_layout(anchors, positives, corpus)
    doc_ids: dict[str, int] = {}
    duplicates = 0
    first: list[int] = []
    if corpus is not None:
        for i, text in enumerate(corpus):
            if text in doc_ids:
                duplicates += 1
            else:
                doc_ids[text] = len(doc_ids)
                first.append(i)
    given = len(doc_ids)
    query_ids: dict[str, int] = {}
    row_query = np.fromiter((query_ids.setdefault(a, len(query_ids)) for a in anchors), np.int64, len(anchors))
    row_positive = np.fromiter((doc_ids.setdefault(p, len(doc_ids)) for p in positives), np.int64, len(positives))
    added = len(doc_ids) - given
    if corpus is not None and added:
        logger.info("%d positives were not in the corpus and were added to it", added)
    if duplicates:
        logger.info("%d duplicated corpus texts were merged", duplicates)

    layout = _layout(list(query_ids), list(doc_ids), row_query, row_positive, added, duplicates)
    if corpus is not None:
        layout.corpus_first = np.asarray(first, dtype=np.int64)
    return layout


def _arrow_layout(anchors: Sequence[str], positives: Sequence[str], corpus: ArrowTexts) -> PairLayout:
    """:func:`build_layout` for a corpus held in Arrow: distinct texts by Arrow's hashing (first appearance first),
    positives looked up in them; the layout's corpus stays in Arrow (the given array itself when it has no
    duplicates)."""
    texts = corpus.arrow
    distinct = pc.unique(texts)
    position = pc.index_in(texts, value_set=distinct)
    _, first = np.unique(position.to_numpy(), return_index=True)  # the distinct texts are in first-seen order
    duplicates = len(texts) - len(distinct)
    given = len(distinct)
    found = pc.index_in(pa.array(positives, type=distinct.type), value_set=distinct).to_numpy(zero_copy_only=False)
    missing = np.isnan(found) if found.dtype.kind == "f" else np.zeros(len(found), bool)
    row_positive = np.where(missing, -1, np.nan_to_num(found, nan=-1)).astype(np.int64)
    added: dict[str, int] = {}
    for i in np.flatnonzero(missing):
        row_positive[i] = given + added.setdefault(positives[i], len(added))
    query_ids: dict[str, int] = {}
    row_query = np.fromiter((query_ids.setdefault(a, len(query_ids)) for a in anchors), np.int64, len(anchors))
    if added:
        logger.info("%d positives were not in the corpus and were added to it", len(added))
    if duplicates:
        logger.info("%d duplicated corpus texts were merged", duplicates)
    documents = texts if not duplicates else distinct
    if added:
        extra = pa.array(list(added), type=documents.type)
        documents = pa.chunked_array([*_chunks(documents), extra], type=documents.type)
    layout = _layout(list(query_ids), ArrowTexts(documents), row_query, row_positive, len(added), duplicates)
    layout.corpus_first = first.astype(np.int64)
    return layout


def _chunks(array: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(array.chunks) if isinstance(array, pa.ChunkedArray) else [array]


def _layout(queries, corpus, row_query, row_positive, added, duplicates) -> PairLayout:
    pairs = np.unique(np.stack([row_query, row_positive], axis=1), axis=0)  # sorted by query, then doc
    indptr = np.zeros(len(queries) + 1, dtype=np.int64)
    np.add.at(indptr, pairs[:, 0] + 1, 1)
    return PairLayout(
        queries=queries,
        corpus=corpus,
        row_query=row_query,
        row_positive=row_positive,
        positives_indptr=np.cumsum(indptr),
        positives_indices=pairs[:, 1].copy(),
        added_positives=added,
        duplicate_corpus_texts=duplicates,
    )


def check_texts(texts: Sequence[Any], role: str, *, prefix: str = "Row") -> None:
    """Raise naming the first entry that is not a non-empty string (``TypeError`` for non-strings)."""
    for i, text in enumerate(texts):
        where = f"corpus[{i}]" if prefix == "corpus" else f"data row {i + 1}"  # rows as the user counts them
        if not isinstance(text, str):
            raise TypeError(f"{where}: the {role} is {text!r} ({type(text).__name__}); every {role} must be a string")
        if not text.strip():
            raise ValueError(f"{where}: the {role} is {text!r}; every {role} must be a non-empty string")


def check_fingerprints(
    recorded: Mapping[str, Any],
    dataset: Any,
    corpus: Any,
    *,
    made: tuple[str, str],
    positives: Sequence[str] | None = None,
    corpus_required: bool = False,
) -> None:
    """The one check that a dataset and a corpus are those something was made from, by their fingerprints.

    Args:
        recorded: ``{"dataset_fingerprint", "corpus_fingerprint", "corpus_given", "settings": {"anchor_column",
            "positive_column"}}``, as a pool's ``config`` holds them.
        dataset / corpus: what is given (``None``: not checked; a corpus is checked against the dataset's positives,
            or ``positives`` when no dataset is given).
        made: ``(what, verb)`` for the messages: ``("this pool", "built")``, ``("the set", "mined")``.
        corpus_required: whether leaving ``corpus`` out when one was given (or giving one when none was) is an error.

    Raises:
        ValueError: naming what differs, before anything loads.
    """
    what, verb = made
    settings = recorded.get("settings") or {}
    if dataset is not None:
        _, _, anchors, positives = read_pairs(dataset, settings.get("anchor_column"), settings.get("positive_column"))
        expected = recorded.get("dataset_fingerprint")
        if expected and dataset_fingerprint(anchors, positives) != expected:
            raise ValueError(
                f"{what.capitalize()} was {verb} on another dataset: these {len(anchors)} pairs are not the ones "
                f"{what} was {verb} from (other rows, texts or order); {verb} it again for this dataset"
            )
    given = recorded.get("corpus_given")
    if corpus_required and given is not None and (corpus is not None) != given:
        raise ValueError(f"{what} was {verb} " + ("with a corpus: pass corpus=" if given else "without a corpus"))
    expected = recorded.get("corpus_fingerprint")
    if (corpus is not None or corpus_required) and expected and positives is not None:
        texts = read_corpus(corpus) if corpus is not None else None
        layout_corpus = build_layout(positives, positives, texts).corpus
        if corpus_fingerprint(layout_corpus) != expected:
            raise ValueError(
                f"{what.capitalize()} was {verb} on another corpus: this corpus is not the one {what} was {verb} "
                f"from (with the pairs' positives it makes {len(layout_corpus)} documents; or other texts)"
            )
