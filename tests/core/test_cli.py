"""The st-hardneg command on the embedded default and on local files."""

import json

import pytest
from datasets import Dataset, load_from_disk

from st_hardneg.cli import main


def test_default_run_mines_the_embedded_dataset_with_minilm(tmp_path, minilm):
    out = tmp_path / "mined"
    assert main(["--quiet", "--output", str(out), "--num-negatives", "2"]) == 0
    ds = load_from_disk(str(out))
    assert ds.column_names == ["anchor", "positive", "negative"]  # the default: triplets, one row per negative
    report = json.loads((out / "mining.json").read_text())
    assert report["source"]["kind"] == "default" and report["source"]["dataset"] == "st-hardneg embedded default"
    assert report["selection"]["settings"]["method"] == {"name": "naive-topk"}
    # 161 passages, at most 3 positives per anchor: every one of the 63 rows has its 2 negatives
    assert report["statistics"]["rows_kept_short"] == 0 and len(ds) == 2 * 63
    assert report["pool"]["teachers"]["sentence-transformers/all-MiniLM-L6-v2"]["type"] == "dense"
    assert report["statistics"]["rows_in"] == 63 and report["statistics"]["examples_out"] == len(ds)
    card = (out / "README.md").read_text()
    assert "Naive Top-K" in card and "the st-hardneg embedded example" in card


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


# ---------------------------------------------------------------------------------------------- renamed columns
ROWS = [
    {"id": i, "question": f"{t} question", "answer": f"{t} answer text"}
    for i, t in enumerate(["alpha", "beta", "gamma", "delta", "omega", "sigma"])
]


def _write_pairs(tmp_path, fmt):
    ds = Dataset.from_list(ROWS)
    path = tmp_path / f"pairs.{fmt}" if fmt != "saved" else tmp_path / "saved"
    if fmt == "jsonl":
        ds.to_json(str(path))
    elif fmt == "json":
        path.write_text(json.dumps(ROWS))
    elif fmt == "csv":
        ds.to_csv(str(path), index=False)
    elif fmt == "parquet":
        ds.to_parquet(str(path))
    else:
        ds.save_to_disk(str(path))
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet", "saved"])
def test_renamed_columns_work_for_every_input_format(tmp_path, fmt):
    pairs = _write_pairs(tmp_path, fmt)
    corpus = tmp_path / "docs.txt"
    corpus.write_text("\n".join(f"{r['question'].split()[0]} other words" for r in ROWS))
    out = tmp_path / "out.jsonl"
    args = ["--quiet", str(pairs), "--corpus", str(corpus), "--teacher", "bm25", "--method", "naive-topk"]
    args += ["--anchor-column", "question", "--positive-column", "answer", "--num-negatives", "1"]
    args += ["--output-format", "n-tuple", "--output", str(out)]
    assert main(args) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [list(line) for line in lines] == [["question", "answer", "negative_1"]] * 6
    assert lines[0]["question"] == "alpha question" and lines[0]["negative_1"] == "alpha other words"
    report = json.loads((tmp_path / "out.jsonl.mining.json").read_text())
    assert report["pool"]["settings"]["anchor_column"] == "question"


# ---------------------------------------------------------------------------------------------- user mistakes
MISTAKES = [
    (["--method", "topk-perpos:0.95"], "Unknown mining method 'topk-perpos'"),
    (["--method", "topk-percpos:95"], "did you mean 0.95"),
    (["--num-negatives", "0"], "num_negatives must be a whole number >= 1, got 0"),
    (["--num-negatives", "two"], "argument --num-negatives: expected a whole number, got 'two'"),
    (["--output-format", "ntuple"], "argument --output-format: invalid choice: 'ntuple'"),
    (["--depth", "2"], "num_negatives=3 cannot come from 2 reachable candidates"),
    (["--sampling", "bogus"], "argument --sampling: invalid choice"),
    (["--temperature", "0"], "temperature must be > 0"),
    (["--on-short", "keep", "--output-format", "n-tuple"], "on_short='keep' contradicts output_format='n-tuple'"),
    (["--teacher", "bm25", "--query-prompt", "q: "], "--query-prompt applies to dense teachers"),
    (["--backend", "fais"], "argument --backend: invalid choice: 'fais'"),
    (["--corpus", "docs.txt"], "--corpus and --split need a dataset argument"),
    (["--output", "out.txt"], "a file output ends in one of"),
    (["--nm", "3"], "unrecognized arguments: --nm"),
    (["--dept", "30"], "unrecognized arguments: --dept"),
    (["missing.jsonl"], "Pairs path not found: missing.jsonl"),
    (["empty.jsonl"], "No pairs in empty.jsonl: the file is empty"),
    (["pairs.jsonl", "--anchor-column", "query"], "anchor_column='query' is not a column of pairs.jsonl"),
    (["--teacher", "bm25", "--teacher", "random"], "several teachers ['bm25', 'random']: select from one with"),
    (["--teacher", "bm25", "--select-teacher", "e5"], "--select-teacher e5: not a teacher of this pool"),
    (["--teacher", "bm25", "--ensemble", "concat"], "--ensemble concat combines two or more teachers"),
    (["--teacher", "bm25", "--cross-encoder-depth", "5"], "--cross-encoder-depth needs --cross-encoder NAME"),
    (["--teacher", "bm25", "--teacher", "bm25", "--ensemble", "concat"], "the teachers need distinct names"),
    (["--teacher", "bm25", "--score-teacher", "bm25"], "score_teachers names whose scores to write"),
    (["--ensemble", "vote"], "argument --ensemble: invalid choice: 'vote'"),
]


@pytest.mark.parametrize(("argv", "message"), MISTAKES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_a_mistake_is_one_line_and_exit_status_2_before_any_model(tmp_path, monkeypatch, capsys, argv, message):
    import st_hardneg.teachers.dense as dense

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the mistake was reported")

    monkeypatch.setattr(dense, "load_sentence_transformer", no_model)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.jsonl").write_text("\n")
    Dataset.from_list(ROWS).to_json("pairs.jsonl")
    (tmp_path / "docs.txt").write_text("a\nb\n")
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("st-hardneg: error: "), err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "mined").exists()


def test_pool_options_and_pool_inputs_are_checked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    pairs = _write_pairs(tmp_path, "jsonl")
    base = ["--quiet", str(pairs), "--teacher", "bm25", "--anchor-column", "question", "--positive-column", "answer"]
    assert main([*base, "--num-negatives", "1", "--output", str(tmp_path / "a.jsonl"), "--save-pool", "p"]) == 0
    with pytest.raises(SystemExit) as exit_info:
        main(["--pool", "p", "--depth", "50", "--output", str(tmp_path / "b.jsonl")])
    assert exit_info.value.code == 2 and "--depth build a pool and do not apply with --pool" in capsys.readouterr().err
    other = tmp_path / "other.jsonl"
    Dataset.from_list(ROWS[:3]).to_json(str(other))
    with pytest.raises(SystemExit):
        main(["--pool", "p", str(other), "--anchor-column", "question", "--positive-column", "answer",
              "--output", str(tmp_path / "c.jsonl")])  # fmt: skip
    assert "This pool was built on another dataset" in capsys.readouterr().err
    # the right dataset is accepted, and the source is the original dataset, not the pool folder
    args = ["--quiet", "--pool", "p", str(pairs), "--anchor-column", "question", "--positive-column", "answer"]
    assert main([*args, "--num-negatives", "1", "--output", str(tmp_path / "d.jsonl")]) == 0
    source = json.loads((tmp_path / "d.jsonl.mining.json").read_text())["source"]
    assert source == {"kind": "local", "dataset": pairs.name, "split": None, "corpus": None}  # no path of this machine


# ---------------------------------------------------------------------------------------------- outputs
def test_outputs_are_never_overwritten_without_overwrite(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("my project")
    base = ["--quiet", "--teacher", "bm25", "--num-negatives", "1", "--output-format", "n-tuple"]
    for output in (".", str(tmp_path)):
        with pytest.raises(SystemExit):
            main([*base, "--output", output, "--overwrite"])
        assert "does not hold an st-hardneg output" in capsys.readouterr().err
    assert (tmp_path / "README.md").read_text() == "my project"

    assert main([*base, "--output", "mined"]) == 0
    with pytest.raises(SystemExit):
        main([*base, "--output", "mined"])
    assert "mined exists and is not empty; pass overwrite=True (--overwrite)" in capsys.readouterr().err
    assert main([*base, "--output", "mined", "--overwrite", "--num-negatives", "2"]) == 0
    assert load_from_disk("mined").column_names[-1] == "negative_2"

    assert main([*base, "--output", "out.jsonl"]) == 0
    (tmp_path / "out.jsonl").unlink()  # the side files alone still block a new run
    with pytest.raises(SystemExit):
        main([*base, "--output", "out.jsonl"])
    assert "out.jsonl.mining.json exists" in capsys.readouterr().err
    assert main([*base, "--output", "out.jsonl", "--overwrite"]) == 0


def test_quiet_silences_every_bar(tmp_path, capfd, minilm):
    paper = ["--method", "topk-percpos:0.95", "--num-negatives", "2", "--output-format", "n-tuple"]
    assert main(["--quiet", "--output", str(tmp_path / "mined"), *paper]) == 0
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out.startswith("Mined 63 examples from 63 pairs")


def test_help_lists_every_setting_with_its_default(capsys):
    from dataclasses import fields

    from st_hardneg.settings import CrossEncoderSettings, DenseSettings, PoolSettings, SelectionSettings

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for cls in (SelectionSettings, PoolSettings, DenseSettings, CrossEncoderSettings):
        for f in fields(cls):
            flag = "--" + (f.metadata.get("cli_name") or f.name.replace("_", "-"))
            assert flag in text, flag
    assert "(default: auto:2)" in text and "(default: 3)" in text and "(default: 100)" in text
    assert "(default: 'triplet')" in text
    assert "(default: 42)" in text and "(default: 'exact')" in text and "--cross-encoder NAME" in text


def test_several_teachers_an_ensemble_and_soft_labels_from_the_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["--quiet", "--teacher", "bm25", "--teacher", "random", "--ensemble", "intra_sample", "--num-negatives",
            "2", "--method", "naive-topk", "--output-format", "n-tuple", "--output-teachers", "--output-scores",
            "--score-teacher", "bm25", "--output", "out.jsonl"]  # fmt: skip
    assert main(argv) == 0
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(rows) == 63 and {"teachers", "scores"} <= set(rows[0])
    assert sum(row["teachers"] == ["bm25", "random"] for row in rows) > 50
    report = json.loads((tmp_path / "out.jsonl.mining.json").read_text())
    assert report["selection"]["teacher"]["strategy"] == "intra_sample"
    assert report["selection"]["settings"]["teacher"] == ["bm25", "random"]
    assert report["selection"]["score_teachers"]["bm25"]["type"] == "bm25"
    assert "intra-sample ensemble" in (tmp_path / "out.jsonl.README.md").read_text()
    # One teacher of the two, by name.
    assert main([*argv[:5], "--select-teacher", "random", "--num-negatives", "1", "--output", "one.jsonl"]) == 0


def test_overwrite_never_replaces_an_input_or_a_file_st_hardneg_did_not_write(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rows = [{"anchor": f"{t} question", "positive": f"{t} answer"} for t in ("alpha", "beta", "gamma")]
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "docs.txt").write_text("alpha other\nbeta other\ngamma other\n")
    (tmp_path / "notes.jsonl").write_text('{"mine": "keep me"}\n')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    base = ["--quiet", "--teacher", "bm25", "--method", "naive-topk", "--num-negatives", "1"]
    refusals = {
        ("qa.jsonl", "--output", "qa.jsonl"): "--output qa.jsonl is the input dataset",
        ("qa.jsonl", "--corpus", "docs.txt", "--output", "."): "holds the input dataset",
        ("qa.jsonl", "--output", "notes.jsonl"): "notes.jsonl exists and is not an st-hardneg output",
    }
    for argv, message in refusals.items():
        with pytest.raises(SystemExit) as exit_info:
            main([*base, *argv, "--overwrite"])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing replaced, nothing written

    # the corpus file as output is refused the same way, and the sweep's --output too
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps({"text": r["positive"]}) for r in rows) + "\n")
    with pytest.raises(SystemExit):
        main([*base, "qa.jsonl", "--corpus", "c.jsonl", "--output", "c.jsonl", "--overwrite"])
    assert "is the input --corpus" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", "--quiet", "qa.jsonl", "--teacher", "bm25", "--output", "notes.jsonl", "--overwrite"])
    assert "notes.jsonl" in capsys.readouterr().err
    assert (tmp_path / "notes.jsonl").read_text() == '{"mine": "keep me"}\n'

    # what st-hardneg wrote, it may replace: the mining record beside the file marks it
    assert main([*base, "qa.jsonl", "--output", "out.jsonl"]) == 0
    assert main([*base, "qa.jsonl", "--output", "out.jsonl", "--overwrite", "--output-format", "triplet"]) == 0
    assert json.loads((tmp_path / "out.jsonl.mining.json").read_text())["selection"]["settings"]["output_format"] == (
        "triplet"
    )
    # ...but not once its record is gone (or was never an st-hardneg record)
    (tmp_path / "out.jsonl.mining.json").write_text("{}")
    with pytest.raises(SystemExit):
        main([*base, "qa.jsonl", "--output", "out.jsonl", "--overwrite"])
    assert "out.jsonl exists and is not an st-hardneg output" in capsys.readouterr().err


def test_a_model_neither_here_nor_reachable_fails_in_one_line(tmp_path):
    """With HF_HUB_OFFLINE unset and no way to the Hub, huggingface_hub would retry for minutes, printing each retry;
    the command instead says at once, in one line, that the model could not be loaded and how to give a local copy."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_HUB_CACHE"] = str(tmp_path / "empty-cache")
    env["HF_ENDPOINT"] = "http://st-hardneg-no-such-host.invalid"  # no network here or not: nothing answers
    code = "import sys; from st_hardneg.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = ["--quiet", "--teacher", "st-hardneg-tests/no-such-model", "--output", str(tmp_path / "out")]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("st-hardneg: error: could not load the model 'st-hardneg-tests/no-such-model'")
    assert "cannot be reached" in lines[0] and "local folder" in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_missing_model_folder_is_named_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--quiet", "--teacher", str(tmp_path / "models" / "mpnet"), "--output", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert (
        capsys.readouterr().err
        == f"st-hardneg: error: could not load the model '{tmp_path}/models/mpnet': no such folder\n"
    )


def test_help_names_the_other_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    head = capsys.readouterr().out.split("options:")[0]  # said before the long list of options
    assert "st-hardneg sweep" in head and "st-hardneg relabel" in head


def test_options_the_pool_fixes_are_refused_with_pool(tmp_path, capsys):
    for option in (["--anchor-column", "question"], ["--positive-column", "answer"]):
        for command in ([], ["sweep"]):
            with pytest.raises(SystemExit) as exit_info:
                main([*command, "--pool", str(tmp_path), *option])
            assert exit_info.value.code == 2
            assert f"{option[0]} build a pool and do not apply with --pool" in capsys.readouterr().err


def test_a_data_error_is_one_line_counting_rows_from_1_with_the_csv_line(tmp_path, capfd, caplog):
    import logging

    caplog.set_level(logging.INFO)  # pytest's handler stands in for the command's stderr handler
    data = tmp_path / "qa.csv"
    # data row 3 (the header is line 1) is the 4th line only because row 2 holds a quoted line break
    data.write_text('question,answer\nq one,a one\nq two,"a two\nsecond line"\nq three, \nq four,a four\n')
    with pytest.raises(SystemExit) as exit_info:
        main([str(data), "--teacher", "bm25", "--output", str(tmp_path / "out.jsonl")])  # not --quiet: INFO on
    assert exit_info.value.code == 2
    err = capfd.readouterr().err
    assert err == (
        "st-hardneg: error: data row 3 (line 5 of qa.csv): the positive (column 'answer') is ' '; every positive "
        "(column 'answer') must be a non-empty string\n"
    )
    assert "reading anchors from column 'question'" not in caplog.text  # the loading's info lines were dropped
    data.write_text("question,answer\nq one,a one\nq two,a two\n")  # the same file, right: the info lines are back
    assert main([str(data), "--teacher", "bm25", "--num-negatives", "1", "--output", str(tmp_path / "o.jsonl")]) == 0
    assert "reading anchors from column 'question'" in caplog.text


def test_a_mistyped_option_or_command_gets_a_suggestion(capsys):
    for argv, suggestion in (
        (["--num-negative", "3"], "did you mean --num-negatives?"),
        (["--overwrit"], "did you mean --overwrite?"),
        (["sweep", "--method", "naive-topk"], "did you mean --methods?"),
        (["swep", "--pool", "p"], "did you mean sweep?"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert suggestion in err and len(err.splitlines()) == 1, err
