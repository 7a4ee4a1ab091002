"""Loading a BEIR-layout retrieval dataset (``corpus.jsonl``, ``queries.jsonl``, ``qrels/{split}.tsv``)."""

from __future__ import annotations

import csv
import gzip
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from st_hardneg.data.corpus import document_text

logger = logging.getLogger(__name__)

_MAX_NAMED_IDS = 5


class BEIRData(NamedTuple):
    """One split of a BEIR dataset.

    Attributes:
        queries: Query id to query text, for every query in ``queries.jsonl`` (not only this split's).
        corpus: Document id to document text (``title + " " + text``, see :func:`document_text`), in file order.
        qrels: Query id to (document id to relevance score), for this split, scores of 0 included.
    """

    queries: dict[str, str]
    corpus: dict[str, str]
    qrels: dict[str, dict[str, int]]


def is_beir_folder(folder: str | Path) -> bool:
    """Whether ``folder`` looks like a BEIR dataset (has ``corpus.jsonl`` or ``corpus.jsonl.gz``)."""
    folder = Path(folder)
    return _find_file(folder, "corpus.jsonl") is not None


def beir_splits(folder: str | Path) -> list[str]:
    """The splits a BEIR folder has qrels for (the names of ``qrels/*.tsv``), sorted."""
    return sorted(path.stem for path in (Path(folder) / "qrels").glob("*.tsv"))


def load_beir(folder: str | Path, split: str = "test") -> BEIRData:
    """Loads one split of a BEIR folder.

    Ids are kept as strings exactly as written. A document's text is its title and text joined as
    sentence-transformers' ``InformationRetrievalEvaluator`` does: ``title + " " + text`` when the title is
    non-empty, else the text alone.

    Args:
        folder: Folder with ``corpus.jsonl`` (or ``.jsonl.gz``) of ``{"_id", "title", "text"}``, ``queries.jsonl``
            (or ``.jsonl.gz``) of ``{"_id", "text"}`` and ``qrels/{split}.tsv`` with a
            ``query-id  corpus-id  score`` header.
        split: Which qrels file to read.

    Returns:
        The queries, corpus and qrels.

    Raises:
        FileNotFoundError: If the folder, its corpus, its queries or the split's qrels file is missing.
        ValueError: If a qrels line names a query or document id that is not in the queries or corpus, or a
            line is malformed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"BEIR folder not found: {folder}")
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise FileNotFoundError(
            f"BEIR folder {folder} has no qrels for split {split!r} ({qrels_path} is missing); "
            f"available splits: {beir_splits(folder) or 'none'}"
        )
    corpus = _read_id_texts(_require_file(folder, "corpus.jsonl"), with_title=True)
    queries = _read_id_texts(_require_file(folder, "queries.jsonl"), with_title=False)
    qrels = _read_qrels(qrels_path)
    _check_ids(qrels_path, qrels, queries, corpus)
    logger.info(
        "Loaded BEIR %s split %r: %d queries with qrels, %d judgements, %d documents",
        folder,
        split,
        len(qrels),
        sum(len(docs) for docs in qrels.values()),
        len(corpus),
    )
    return BEIRData(queries=queries, corpus=corpus, qrels=qrels)


def _find_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _require_file(folder: Path, name: str) -> Path:
    path = _find_file(folder, name)
    if path is None:
        raise FileNotFoundError(f"BEIR folder {folder} has no {name} (or {name}.gz)")
    return path


def _iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield line_number, json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path} line {line_number}: invalid JSON ({error})") from error


def _read_id_texts(path: Path, *, with_title: bool) -> dict[str, str]:
    texts: dict[str, str] = {}
    duplicates = 0
    for line_number, record in _iter_jsonl(path):
        if "_id" not in record or "text" not in record:
            raise ValueError(f"{path} line {line_number}: expected '_id' and 'text' fields, got {sorted(record)}")
        record_id = str(record["_id"])
        if record_id in texts:
            duplicates += 1
            continue
        title = record.get("title") if with_title else None
        texts[record_id] = document_text(title, record["text"])
    if duplicates:
        logger.warning("%s: %d records repeat an earlier _id; kept the first of each", path, duplicates)
    return texts


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    repeated = 0
    with open(path, encoding="utf-8", newline="") as handle:
        for line_number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 3:
                raise ValueError(f"{path} line {line_number}: expected 'query-id corpus-id score', got {row}")
            query_id, doc_id, score_text = row[0].strip(), row[1].strip(), row[2].strip()
            try:
                score = int(float(score_text))
            except ValueError:
                if line_number == 1:  # the "query-id corpus-id score" header
                    continue
                raise ValueError(f"{path} line {line_number}: score {score_text!r} is not a number") from None
            docs = qrels.setdefault(query_id, {})
            if doc_id in docs:
                repeated += 1
            docs[doc_id] = score
    if repeated:
        logger.warning("%s: %d (query, document) pairs appear more than once; kept the last score", path, repeated)
    return qrels


def _check_ids(path: Path, qrels: dict[str, dict[str, int]], queries: dict[str, str], corpus: dict[str, str]) -> None:
    missing_queries = [query_id for query_id in qrels if query_id not in queries]
    missing_docs = sorted({doc_id for docs in qrels.values() for doc_id in docs if doc_id not in corpus})
    problems = []
    if missing_queries:
        problems.append(f"{len(missing_queries)} query id(s) not in queries: {_name_ids(missing_queries)}")
    if missing_docs:
        problems.append(f"{len(missing_docs)} document id(s) not in corpus: {_name_ids(missing_docs)}")
    if problems:
        raise ValueError(f"{path} refers to unknown ids: " + "; ".join(problems))


def _name_ids(ids: list[str]) -> str:
    named = ", ".join(repr(item) for item in ids[:_MAX_NAMED_IDS])
    more = len(ids) - _MAX_NAMED_IDS
    return f"{named} and {more} more" if more > 0 else named
