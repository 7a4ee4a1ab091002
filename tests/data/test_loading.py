"""load_pairs on pairs files and saved datasets: every format, column selection, separate corpora, errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import datasets
import pytest

from st_hardneg.data import LoadedData, load_corpus, load_pairs

ROWS = [
    {"anchor": "what is a cat", "positive": "A cat is a small feline."},
    {"anchor": "what is a dog", "positive": "A dog is a canine, NA."},
    {"anchor": "what is a dog", "positive": "Dogs bark."},
]


def _as_rows(loaded: LoadedData) -> list[dict[str, str]]:
    return loaded.pairs.to_list()


def _write_jsonl(path: Path, rows: list[dict], *, compress: bool = False) -> Path:
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if compress:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["pairs.jsonl", "pairs.jsonl.gz", "pairs.json.gz"])
def test_jsonl_files(tmp_path: Path, name: str) -> None:
    path = _write_jsonl(tmp_path / name, ROWS, compress=name.endswith(".gz"))
    loaded = load_pairs(path)
    assert loaded.pairs.column_names == ["anchor", "positive"]
    assert _as_rows(loaded) == ROWS
    assert loaded.corpus is None


def test_json_array_file(tmp_path: Path) -> None:
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps(ROWS), encoding="utf-8")
    assert _as_rows(load_pairs(path)) == ROWS


def test_csv_and_tsv_keep_text_as_written(tmp_path: Path) -> None:
    datasets.Dataset.from_list(ROWS).to_csv(tmp_path / "pairs.csv", index=False)
    assert _as_rows(load_pairs(tmp_path / "pairs.csv")) == ROWS
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("anchor\tpositive\nNA\t12\n", encoding="utf-8")
    assert _as_rows(load_pairs(tsv)) == [{"anchor": "NA", "positive": "12"}]


def test_parquet_file(tmp_path: Path) -> None:
    datasets.Dataset.from_list(ROWS).to_parquet(tmp_path / "pairs.parquet")
    assert _as_rows(load_pairs(tmp_path / "pairs.parquet")) == ROWS


def test_saved_dataset(tmp_path: Path) -> None:
    datasets.Dataset.from_list(ROWS).save_to_disk(tmp_path / "saved")
    assert _as_rows(load_pairs(tmp_path / "saved")) == ROWS


def test_saved_dataset_dict_picks_split(tmp_path: Path) -> None:
    other = [{"anchor": "q", "positive": "p"}]
    splits = {"train": datasets.Dataset.from_list(ROWS), "dev": datasets.Dataset.from_list(other)}
    datasets.DatasetDict(splits).save_to_disk(tmp_path / "saved")
    assert _as_rows(load_pairs(tmp_path / "saved")) == ROWS
    assert _as_rows(load_pairs(tmp_path / "saved", split="dev")) == other
    with pytest.raises(ValueError, match=r"'test'.*\['dev', 'train'\]"):
        load_pairs(tmp_path / "saved", split="test")


def test_named_columns_keep_their_names_and_others_are_dropped(tmp_path: Path) -> None:
    rows = [{"id": 1, "pos": "doc", "query": "q"}]
    path = _write_jsonl(tmp_path / "pairs.jsonl", rows)
    loaded = load_pairs(path, anchor_column="query", positive_column="pos")
    assert loaded.pairs.column_names == ["query", "pos"]
    assert _as_rows(loaded) == [{"query": "q", "pos": "doc"}]
    # unnamed: the one column rule takes the first two text columns in order (the integer id is skipped)
    assert load_pairs(path).pairs.column_names == ["pos", "query"]
    with pytest.raises(ValueError, match="anchor_column='question' is not a column"):
        load_pairs(path, anchor_column="question", positive_column="pos")


def test_two_unnamed_columns_are_taken_in_order(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "pairs.jsonl", [{"q": "a question", "d": "a document"}])
    assert _as_rows(load_pairs(path)) == [{"q": "a question", "d": "a document"}]


def test_swapped_columns(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "pairs.jsonl", [{"anchor": "x", "positive": "y"}])
    loaded = load_pairs(path, anchor_column="positive", positive_column="anchor")
    assert loaded.pairs.column_names == ["positive", "anchor"]
    assert _as_rows(loaded) == [{"positive": "y", "anchor": "x"}]


def test_missing_value_is_an_error(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "pairs.jsonl", [{"anchor": "a", "positive": None}, *ROWS])
    with pytest.raises(ValueError, match="'positive' has 1 missing"):
        load_pairs(path)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet", ".txt"])
def test_separate_corpus(tmp_path: Path, suffix: str) -> None:
    pairs_path = _write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    docs = [{"title": "Cats", "text": "A cat is a small feline."}, {"title": "", "text": "Dogs bark."}]
    corpus_path = tmp_path / f"corpus{suffix}"
    if suffix == ".txt":
        corpus_path.write_text("Cats A cat is a small feline.\n\nDogs bark.\n", encoding="utf-8")
    elif suffix == ".jsonl":
        _write_jsonl(corpus_path, docs)
    elif suffix == ".csv":
        datasets.Dataset.from_list(docs).to_csv(corpus_path, index=False)
    else:
        datasets.Dataset.from_list(docs).to_parquet(corpus_path)
    loaded = load_pairs(pairs_path, corpus_path=corpus_path)
    assert _as_rows(loaded) == ROWS
    assert loaded.corpus == ["Cats A cat is a small feline.", "Dogs bark."]


def test_corpus_without_text_column(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "corpus.jsonl", [{"body": "x"}])
    with pytest.raises(ValueError, match="no 'text' column"):
        load_corpus(path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        load_pairs(tmp_path / "nope.jsonl")
    pairs_path = _write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    with pytest.raises(FileNotFoundError, match="docs.txt"):
        load_pairs(pairs_path, corpus_path=tmp_path / "docs.txt")


def test_unknown_file_type(tmp_path: Path) -> None:
    path = tmp_path / "pairs.xlsx"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"Unsupported file type: 'pairs.xlsx'.*\.jsonl"):
        load_pairs(path)


def test_unknown_folder(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError, match="neither a folder written by"):
        load_pairs(tmp_path / "folder")
