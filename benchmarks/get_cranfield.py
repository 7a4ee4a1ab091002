"""Converts the Cranfield collection (1400 documents, 225 queries) into a BEIR folder with train and dev qrels.

Source: the classic Cranfield 1400 test collection (aeronautics abstracts, Cleverdon, 1960s), as distributed by
the Glasgow IR group and copied into many IR-course repositories: ``cran.all.1400`` (documents), ``cran.qry``
(queries) and ``cranqrel`` (relevance judgements). A checked copy is the GitHub repository
``noramtboraas/information-retrieval`` (commit 4ea1b8e02da1db64b68b0364d50620b3c95528dc, CRLF line endings); some
other copies are altered (extra documents and queries, or words replaced). Licence: none stated; the collection
has long been freely distributed for research use. The script warns when the files differ from that checked copy.

Conversion:

* documents: ``_id`` is the ``.I`` number, ``title`` the ``.T`` field, ``text`` the ``.W`` field (which, in the
  source, begins by repeating the title); authors (``.A``) and bibliography (``.B``) are dropped; line breaks and
  runs of spaces become single spaces. The ``.W`` field runs to the next ``.I`` line (stray ``.A``/``.B``/``.W``
  marker lines inside documents 240, 576 and 578 of the source are dropped, their text kept). Documents 471 and
  995 are empty in the source and are left out, with the one judgement that names them (query 125, document 995).
* queries: ``cranqrel`` numbers queries 1..225 by their position in ``cran.qry``, not by its ``.I`` numbers
  (which skip), so a query's ``_id`` is its position (1..225), the usual reading of these files.
* qrels: codes 1 (complete answer) to 4 (minimum interest) become BEIR scores ``5 - code`` (4 best .. 1); the
  code -1 ("no interest", one line per query) is left out.
* split: there is no official one, so queries are split by a hash: a query goes to dev when
  ``int(sha256(f"cranfield:{query_id}").hexdigest()[:8], 16) % 3 == 0``, else to train (about 2/3 train).
  ``queries.jsonl`` holds all 225 queries.

Usage (fetch the source first with the fetch source string ``github:noramtboraas/information-retrieval``)::

    python benchmarks/get_cranfield.py --source /path/to/mirror/git-dir-or-folder [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "cache" / "data" / "cranfield"
FETCH_SOURCE = "github:noramtboraas/information-retrieval"
FILES = ("cran.all.1400", "cran.qry", "cranqrel")
CHECKED_SHA256 = {  # of the checked copy, after removing carriage returns
    "cran.all.1400": "b234544b6ceccd131520df4a3cb6d42aee6576eb577933d047e722bbfe7b0b09",
    "cran.qry": "dd9b1419f678874daf66d5239ca372193722d74f5ea749f3b0f46a6b37cd9274",
    "cranqrel": "92e54b58dac0b980152178f350d892fae66c8a239b8a11715b835fb8d2f6bc0e",
}
N_DOCS, N_QUERIES = 1400, 225
Rows = list[dict[str, str]]
Qrels = dict[str, list[tuple[str, str, int]]]


def read_sources(
    source: Path,
    files: tuple[str, ...] = FILES,
    checked_sha256: dict[str, str] = CHECKED_SHA256,
    fetch_source: str = FETCH_SOURCE,
) -> dict[str, str]:
    """Reads ``files`` from a (bare) git directory's HEAD or from anywhere under a plain folder.

    Carriage returns are removed; a file whose SHA-256 differs from ``checked_sha256`` gets a warning.
    """
    is_git = (source / "HEAD").is_file() and (source / "objects").is_dir()
    if is_git:
        listing = subprocess.run(
            ["git", f"--git-dir={source}", "ls-tree", "-r", "--name-only", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    else:
        listing = [str(path.relative_to(source)) for path in source.rglob("*") if path.is_file()]
    texts: dict[str, str] = {}
    for name in files:
        matches = sorted((p for p in listing if Path(p).name == name), key=lambda p: (p.count("/"), p))
        if not matches:
            raise SystemExit(f"{name} not found in {source}")
        if is_git:
            raw = subprocess.run(
                ["git", f"--git-dir={source}", "show", f"HEAD:{matches[0]}"], check=True, capture_output=True
            ).stdout
        else:
            raw = (source / matches[0]).read_bytes()
        texts[name] = raw.decode("utf-8").replace("\r", "")
        if hashlib.sha256(texts[name].encode("utf-8")).hexdigest() != checked_sha256[name]:
            print(f"warning: {matches[0]} differs from the checked copy ({fetch_source})", file=sys.stderr)
    return texts


def parse_records(text: str, fields: str) -> list[tuple[str, dict[str, str]]]:
    """Splits a SMART-format file into (``.I`` id, {field letter: text}); after ``.W`` all lines are text."""
    records: list[tuple[str, dict[str, list[str]]]] = []
    field = ""
    for line in text.split("\n"):
        if line.startswith(".I "):
            records.append((line[3:].strip(), {letter: [] for letter in fields}))
            field = ""
        elif re.fullmatch(r"\.[A-Z]\s*", line):
            if field != "W":  # stray markers inside the text field are dropped
                field = line[1]
        elif records and field in fields:
            records[-1][1][field].append(line)
    return [(rid, {k: " ".join(" ".join(v).split()) for k, v in parts.items()}) for rid, parts in records]


def split_of(query_id: str, collection: str = "cranfield") -> str:
    """The deterministic split of a query: dev for about a third of the ids, else train."""
    digest = hashlib.sha256(f"{collection}:{query_id}".encode()).hexdigest()
    return "dev" if int(digest[:8], 16) % 3 == 0 else "train"


def convert(texts: dict[str, str]) -> tuple[Rows, Rows, Qrels]:
    """Builds BEIR corpus rows, query rows and qrels per split from the source files' texts."""
    docs = [{"_id": rid, "title": f["T"], "text": f["W"]} for rid, f in parse_records(texts["cran.all.1400"], "TW")]
    queries = [{"_id": str(pos), "text": f["W"]} for pos, (_, f) in enumerate(parse_records(texts["cran.qry"], "W"), 1)]
    if len(docs) != N_DOCS or len({d["_id"] for d in docs}) != N_DOCS or len(queries) != N_QUERIES:
        raise SystemExit(f"expected {N_DOCS} distinct documents, {N_QUERIES} queries; got {len(docs)}, {len(queries)}")
    empty = {d["_id"] for d in docs if not (d["title"] or d["text"])}
    docs = [d for d in docs if d["_id"] not in empty]
    doc_ids, query_ids = {d["_id"] for d in docs}, {q["_id"] for q in queries}
    qrels: Qrels = {"train": [], "dev": []}
    seen: set[tuple[str, str]] = set()
    for line in texts["cranqrel"].split("\n"):
        if not line.strip():
            continue
        query_id, doc_id, code = line.split()[:3]
        if int(code) == -1 or doc_id in empty or (query_id, doc_id) in seen:
            continue
        if int(code) not in (1, 2, 3, 4) or query_id not in query_ids or doc_id not in doc_ids:
            raise SystemExit(f"unexpected cranqrel line: {line!r}")
        seen.add((query_id, doc_id))
        qrels[split_of(query_id)].append((query_id, doc_id, 5 - int(code)))
    return docs, queries, qrels


def write(out: Path, docs: Rows, queries: Rows, qrels: Qrels) -> None:
    """Writes the BEIR folder next to ``out`` and renames it into place; refuses a non-empty ``out``."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SystemExit(f"refusing to write into {out}: it exists and is not an empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    for name, rows in (("corpus.jsonl", docs), ("queries.jsonl", queries)):
        with open(tmp / name, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (tmp / "qrels").mkdir()
    for split, rows in qrels.items():
        with open(tmp / "qrels" / f"{split}.tsv", "w", encoding="utf-8") as handle:
            handle.write("query-id\tcorpus-id\tscore\n")
            handle.writelines(f"{q}\t{d}\t{s}\n" for q, d, s in rows)
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private
    if out.exists():
        out.rmdir()
    os.rename(tmp, out)


def convert_command(
    doc: str,
    files: tuple[str, ...],
    checked_sha256: dict[str, str],
    fetch_source: str,
    default_out: Path,
    convert_texts: Callable[[dict[str, str]], tuple[Rows, Rows, Qrels]],
) -> None:
    """The command line of a collection's converter: parses ``--source``/``--out``, reads and checks ``files``,
    converts them with ``convert_texts``, writes the BEIR folder and prints the counts."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        required=True,
        help=f"the fetched mirror git directory of {fetch_source} (or any copy), or a folder "
        f"holding {', '.join(files)}",
    )
    parser.add_argument("--out", type=Path, default=default_out, help=f"output folder (default: {default_out})")
    args = parser.parse_args()
    docs, queries, qrels = convert_texts(read_sources(args.source, files, checked_sha256, fetch_source))
    write(args.out, docs, queries, qrels)
    print(f"wrote {args.out}: {len(docs)} documents, {len(queries)} queries")
    for split, rows in qrels.items():
        print(f"  {split}: {len({q for q, _, _ in rows})} queries, {len(rows)} qrels")


def main() -> None:
    """Converts Cranfield (:func:`convert_command` with this module's files and checksums)."""
    convert_command(__doc__, FILES, CHECKED_SHA256, FETCH_SOURCE, DEFAULT_OUT, convert)


if __name__ == "__main__":
    main()
