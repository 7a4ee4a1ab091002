"""``st-hardneg relabel``: judgments written into a saved pool (or a new one) through an OpenAI-compatible server
started by the test; every mistake is one line and exit status 2 before any question; selecting from the relabeled
pool with the command gives the rows of the API and records the judge; a run killed with SIGKILL resumes from the
judgment cache without asking a stored question again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from st_hardneg import CandidatePool
from st_hardneg.cli import main
from st_hardneg.data import load_default
from st_hardneg.relabel import ARHN, JudgmentCache, OpenAIJudge
from tests.conftest import REPO_ROOT
from tests.relabel.fake_openai import MODEL, FakeOpenAIServer, rule_judge
from tests.relabel.test_arhn import labels_by_text

pytest.importorskip("openai")


@pytest.fixture(scope="module")
def saved_pool(tmp_path_factory):
    pairs, corpus = load_default()
    folder = tmp_path_factory.mktemp("pools") / "pool"
    CandidatePool.build(pairs, "bm25", corpus=corpus, depth=10, show_progress=False).save(folder)
    return folder


@pytest.fixture
def pool_copy(saved_pool, tmp_path):
    import shutil

    shutil.copytree(saved_pool, tmp_path / "pool")
    return tmp_path / "pool"


def relabel_args(pool, server, cache, *extra):
    return ["relabel", str(pool), "--judge-url", server.url, "--judge-model", MODEL, "--candidates", "3",
            "--cache-folder", str(cache), "--quiet", *extra]  # fmt: skip


def test_relabel_then_select_with_the_command(pool_copy, tmp_path, capsys):
    with FakeOpenAIServer(rule_judge) as server:
        assert main(relabel_args(pool_copy, server, tmp_path / "cache")) == 0
    printed = capsys.readouterr().out
    assert "relabeled" in printed and "filtered" in printed and str(pool_copy) in printed
    pool = CandidatePool.load(pool_copy)
    assert pool.judgments is not None and pool.judgments.config["judge"]["model"] == MODEL
    assert pool.judgments.statistics.failed == 0

    out = tmp_path / "out.jsonl"
    args = ["--pool", str(pool_copy), "--output", str(out), "--num-negatives", "2", "--sampling", "sampled"]
    assert main([*args, "--sample-from", "4", "--seed", "5", "--quiet"]) == 0
    command_rows = [json.loads(line) for line in out.read_text().splitlines()]
    api = pool.select(num_negatives=2, sampling="sampled", sample_from=4, seed=5, show_progress=False)
    assert command_rows == api.to_list()  # keyed draws: the same rows from the command and the API
    report = json.loads((tmp_path / "out.jsonl.mining.json").read_text())
    relabel = report["selection"]["relabel"]
    assert relabel["method"] == "ARHN" and relabel["mode"] == "both" and relabel["settings"]["candidates"] == 3
    assert relabel["judge"]["model"] == MODEL and "{passage}" in relabel["judge"]["prompts"]["answer"]
    assert report["statistics"]["excluded_relabeled"] + report["statistics"]["excluded_filtered"] > 0
    card = (tmp_path / "out.jsonl.README.md").read_text()
    assert "| False negatives | ARHN (relabel and filter) over the top 3 candidates" in card


def one_line_error(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and err.startswith("st-hardneg relabel: error:"), err
    return err


def test_mistakes_are_one_line_and_exit_2_before_any_question(pool_copy, tmp_path, capsys):
    cache = tmp_path / "cache"
    with FakeOpenAIServer(rule_judge) as server:
        base = relabel_args(pool_copy, server, cache)
        cases = [
            (["relabel", str(pool_copy), "--judge-url", server.url], "--judge-model is required"),
            (["relabel", str(pool_copy), "--judge", "openai", "--judge-model", MODEL], "needs --judge-url"),
            (["relabel", str(pool_copy), "--judge-model", "m", "--concurrency", "4"], "--concurrency applies to"),
            ([*base, "--judge", "cross-encoder"], "--judge-url is for --judge openai"),
            ([*base, "--candidates", "50"], "deeper than the pool"),
            ([*base, "--mode", "relable"], "invalid choice: 'relable'"),
            ([*base, "--answer-prompt", "{query} only"], r"must contain {passage}"),
            ([*base, "--output", str(pool_copy)], "is POOL itself"),
            ([*base[:1], str(tmp_path), *base[2:]], "is not a saved candidate pool"),
            (
                ["relabel", str(pool_copy), "--judge-model", str(tmp_path / "no-model"), "--candidates", "3"],
                "cannot load the tokenizer",
            ),
            (
                [
                    "relabel",
                    str(pool_copy),
                    "--judge",
                    "cross-encoder",
                    "--judge-model",
                    str(tmp_path / "no-model"),
                    "--candidates",
                    "3",
                    "--cache-folder",
                    str(cache),
                ],
                "cannot load the cross-encoder",
            ),
        ]
        for argv, message in cases:
            assert message in one_line_error(capsys, argv), argv
        with FakeOpenAIServer(rule_judge, models=("another",)) as wrong:
            assert "does not serve" in one_line_error(capsys, relabel_args(pool_copy, wrong, cache))
        assert server.requests == []  # not one question asked
        assert CandidatePool.load(pool_copy).judgments is None

        assert main(base) == 0
        asked = len(server.requests)
        assert "already holds judgments" in one_line_error(capsys, base)
        assert main([*base, "--overwrite"]) == 0  # replaced, every reply from the cache
        assert len(server.requests) == asked

        other = tmp_path / "judged"
        assert main([*base, "--mode", "relabel", "--output", str(other)]) == 0
        assert CandidatePool.load(other).judgments.mode == "relabel"
        assert CandidatePool.load(pool_copy).judgments.mode == "both"  # the source pool is left as it was
        assert "pass overwrite=True" in one_line_error(capsys, [*base, "--output", str(other)])


@pytest.mark.slow
def test_a_killed_run_resumes_without_asking_a_stored_question_again(pool_copy, tmp_path):
    cache = tmp_path / "cache"

    def slow_rule(request, attempt):
        return ("sleep", 0.02, rule_judge(request, attempt))

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    code = "import sys; from st_hardneg.cli import main; sys.exit(main(sys.argv[1:]))"
    with FakeOpenAIServer(slow_rule) as server:
        argv = relabel_args(pool_copy, server, cache, "--chunk-size", "4", "--concurrency", "2")
        process = subprocess.Popen([sys.executable, "-c", code, *argv], env=env, cwd=tmp_path)
        deadline = time.monotonic() + 180
        while len(server.requests) < 60 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.poll() is None, "the run ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        first = list(server.requests)
        stored = len(JudgmentCache(cache))
        total = 56 + int((CandidatePool.load(pool_copy).teacher_candidates().candidates[:, :3] >= 0).sum())
        assert 0 < stored < total and CandidatePool.load(pool_copy).judgments is None

        done = subprocess.run([sys.executable, "-c", code, *argv], env=env, cwd=tmp_path, timeout=300)
        assert done.returncode == 0
        second = server.requests[len(first) :]
        assert len(second) == len(set(second)) == total - stored  # only what the cache did not hold
        assert len(set(first) & set(second)) == len(first) - stored <= 4  # at most the chunk in flight, re-asked
        assert len(JudgmentCache(cache)) == total

        resumed = CandidatePool.load(pool_copy)
        fresh = CandidatePool.load(pool_copy)
        judge = OpenAIJudge(base_url=server.url, model=MODEL)
        uninterrupted = fresh.relabel(
            ARHN(judge, candidates=3, cache_folder=tmp_path / "fresh"), overwrite=True, show_progress=False
        )
    assert labels_by_text(resumed, resumed.judgments) == labels_by_text(fresh, uninterrupted)
    assert resumed.judgments.snippet.to_pylist() == uninterrupted.snippet.to_pylist()


def test_the_card_of_a_relabeled_selection(tmp_path):
    from st_hardneg.hub import MinedDatasetCard
    from tests.relabel.conftest import ScriptedJudge, hand_pool

    pool = hand_pool()
    pool.relabel(ARHN(ScriptedJudge(), candidates=4, cache_folder=tmp_path), show_progress=False)
    result = pool.select(
        "naive-topk", num_negatives=2, relabel_mode="filter", relabeled_output="rows", show_progress=False,
        return_statistics=True,
    )  # fmt: skip
    card = MinedDatasetCard.from_selection(result, pool, source="a hand-made pool")
    text = card.text
    line = (
        "| False negatives | ARHN (filter only) over the top 4 candidates per anchor, judge scripted `scripted`: "
        "0 relabeled as positives, 2 filtered, 1 unparseable and 2 failed (left as they were)"
    )
    assert line in text
    assert "pool.relabel(ARHN(judge, mode='both', candidates=4, seed=42))" in text
    assert "relabel_mode='filter', relabeled_output='rows')" in text
    assert "| Kept out as relabeled positives / filtered (judge) | 0 / 3 |" in text
    assert "config.mine(pairs, corpus=corpus, judge=judge)" in text
    (config,) = [split for c in card.data.st_hardneg["configurations"].values() for split in c.values()]
    meta = config["mining"]["relabel"]
    assert meta["mode"] == "filter" and meta["judge"] == {"type": "scripted", "model": "scripted"}
