"""``st-hardneg sweep``: the ranked table printed and written as JSON, with the command line's rules (one-line
errors with exit status 2 before any work, nothing overwritten without --overwrite)."""

from __future__ import annotations

import json

import pytest

from st_hardneg import CandidatePool
from st_hardneg.cli import main
from st_hardneg.data import load_default

GRID = ["--methods", "naive-topk", "topk-percpos:0.95", "--num-negatives", "1", "2", "--sampling", "top", "sampled"]


def test_sweep_prints_and_writes_the_ranked_table(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    args = ["sweep", "--quiet", "--teacher", "bm25", "--depth", "12", "--seed", "3", *GRID, "--output", str(out)]
    args += ["--save-pool", str(tmp_path / "pool")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert len(data["rows"]) == 8 and data["rank_by"] == "signal" and data["scored_with"] == "teacher"
    # S_n compares sets with the same number of negatives: one table per count, ranked within it, a best per count
    assert [row["num_negatives"] for row in data["rows"]] == [1] * 4 + [2] * 4
    for n in (1, 2):
        ranked = [row for row in data["rows"] if row["num_negatives"] == n]
        assert [r["signal"] for r in ranked] == sorted((r["signal"] for r in ranked), reverse=True)
        noun = "negative" if n == 1 else "negatives"
        assert f"Best with {n} {noun}: --method {ranked[0]['method']} --num-negatives {n}" in printed
        assert f"num_negatives = {n} (ranked by signal within this count)" in printed
    assert "Best: " not in printed
    assert sum(line.startswith("| ") for line in printed.splitlines()) == 2 * (4 + 1)  # per count: header, rows
    values = [row["signal"] for row in data["rows"]]
    # the same figures as the API on the same pool
    pairs, corpus = load_default()
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=12, seed=3, show_progress=False)
    api = pool.sweep(["naive-topk", "topk-percpos:0.95"], [1, 2], ["top", "sampled"], seed=3, show_progress=False)
    assert [r["signal"] for r in api.rows] == pytest.approx(values)
    assert main([*args[:-2], "--output", str(tmp_path / "eci.json"), "--rank-by", "eci"]) == 0
    by_eci = json.loads((tmp_path / "eci.json").read_text())["rows"]
    for n in (1, 2):
        values = [row["eci"] for row in by_eci if row["num_negatives"] == n]
        assert values == sorted(values, reverse=True)


def test_sweep_of_a_saved_pool_deepens_with_the_pool_s_teacher(tmp_path, capsys):
    pairs, corpus = load_default()
    CandidatePool.build(pairs, "bm25", corpus=corpus, depth=8, seed=3, show_progress=False).save(tmp_path / "pool")
    out = tmp_path / "sweep.json"
    args = ["sweep", "--quiet", "--pool", str(tmp_path / "pool"), "--on-short", "deepen"]
    args += ["--methods", "topk-percpos:0.95", "--num-negatives", "4", "--output", str(out)]
    assert main(args) == 0
    row = json.loads(out.read_text())["rows"][0]
    assert row["on_short"] == "deepen" and row["rows_deepened"] > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--output", "table.csv"], "the sweep is written as a .json file"),
        (["--methods", "topk-nothing"], "Unknown mining method"),
        (["--num-negatives", "0"], "num_negatives must be >= 1"),
        (["--num-negatives", "200"], "num_negatives=200 cannot come from 100 reachable candidates"),
        (["--rank-by", "ndcg"], "invalid choice: 'ndcg'"),
        (["--pool", "somewhere", "--depth", "10"], "--depth build a pool and do not apply with --pool"),
        (["--teacher", "bm25", "--batch-size", "8"], "--batch-size apply to dense teachers"),
        (["--score", "train"], "--score train needs --student MODEL"),
        (["--student", "somewhere", "--steps", "5"], "--steps, --student apply with --score train"),
        (["--rank-by", "ndcg@10"], "--rank-by ndcg@10 needs --score train"),
        (["--score", "train", "--student", "/no/model", "--steps", "0"], "steps must be a whole number >= 1"),
        (["--score", "train", "--student", "/no/model", "--holdout", "1.5"], "holdout must be a share of the anchors"),
        (["--score", "train", "--student", "/no/model", "--train-seeds", "0,x"], "seeds must be whole numbers"),
        (["--score", "train", "--student", "/no/model", "--output-format", "labeled-pair"], "n-tuple or triplet"),
        (["--score", "train", "--student", "/no/model", "--score-model", "/no/model"], "--score-model scores"),
    ],
)
def test_a_mistake_is_one_line_and_exit_status_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_an_existing_table_is_replaced_only_with_overwrite(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    out.write_text("{}")
    args = ["sweep", "--quiet", "--teacher", "bm25", "--depth", "8", "--methods", "naive-topk", "--output", str(out)]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2 and out.read_text() == "{}"
    with pytest.raises(SystemExit) as exit_info:  # not a sweep: not replaced, --overwrite or not
        main([*args, "--overwrite"])
    assert "is not a sweep written by st-hardneg" in capsys.readouterr().err and out.read_text() == "{}"
    out.unlink()
    assert main(args) == 0
    with pytest.raises(SystemExit) as exit_info:
        main([*args[:-3], "topk-percpos:0.95", "--output", str(out)])
    assert exit_info.value.code == 2
    assert main([*args[:-3], "topk-percpos:0.95", "--output", str(out), "--overwrite"]) == 0  # a sweep: replaced
    assert json.loads(out.read_text())["rows"][0]["method"] == "topk-percpos:0.95"


def test_help_lists_the_grid_and_the_shared_settings(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = capsys.readouterr().out
    for option in ("--methods", "--num-negatives", "--sampling", "--rank-by", "--on-short", "--max-depth", "--top-n"):
        assert option in text
    assert "--method " not in text


@pytest.mark.slow
def test_sweep_scored_by_training(tmp_path, capsys, monkeypatch):
    from st_hardneg.sweep_training import scoring
    from tests.conftest import minilm_path

    minilm_path()  # skips without the packaged model
    calls = []
    original = scoring.train_student
    monkeypatch.setattr(scoring, "train_student", lambda *a, **k: calls.append(k["seed"]) or original(*a, **k))
    out = tmp_path / "sweep.json"
    args = ["sweep", "--quiet", "--teacher", "bm25", "--depth", "12", "--seed", "3", "--methods", "naive-topk"]
    args += ["--num-negatives", "1", "3", "--score", "train", "--student", "sentence-transformers/all-MiniLM-L6-v2"]
    args += ["--steps", "1", "--train-batch-size", "8", "--max-seq-length", "32", "--holdout", "5"]
    args += ["--train-cache", str(tmp_path / "runs"), "--output", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    rows = data["rows"]
    assert data["rank_by"] == "ndcg@10" and [r["num_negatives"] for r in rows] in ([1, 3], [3, 1])
    assert [r["ndcg@10"] for r in rows] == sorted((r["ndcg@10"] for r in rows), reverse=True)
    assert all(r["rows_held_out"] > 0 and 0 <= r["mrr@10"] <= 1 for r in rows)
    assert data["context"]["training"]["heldout"]["anchors"] == 5 and calls == [0, 0]
    assert f"Best: --method naive-topk --num-negatives {rows[0]['num_negatives']} " in printed
    assert "| ndcg@10 | mrr@10 |" in printed
    assert "scored with training sentence-transformers/all-MiniLM-L6-v2 for 1 steps" in printed
    # the same command again reads both runs from --train-cache
    assert main([*args, "--overwrite"]) == 0
    assert calls == [0, 0] and json.loads(out.read_text())["rows"] == rows
