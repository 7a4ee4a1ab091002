"""Which columns hold the anchors and the positives: the one rule, used by the loaders, the pool, the miner, ECI and
the command.

The rule follows sentence-transformers (which reads columns by position) while letting names win:

1. a column named by ``anchor_column`` / ``positive_column`` is used, and must exist;
2. otherwise a column called ``"anchor"`` (``"positive"``) is used when there is one;
3. otherwise the first (next) text column in order, skipping score and label columns (``scores``, ``score``,
   ``label``, ``labels``), id columns (named ``id``, ``_id`` or ending in ``_id``) and, when the column types are
   known, columns that do not hold text (numbers).

Ids (:func:`id_columns`) follow a rule of names too. An anchor's id is read from the first column present among
``<anchor column>_id``, ``anchor_id``, ``query_id``, ``query-id``, ``qid``; a positive's from the first among
``<positive column>_id``, ``positive_id``, ``corpus_id``, ``corpus-id``, ``doc_id``, ``document_id``, ``pid``;
a corpus document's from the first among ``_id``, ``id``, ``doc_id``, ``document_id``, ``corpus_id``, ``docid``.
Ids are read as strings (``7`` becomes ``"7"``), as BEIR writes them.

Examples:
    >>> resolve_columns(["query", "answer", "label"])
    ('query', 'answer')
    >>> resolve_columns(["id", "anchor", "positive"])
    ('anchor', 'positive')
    >>> resolve_columns(["query_id", "query", "corpus_id", "passage"])
    ('query', 'passage')
    >>> id_columns(["query_id", "query", "corpus_id", "passage"], "query", "passage")
    ('query_id', 'corpus_id')
    >>> resolve_columns(["q", "a"], anchor_column="question")
    Traceback (most recent call last):
    ...
    ValueError: anchor_column='question' is not a column of the dataset; its columns are ['q', 'a']
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "CORPUS_ID_COLUMNS",
    "NON_TEXT_COLUMNS",
    "column_names",
    "corpus_id_column",
    "id_columns",
    "is_id_column",
    "resolve_columns",
    "text_columns",
]

#: Columns that hold scores or labels, never anchors or documents.
NON_TEXT_COLUMNS = frozenset({"scores", "score", "label", "labels"})
#: Where an anchor's id is read from, after ``<anchor column>_id`` (first present wins).
ANCHOR_ID_COLUMNS = ("anchor_id", "query_id", "query-id", "qid")
#: Where a positive's id is read from, after ``<positive column>_id`` (first present wins).
POSITIVE_ID_COLUMNS = ("positive_id", "corpus_id", "corpus-id", "doc_id", "document_id", "pid")
#: Where a corpus document's id is read from (first present wins).
CORPUS_ID_COLUMNS = ("_id", "id", "doc_id", "document_id", "corpus_id", "docid")


def is_id_column(name: str) -> bool:
    """Whether a column holds ids by its name (``id``, ``_id``, ``..._id``, ``qid``, ``pid``, ``docid``): never
    read as anchors or documents unless named."""
    return name in ("id", "_id", "qid", "pid", "docid", "query-id", "corpus-id") or name.endswith("_id")


def id_columns(names: Sequence[str], anchor_column: str, positive_column: str) -> tuple[str | None, str | None]:
    """``(anchor id column, positive id column)`` of a pairs dataset by the rule in the module docstring; None
    where there is none."""
    names = list(names)

    def first(candidates: Sequence[str]) -> str | None:
        return next((c for c in candidates if c in names and c not in (anchor_column, positive_column)), None)

    anchor = first((f"{anchor_column}_id", *ANCHOR_ID_COLUMNS))
    positive = first([c for c in (f"{positive_column}_id", *POSITIVE_ID_COLUMNS) if c != anchor])
    return anchor, positive


def corpus_id_column(names: Sequence[str]) -> str | None:
    """The id column of a corpus dataset by the rule in the module docstring, or None."""
    return next((c for c in CORPUS_ID_COLUMNS if c in names), None)


def column_names(dataset: Any) -> list[str]:
    """The column names of a ``datasets.Dataset``, a dict of columns or a pandas DataFrame."""
    if isinstance(dataset, Mapping):
        return [str(c) for c in dataset]
    names = getattr(dataset, "column_names", None)
    if names is None and hasattr(dataset, "columns"):  # pandas
        names = list(dataset.columns)
    if names is None:
        raise TypeError(f"dataset must be a datasets.Dataset or a dict of columns, got {type(dataset).__name__}")
    return list(names)


def text_columns(dataset: Any) -> list[str] | None:
    """The columns that hold text or lists of text, when the dataset says (``datasets`` features); else None."""
    features = getattr(dataset, "features", None)
    if features is None:
        if isinstance(dataset, Mapping):  # a dict of columns: judge by each column's first value
            return [name for name, values in dataset.items() if _holds_text(values)]
        return None
    return [name for name, feature in features.items() if _is_text(feature) or _is_text(_item_feature(feature))]


def resolve_columns(
    columns: Sequence[str] | Any,
    anchor_column: str | None = None,
    positive_column: str | None = None,
    *,
    text: Sequence[str] | None = None,
    source: str = "the dataset",
) -> tuple[str, str]:
    """``(anchor_column, positive_column)`` by the rule in the module docstring.

    Args:
        columns: the column names, or the dataset itself (then ``text`` is read from its features).
        anchor_column / positive_column: the names the user gave, or None.
        text: the columns known to hold text; None when unknown (every column but scores and labels qualifies).
        source: how error messages name the data (a file name, "the dataset").

    Raises:
        ValueError: a named column does not exist, both names are the same column, or no column qualifies.
    """
    if not isinstance(columns, Sequence) or isinstance(columns, str):
        text = text_columns(columns) if text is None else text
        columns = column_names(columns)
    names = list(columns)
    for given, role in ((anchor_column, "anchor_column"), (positive_column, "positive_column")):
        if given is not None and given not in names:
            raise ValueError(f"{role}={given!r} is not a column of {source}; its columns are {names}")
    eligible = [c for c in names if c not in NON_TEXT_COLUMNS and not is_id_column(c) and (text is None or c in text)]
    anchor = anchor_column or ("anchor" if "anchor" in names else next(iter(eligible), None))
    if anchor is None:
        raise ValueError(f"{source} has no text column to read anchors from; its columns are {names}")
    rest = [c for c in eligible if c != anchor]
    named = "positive" if "positive" in names and anchor != "positive" else None
    positive = positive_column or named or next(iter(rest), None)
    if positive is None:
        raise ValueError(
            f"{source} needs an anchor and a positive column; found only {anchor!r} among its columns {names}"
        )
    if anchor == positive:
        raise ValueError(f"anchor_column and positive_column must differ; both are {anchor!r}")
    if (anchor_column, positive_column) == (None, None) and (anchor, positive) != ("anchor", "positive"):
        logger.info("%s: reading anchors from column %r and positives from %r", source, anchor, positive)
    return anchor, positive


def _holds_text(values: Any) -> bool:
    try:
        first = next(iter(values))
    except (TypeError, StopIteration):
        return True  # nothing to judge by: let the text checks name the problem
    if isinstance(first, (list, tuple)):
        first = first[0] if first else ""
    return isinstance(first, str) or first is None


def _item_feature(feature: Any) -> Any:
    return getattr(feature, "feature", None)


def _is_text(feature: Any) -> bool:
    return getattr(feature, "dtype", None) in ("string", "large_string")
