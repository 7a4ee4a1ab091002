"""load_beir and load_pairs on BEIR folders: a tiny hand-made one and, when present, the real SciFact."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import pytest

from st_hardneg.data import load_beir, load_pairs

CORPUS = [
    {"_id": "d1", "title": "Moon", "text": "The Moon is tidally locked."},
    {"_id": "d2", "title": "", "text": "Mars is red."},
    {"_id": "d3", "title": "Venus", "text": "Venus is hot."},
    {"_id": "d4", "text": "No title field at all."},
]
QUERIES = [
    {"_id": "1", "text": "moon rotation"},
    {"_id": "2", "text": "hot and red planets"},
    {"_id": "3", "text": "x"},
]
QRELS = "query-id\tcorpus-id\tscore\n1\td1\t1\n2\td3\t2\n2\td2\t1\n3\td4\t0\n"


def _write_beir(folder: Path, *, qrels: str = QRELS, compress_corpus: bool = True) -> Path:
    (folder / "qrels").mkdir(parents=True)
    corpus_text = "".join(json.dumps(doc) + "\n" for doc in CORPUS)
    if compress_corpus:
        with gzip.open(folder / "corpus.jsonl.gz", "wt", encoding="utf-8") as handle:
            handle.write(corpus_text)
    else:
        (folder / "corpus.jsonl").write_text(corpus_text, encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUERIES), encoding="utf-8")
    (folder / "qrels" / "train.tsv").write_text(qrels, encoding="utf-8")
    return folder


@pytest.mark.parametrize("compress_corpus", [True, False])
def test_load_beir(tmp_path: Path, compress_corpus: bool) -> None:
    beir = load_beir(_write_beir(tmp_path / "beir", compress_corpus=compress_corpus), "train")
    assert beir.corpus == {
        "d1": "Moon The Moon is tidally locked.",
        "d2": "Mars is red.",
        "d3": "Venus Venus is hot.",
        "d4": "No title field at all.",
    }
    assert beir.queries == {"1": "moon rotation", "2": "hot and red planets", "3": "x"}
    assert beir.qrels == {"1": {"d1": 1}, "2": {"d3": 2, "d2": 1}, "3": {"d4": 0}}


def test_load_pairs_on_beir(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        loaded = load_pairs(_write_beir(tmp_path / "beir"))
    # the ids are kept (issue 18): each pair's query and document id, and the corpus by id
    assert loaded.pairs.to_list() == [
        {"anchor": "moon rotation", "positive": "Moon The Moon is tidally locked.", "anchor_id": "1",
         "positive_id": "d1"},
        {"anchor": "hot and red planets", "positive": "Venus Venus is hot.", "anchor_id": "2", "positive_id": "d3"},
        {"anchor": "hot and red planets", "positive": "Mars is red.", "anchor_id": "2", "positive_id": "d2"},
    ]  # fmt: skip
    assert list(loaded.corpus.items()) == [
        ("d1", "Moon The Moon is tidally locked."),
        ("d2", "Mars is red."),
        ("d3", "Venus Venus is hot."),
        ("d4", "No title field at all."),
    ]
    assert "3 pairs over 2 queries and 4 corpus documents" in caplog.text


def test_missing_split_lists_available(tmp_path: Path) -> None:
    folder = _write_beir(tmp_path / "beir")
    with pytest.raises(FileNotFoundError, match=r"'dev'.*\['train'\]"):
        load_pairs(folder, split="dev")


def test_unknown_ids_are_named(tmp_path: Path) -> None:
    folder = _write_beir(tmp_path / "beir", qrels=QRELS + "1\td99\t1\n")
    with pytest.raises(ValueError, match="document id.*'d99'"):
        load_pairs(folder)
    folder = _write_beir(tmp_path / "beir2", qrels=QRELS + "42\td1\t1\n")
    with pytest.raises(ValueError, match="query id.*'42'"):
        load_beir(folder, "train")


def test_column_options_rejected_for_beir(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="BEIR folder"):
        load_pairs(_write_beir(tmp_path / "beir"), anchor_column="q")


@pytest.mark.scifact
def test_scifact_train(scifact_dir: Path) -> None:
    loaded = load_pairs(scifact_dir, split="train")
    assert len(loaded.pairs) == 732
    assert len(loaded.corpus) == 5183
    # 649 query ids; two of them (89 and 90) have the same claim text, so 648 distinct anchor texts.
    assert len(set(loaded.pairs["anchor"])) == 648
    beir = load_beir(scifact_dir, "train")
    assert len(beir.qrels) == 649
    assert sum(len(docs) for docs in beir.qrels.values()) == 732
    assert len(load_beir(scifact_dir, "dev").qrels) == 160
