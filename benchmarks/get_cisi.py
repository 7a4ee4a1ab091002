"""Converts the CISI collection (1,460 documents, 112 queries) into a BEIR folder with train and dev qrels.

Source: the classic CISI test collection (information-science abstracts, Institute of Scientific Information), as
distributed with the SMART system: ``CISI.ALL`` (documents), ``CISI.QRY`` (queries) and ``CISI.REL`` (relevance
judgements). A checked copy is the GitHub repository ``Shakiba-Alipour/Information-Retrieval-on-CISI`` (commit
d629f7eee09dfeeec357daaca2828cdc3275f535); its three files equal, line endings aside, those of the 1994 SMART
archive ``cisi.tar.gz`` kept in ``PsychoProg/tf-idf`` (commit 1e372709). The loose ``CISI.ALL`` of
``PsychoProg/tf-idf`` is altered (an extra line). Licence: none stated; the collection has long been freely
distributed for research use. The script warns when the files differ from the checked copy.

Conversion:

* documents: ``_id`` is the ``.I`` number, ``title`` the ``.T`` field, ``text`` the ``.W`` field; authors
  (``.A``), keywords (``.K``), categories (``.C``), bibliography (``.B``) and cross-references (``.X``) are dropped;
  line breaks and runs of spaces become single spaces.
* queries: ``_id`` is the ``.I`` number (1..112, as ``CISI.REL`` numbers them); the text is the ``.W`` field,
  preceded by the ``.T`` field where a query has one (the queries written as document abstracts).
* qrels: every line of ``CISI.REL`` is a relevant (query, document) pair (the source grades nothing), score 1; 76
  of the 112 queries have judgements, the others are in ``queries.jsonl`` but in no split.
* split: as Cranfield's (:func:`get_cranfield.split_of`), by a hash of ``"cisi:<query id>"``: about a third of the
  judged queries dev, the rest train.

Usage (fetch the source first with the fetch source string ``github:Shakiba-Alipour/Information-Retrieval-on-CISI``)::

    python benchmarks/get_cisi.py --source /path/to/mirror/git-dir-or-folder [--out DIR]
"""

from __future__ import annotations

import re
from pathlib import Path

from get_cranfield import Qrels, Rows, convert_command, split_of

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "cache" / "data" / "cisi"
FETCH_SOURCE = "github:Shakiba-Alipour/Information-Retrieval-on-CISI"
FILES = ("CISI.ALL", "CISI.QRY", "CISI.REL")
CHECKED_SHA256 = {  # of the checked copy, after removing carriage returns
    "CISI.ALL": "c13934ad921234b571e7b424af3461fe39dccb16757cb21954b3aea5250d072e",
    "CISI.QRY": "b72de0e0cb8aa5c93ac988e5be0400cc18949d0a94913a248783a37dd97d5470",
    "CISI.REL": "f7396c92586c61953ccb7ae99ad8d3ac749ac3b989041fc93a9e311568f58997",
}
N_DOCS, N_QUERIES = 1460, 112


def parse_records(text: str) -> list[tuple[str, dict[str, str]]]:
    """Splits a SMART-format file into (``.I`` id, {field letter: text}); every marker line starts a field."""
    records: list[tuple[str, dict[str, list[str]]]] = []
    field = ""
    for line in text.split("\n"):
        if line.startswith(".I "):
            records.append((line[3:].strip(), {}))
            field = ""
        elif re.fullmatch(r"\.[A-Z]\s*", line):
            field = line[1]
        elif records and field:
            records[-1][1].setdefault(field, []).append(line)
    return [(rid, {k: " ".join(" ".join(v).split()) for k, v in parts.items()}) for rid, parts in records]


def convert(texts: dict[str, str]) -> tuple[Rows, Rows, Qrels]:
    """Builds BEIR corpus rows, query rows and qrels per split from the source files' texts."""
    docs = [
        {"_id": rid, "title": f.get("T", ""), "text": f.get("W", "")} for rid, f in parse_records(texts["CISI.ALL"])
    ]
    queries = [
        {"_id": rid, "text": " ".join(part for part in (f.get("T", ""), f.get("W", "")) if part)}
        for rid, f in parse_records(texts["CISI.QRY"])
    ]
    doc_ids, query_ids = {d["_id"] for d in docs}, {q["_id"] for q in queries}
    if len(docs) != N_DOCS or len(doc_ids) != N_DOCS or len(query_ids) != N_QUERIES:
        raise SystemExit(f"expected {N_DOCS} distinct documents, {N_QUERIES} queries; got {len(docs)}, {len(queries)}")
    if any(not (d["title"] or d["text"]) for d in docs) or any(not q["text"] for q in queries):
        raise SystemExit("a document or query is empty")
    qrels: Qrels = {"train": [], "dev": []}
    seen: set[tuple[str, str]] = set()
    for line in texts["CISI.REL"].split("\n"):
        if not line.strip():
            continue
        query_id, doc_id = line.split()[:2]
        if query_id not in query_ids or doc_id not in doc_ids:
            raise SystemExit(f"unexpected CISI.REL line: {line!r}")
        if (query_id, doc_id) not in seen:
            seen.add((query_id, doc_id))
            qrels[split_of(query_id, "cisi")].append((query_id, doc_id, 1))
    return docs, queries, qrels


def main() -> None:
    """Converts CISI (:func:`get_cranfield.convert_command` with this module's files and checksums)."""
    convert_command(__doc__, FILES, CHECKED_SHA256, FETCH_SOURCE, DEFAULT_OUT, convert)


if __name__ == "__main__":
    main()
