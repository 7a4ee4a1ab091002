"""st-hardneg --push-to-hub: checked before any work (repository id, token, what the repository holds); the pushed
card names the original dataset even when the set is selected from a saved pool."""

import pytest
from huggingface_hub import DatasetCard

import st_hardneg.hub.repo as repo
from st_hardneg.cli import main
from tests.hub.fake_hub import RecordingHubApi

BASE = ["--quiet", "--teacher", "bm25", "--num-negatives", "2"]


def _fails(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_a_bad_repository_id_or_a_missing_token_stops_the_command_first(tmp_path, capsys, no_token, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "repository id 'user/bad name' is not valid" in _fails([*BASE, "--push-to-hub", "user/bad name"], capsys)
    assert "needs a token with write access" in _fails([*BASE, "--push-to-hub", "user/set"], capsys)
    assert "--private applies to --push-to-hub" in _fails([*BASE, "--private"], capsys)
    assert list(tmp_path.iterdir()) == []  # nothing mined, nothing written


def test_the_command_pushes_the_set_and_a_set_from_a_saved_pool_names_the_original_data(tmp_path, monkeypatch):
    hub = RecordingHubApi(tmp_path / "hub")
    monkeypatch.setattr(repo, "make_api", lambda token: hub)
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    monkeypatch.chdir(tmp_path)
    assert main([*BASE, "--save-pool", "pool", "--push-to-hub", "user/set", "--private"]) == 0
    assert (tmp_path / "mined" / "mining.json").is_file()  # the local outputs as without --push-to-hub
    pushed = hub.files("user/set")
    assert "data/train-00000-of-00001.parquet" in pushed and "mining_config.json" in pushed
    assert ("create_repo", {"repo_id": "user/set", "repo_type": "dataset", "private": True}) in hub.calls

    argv = ["--quiet", "--pool", "pool", "--method", "naive-topk", "--output", "b", "--license", "cc-by-4.0"]
    assert main([*argv, "--push-to-hub", "user/b"]) == 0
    card = DatasetCard(hub.files("user/b")["README.md"].decode())
    assert "| Source | the st-hardneg embedded example" in card.text and "`pool`" not in card.text
    assert card.data.license == "cc-by-4.0"
    assert DatasetCard.load(tmp_path / "b" / "README.md").data.license == "cc-by-4.0"  # the local card too


def test_the_command_does_not_replace_a_repository_it_did_not_write(tmp_path, monkeypatch, capsys):
    hub = RecordingHubApi(tmp_path / "hub")
    hub.put("user/theirs", "data.csv", b"a,b\n")
    monkeypatch.setattr(repo, "make_api", lambda token: hub)
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    monkeypatch.chdir(tmp_path)
    err = _fails([*BASE, "--push-to-hub", "user/theirs", "--overwrite"], capsys)
    assert "not written by an st-hardneg push" in err
    assert not (tmp_path / "mined").exists() and hub.commits == []
