"""push_to_hub against an in-memory Hub that records what it receives (tests/hub/fake_hub.py): one commit, exactly
the files save_for_hub writes, stale files of a previous push deleted, the token checked first and never written.
A test against the real Hub runs only when a token and the network are there."""

from __future__ import annotations

import logging
import os
import socket
import uuid

import datasets
import pytest

import st_hardneg.hub.repo as repo
from st_hardneg.hub import push_to_hub, save_for_hub
from tests.hub.fake_hub import RecordingHubApi


def _sel(pool, method="topk-percpos:0.95", **kwargs):
    return pool.select(method, num_negatives=2, show_progress=False, return_statistics=True, **kwargs)


def test_a_push_is_one_commit_of_exactly_what_save_for_hub_writes(bm25_pool, hub, tmp_path):
    selections = {"percpos": _sel(bm25_pool, output_scores=True), "naive": _sel(bm25_pool, "naive-topk")}
    info = push_to_hub(selections, "user/hard-negatives", api=hub, private=True, pool=bm25_pool, show_progress=False)
    save_for_hub(selections, tmp_path / "local", pool=bm25_pool, repo_id="user/hard-negatives", show_progress=False)

    (commit,) = hub.commits
    assert commit.deleted == [] and info.oid
    root = tmp_path / "local"
    local = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert commit.added == local  # same files, same bytes
    assert ("create_repo", {"repo_id": "user/hard-negatives", "repo_type": "dataset", "private": True}) in hub.calls
    assert [c for c in hub.calls if c[0] == "create_commit"][0][1]["repo_type"] == "dataset"
    # what landed on the "Hub" loads with datasets, per configuration
    snapshot = hub.snapshot_download("user/hard-negatives", repo_type="dataset")
    for name, selection in selections.items():
        assert datasets.load_dataset(snapshot, name, split="train").to_list() == selection.dataset.to_list()


def test_a_re_push_leaves_no_stale_files_and_keeps_files_added_by_hand(bm25_pool, hub):
    first = {"percpos": _sel(bm25_pool), "naive": _sel(bm25_pool, "naive-topk")}
    push_to_hub(first, "user/set", api=hub, show_progress=False)
    hub.put("user/set", "NOTES.md", b"written by hand on the Hub")
    second = {"margin": _sel(bm25_pool, "topk-marginpos:0.5")}
    push_to_hub(second, "user/set", api=hub, show_progress=False)

    assert len(hub.commits) == 2
    deleted = set(hub.commits[1].deleted)
    assert "percpos/train-00000-of-00001.parquet" in deleted and "naive/train-00000-of-00001.parquet" in deleted
    assert any(name.startswith("plots/percpos") for name in deleted)
    remaining = set(hub.files("user/set"))
    assert remaining == set(hub.commits[1].added) | {".gitattributes", "NOTES.md"}
    assert not any(name.startswith(("percpos/", "naive/")) for name in remaining)


def test_a_repository_holding_something_else_is_refused_unless_overwrite(bm25_pool, hub):
    hub.put("user/other", "data.csv", b"a,b\n")
    hub.put("user/other", "README.md", b"---\nlicense: mit\n---\n# someone's data\n")
    with pytest.raises(FileExistsError, match="not written by an st-hardneg push.*overwrite=True"):
        push_to_hub(_sel(bm25_pool), "user/other", api=hub, show_progress=False)
    assert hub.commits == []
    push_to_hub(_sel(bm25_pool), "user/other", api=hub, overwrite=True, show_progress=False)
    assert set(hub.commits[0].deleted) == {"data.csv"}  # README.md is replaced, data.csv deleted
    assert "data.csv" not in hub.files("user/other")


def test_without_a_token_a_clear_error_comes_before_any_work(bm25_pool, no_token, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the Hub was contacted before the token was checked")

    monkeypatch.setattr("huggingface_hub.HfApi", no_network)
    with pytest.raises(ValueError, match="needs a token with write access: run `hf auth login`"):
        push_to_hub(_sel(bm25_pool), "user/set")


BAD_CARD_OPTIONS = [
    ({"licence": "mit"}, TypeError, "unknown option 'licence' for CardSettings; did you mean 'license'"),
    ({"source_datasets": ["scifact"]}, ValueError, "not a Hub dataset id"),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), [*BAD_CARD_OPTIONS, ({"split": "a-b"}, ValueError, "split")])
def test_bad_options_fail_before_the_token_or_the_network(bm25_pool, no_token, kwargs, error, message):
    with pytest.raises(error, match=message):  # not "needs a token": the options are checked first
        push_to_hub(_sel(bm25_pool), "user/set", **kwargs)


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_CARD_OPTIONS)
def test_bad_pool_card_options_fail_before_the_token(bm25_pool, no_token, kwargs, error, message):
    with pytest.raises(error, match=message):
        bm25_pool.push_to_hub("user/pool", **kwargs)


@pytest.mark.parametrize("repo_id", ["user/bad name", "a/b/c", "", "user/-x-"])
def test_a_malformed_repository_id_is_refused(bm25_pool, hub, repo_id):
    with pytest.raises(ValueError, match="repository id"):
        push_to_hub(_sel(bm25_pool), repo_id, api=hub)
    assert hub.calls == []


def test_the_token_is_used_and_never_written_or_logged(bm25_pool, tmp_path, monkeypatch, caplog, capsys):
    secret = "hf_" + uuid.uuid4().hex
    made = []

    def make_api(token):
        made.append(token)
        return RecordingHubApi(tmp_path / "hub", token=token)

    monkeypatch.setattr(repo, "make_api", make_api)
    monkeypatch.setenv("HF_TOKEN", secret)
    with caplog.at_level(logging.DEBUG):
        push_to_hub(_sel(bm25_pool, output_scores=True), "user/set", show_progress=False)
    assert made == [secret]  # huggingface_hub's usual place, handed to the API
    pushed = RecordingHubApi(tmp_path / "hub").files("user/set")
    assert pushed and not any(secret.encode() in data for data in pushed.values())
    out = capsys.readouterr()
    assert secret not in caplog.text and secret not in out.out and secret not in out.err


# ---------------------------------------------------------------------------------------------- the real Hub
def _hub_reachable() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    try:
        socket.create_connection(("huggingface.co", 443), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_push_to_the_real_hub(bm25_pool):
    from huggingface_hub import HfApi, get_token

    token = get_token()
    if not token or not _hub_reachable():
        pytest.skip("needs a Hugging Face token and the network (HF_HUB_OFFLINE unset)")
    api = HfApi(token=token)
    repo_id = f"{api.whoami()['name']}/st-hardneg-test-{uuid.uuid4().hex[:8]}"
    selection = _sel(bm25_pool)
    try:
        push_to_hub(selection, repo_id, private=True, show_progress=False)
        loaded = datasets.load_dataset(repo_id, split="train", token=token)
        assert loaded.to_list() == selection.dataset.to_list()
        push_to_hub({"naive": _sel(bm25_pool, "naive-topk")}, repo_id, show_progress=False)
        assert not any(f.startswith("data/") for f in api.list_repo_files(repo_id, repo_type="dataset"))
    finally:
        api.delete_repo(repo_id, repo_type="dataset", missing_ok=True)
