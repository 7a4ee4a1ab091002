"""Engine settings and the command's --engine / --work-dir options: checked before any data or model, one-line errors,
a sharded build from the command resumed, refused on other settings, restarted on request."""

from __future__ import annotations

import json
import sys

import pytest

from st_hardneg import CandidatePool
from st_hardneg.cli import main
from st_hardneg.settings import EngineSettings


@pytest.fixture
def no_ray(monkeypatch):
    """Ray as if it were not installed."""
    monkeypatch.setitem(sys.modules, "ray", None)


@pytest.fixture
def no_model(monkeypatch):
    import st_hardneg.teachers.dense as dense

    def fail(*args, **kwargs):
        raise AssertionError("the model was loaded before the mistake was reported")

    monkeypatch.setattr(dense, "load_sentence_transformer", fail)


def test_engine_ray_without_ray_installed_fails_at_once_with_the_install_command(no_ray, no_model, default_data):
    with pytest.raises(ImportError, match=r'pip install "st-hardneg\[ray\]"'):
        EngineSettings(engine="ray", work_dir="w")
    pairs, corpus = default_data
    with pytest.raises(ImportError, match=r'pip install "st-hardneg\[ray\]"'):
        CandidatePool.build(pairs, "sentence-transformers/all-MiniLM-L6-v2", corpus=corpus, engine="ray", work_dir="w")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"engine": "spark"}, ValueError, "engine must be one of 'local', 'ray'; got 'spark'"),
        ({"num_workers": 2}, ValueError, "num_workers applies to engine='ray'"),
        ({"ray_address": "auto"}, ValueError, "ray_address applies to engine='ray'"),
        ({"restart": True}, ValueError, "restart applies to a work_dir"),
        ({"work_dir": ""}, ValueError, "work_dir is an empty string"),
        ({"anchor_shard_size": 0}, ValueError, "anchor_shard_size must be a whole number >= 1, got 0"),
        ({"max_retries": -1}, ValueError, "max_retries must be a whole number >= 0"),
        ({"restart": "yes", "work_dir": "w"}, TypeError, "restart must be True or False"),
    ],
)
def test_engine_settings_are_checked(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace("[", r"\[")):
        EngineSettings(**kwargs)


def test_ray_needs_a_work_dir():
    pytest.importorskip("ray")
    with pytest.raises(ValueError, match=r"pass work_dir=\.\.\. \(--work-dir\)"):
        EngineSettings(engine="ray")


def test_build_shares_keywords_between_pool_and_engine_settings(default_data):
    pairs, corpus = default_data
    with pytest.raises(TypeError, match="unknown option 'work_dri' for PoolSettings or EngineSettings; did you mean"):
        CandidatePool.build(pairs, "bm25", corpus=corpus, work_dri="w")


def _fail(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_command_mistakes_are_one_line_before_any_model(tmp_path, monkeypatch, capsys, no_model, no_ray):
    monkeypatch.chdir(tmp_path)
    err = _fail(["--engine", "ray", "--work-dir", "w"], capsys)
    assert 'pip install "st-hardneg[ray]"' in err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    err = _fail(["--work-dir", "busy"], capsys)
    assert "holds no st-hardneg build" in err and (tmp_path / "busy" / "notes.txt").exists()
    err = _fail(["--num-workers", "2"], capsys)
    assert "num_workers applies to engine='ray'" in err
    (tmp_path / "p").mkdir()
    err = _fail(["--pool", "p", "--work-dir", "w"], capsys)
    assert "--work-dir build a pool and do not apply with --pool" in err


def test_command_builds_resumes_refuses_and_restarts_a_sharded_pool(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["--quiet", "--teacher", "bm25", "--num-negatives", "2", "--depth", "20", "--work-dir", "w"]
    base += ["--anchor-shard-size", "16", "--corpus-shard-size", "48"]
    assert main([*base, "--output", "a.jsonl"]) == 0
    assert (tmp_path / "w" / "pool" / "pool.json").is_file()
    # the same command again: the finished pool is loaded, the selection is the same
    assert main([*base, "--output", "b.jsonl"]) == 0
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    a = json.loads((tmp_path / "a.jsonl.mining.json").read_text())
    b = json.loads((tmp_path / "b.jsonl.mining.json").read_text())
    assert a["pool"] == b["pool"] and a["statistics"] == b["statistics"]
    # other settings: refused, with what differs; --restart builds again
    err = _fail([*base, "--depth", "30", "--output", "c.jsonl"], capsys)
    assert "holds a build of other inputs or settings (pool_settings.depth: 20 there, 30 now)" in err
    assert not (tmp_path / "c.jsonl").exists()
    assert main([*base, "--depth", "30", "--restart", "--output", "c.jsonl"]) == 0
    assert json.loads((tmp_path / "c.jsonl.mining.json").read_text())["pool"]["settings"]["depth"] == 30


def test_command_deepens_short_rows_of_a_sharded_build_as_an_in_memory_one(tmp_path, monkeypatch):
    """A sharded build returns the pool it wrote (no index kept): --on-short deepen binds the teacher to it again."""
    monkeypatch.chdir(tmp_path)
    base = ["--quiet", "--teacher", "bm25", "--num-negatives", "2", "--depth", "5", "--method", "topk-percpos:0.95"]
    base += ["--on-short", "deepen"]
    assert main([*base, "--output", "memory.jsonl"]) == 0
    sharded = ["--work-dir", "w", "--anchor-shard-size", "16", "--corpus-shard-size", "48"]
    assert main([*base, *sharded, "--output", "sharded.jsonl"]) == 0
    report = json.loads((tmp_path / "sharded.jsonl.mining.json").read_text())
    assert report["statistics"]["rows_deepened"] > 0 and report["statistics"]["negatives_deepened"] > 0
    assert (tmp_path / "sharded.jsonl").read_text() == (tmp_path / "memory.jsonl").read_text()
