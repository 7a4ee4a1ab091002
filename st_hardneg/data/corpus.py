"""Reading a corpus of documents (the texts negatives are mined from) from a file.

Documents are plain strings. When a record carries a ``title`` next to its ``text``, the two are joined the way
sentence-transformers' ``InformationRetrievalEvaluator`` / ``NanoBEIREvaluator`` join them for BEIR corpora:
``(title + " " + text).strip()``, so a document with an empty title is just its (stripped) text.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import datasets

from st_hardneg.data.formats import file_loader

logger = logging.getLogger(__name__)


def document_text(title: str | None, text: str | None) -> str:
    """Joins a document's title and text into the single string that gets embedded.

    Follows sentence-transformers' BEIR convention (``(title + " " + text).strip()``): ``title + " " + text`` when
    the title is non-empty, else the text alone.

    Args:
        title: The document title; ``None`` or ``""`` when there is none.
        text: The document body; ``None`` counts as ``""``.

    Returns:
        The document text.
    """
    return f"{title or ''} {text or ''}".strip()


def load_corpus(path: str | Path) -> list[str]:
    """Loads a corpus file as a list of document texts, in file order.

    Supported files: ``.txt`` (one document per non-blank line), and ``.jsonl``/``.json`` (optionally ``.gz``),
    ``.csv``, ``.tsv`` and ``.parquet`` with a ``text`` column and an optional ``title`` column (joined with
    :func:`document_text`). Other columns (such as a BEIR ``_id``) are ignored.

    Args:
        path: The corpus file.

    Returns:
        The document texts.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file type is not supported, the file has no ``text`` column, or a text is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Corpus file not found: {path}")
    name = path.name.lower()
    if name.endswith((".txt", ".txt.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            docs = [line.rstrip("\r\n") for line in handle]
        docs = [doc for doc in docs if doc.strip()]
    else:
        docs = _load_tabular_corpus(path)
    logger.info("Loaded %d corpus documents from %s", len(docs), path)
    return docs


def _load_tabular_corpus(path: Path) -> list[str]:
    builder, kwargs = file_loader(path, extra_suffixes=(".txt",))
    table = datasets.load_dataset(builder, data_files=str(path), split="train", **kwargs)
    if "text" not in table.column_names:
        raise ValueError(f"Corpus file {path} has no 'text' column (columns: {table.column_names})")
    texts = table["text"]
    titles = table["title"] if "title" in table.column_names else [None] * len(texts)
    docs = []
    for row, (title, text) in enumerate(zip(titles, texts, strict=True)):
        if text is None:
            raise ValueError(f"Corpus file {path}: row {row} has no text")
        docs.append(document_text(None if title is None else str(title), str(text)))
    return docs
