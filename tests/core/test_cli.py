"""The st-hardneg command on the embedded default and on local files."""

import json

from datasets import load_from_disk

from st_hardneg.cli import main


def test_default_run_mines_the_embedded_dataset_with_minilm(tmp_path, minilm):
    out = tmp_path / "mined"
    assert main(["--quiet", "--output", str(out), "--num-negatives", "2"]) == 0
    ds = load_from_disk(str(out))
    assert ds.column_names == ["anchor", "positive", "negative_1", "negative_2"]
    report = json.loads((out / "mining.json").read_text())
    assert report["source"] == "st-hardneg embedded default"
    assert report["selection"]["settings"]["method"] == {"name": "topk-percpos", "percentage": 0.95}
    assert report["pool"]["teachers"]["sentence-transformers/all-MiniLM-L6-v2"]["type"] == "dense"
    assert report["statistics"]["rows_in"] == 63 and report["statistics"]["examples_out"] == len(ds)
    card = (out / "README.md").read_text()
    assert "TopK-PercPos (NV-Retriever Eq. 2)" in card and "st-hardneg embedded default" in card


def test_jsonl_input_bm25_triplets_and_pool_reuse(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    topics = ["alpha", "beta", "gamma", "delta", "omega", "sigma"]
    rows = [{"query": f"{t} question", "answer": f"{t} answer text"} for t in topics]
    pairs.write_text("\n".join(json.dumps(r) for r in rows))
    corpus = tmp_path / "docs.txt"
    corpus.write_text("\n".join(f"{t} other words about it" for t in topics))
    out = tmp_path / "out.jsonl"
    args = [
        "--quiet",
        str(pairs),
        "--corpus",
        str(corpus),
        "--teacher",
        "bm25",
        "--method",
        "naive-topk",
        "--num-negatives",
        "2",
        "--output-format",
        "triplet",
        "--output",
        str(out),
        "--save-pool",
        str(tmp_path / "pool"),
    ]
    assert main(args) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    # the columns keep the file's names; one candidate per anchor shares a term: triplet rows are kept short
    assert len(lines) == 6 and list(lines[0]) == ["query", "answer", "negative"]
    # "alpha question" shares a term only with "alpha other words about it": the one BM25 candidate
    assert lines[0] == {
        "query": "alpha question",
        "answer": "alpha answer text",
        "negative": "alpha other words about it",
    }
    report = json.loads((tmp_path / "out.jsonl.mining.json").read_text())
    assert report["selection"]["settings"]["output_format"] == "triplet"
    assert report["statistics"]["rows_kept_short"] == 6

    again = tmp_path / "again.jsonl"
    assert (
        main(
            [
                "--quiet",
                "--pool",
                str(tmp_path / "pool"),
                "--method",
                "naive-topk",
                "--num-negatives",
                "2",
                "--output-format",
                "triplet",
                "--output",
                str(again),
            ]
        )
        == 0
    )
    assert again.read_text() == out.read_text()
