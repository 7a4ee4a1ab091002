"""The work folder of a sharded build: files are complete or absent, the manifest lists only complete shards, and a
folder of another build (or of other files) is refused."""

import json

import numpy as np
import pytest

from st_hardneg import atomic
from st_hardneg.engines.work_dir import WorkDir, identity_differences

IDENTITY = {"inputs": {"dataset_fingerprint": "abc", "rows": 3}, "pool_settings": {"depth": 10}}


def opened(path, identity=IDENTITY, **kwargs) -> WorkDir:
    """A work folder opened as a build opens it, then released (as when that build ends)."""
    work = WorkDir(path, identity, **kwargs).open()
    work.close()
    return work


def test_a_writer_killed_midway_leaves_no_file_under_the_final_name(tmp_path, monkeypatch):
    target = tmp_path / "shard.npy"
    real_save = np.save

    def dies_after_half(f, array, **kwargs):
        real_save(f, array[: len(array) // 2], **kwargs)  # half the data is on disk...
        raise KeyboardInterrupt  # ...when the process is interrupted

    monkeypatch.setattr(np, "save", dies_after_half)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_npy(target, np.arange(10))
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # the temporary is removed too
    monkeypatch.setattr(np, "save", real_save)
    atomic.write_npy(target, np.arange(10))
    assert np.load(target).tolist() == list(range(10))


def test_a_new_folder_is_created_with_a_manifest(tmp_path):
    work = opened(tmp_path / "w")
    manifest = json.loads((tmp_path / "w" / "manifest.json").read_text())
    assert manifest["identity"] == IDENTITY and manifest["shards"] == {} and not work.resumed


def test_a_shard_is_done_only_when_recorded_and_its_file_is_complete(tmp_path):
    work = opened(tmp_path)
    shard = tmp_path / "teacher_0" / "documents" / "d00000.npy"
    atomic.write_npy(shard, np.ones((4, 3), np.float32))
    assert not work.done("teacher_0/documents/d00000")  # on disk but not recorded: not done
    work.mark_done("teacher_0/documents/d00000", [shard], rows=[0, 3])
    resumed = opened(tmp_path)
    assert resumed.resumed and resumed.done("teacher_0/documents/d00000")
    # a recorded file that was truncated afterwards (disk trouble, a hand edit) is redone, not read
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])
    again = opened(tmp_path)
    assert not again.done("teacher_0/documents/d00000")
    shard.unlink()
    assert not opened(tmp_path).done("teacher_0/documents/d00000")


def test_leftover_temporaries_of_a_killed_run_are_deleted_on_resume(tmp_path):
    opened(tmp_path)
    stale = tmp_path / "teacher_0" / "search" / f"a00000-d00000{atomic.TMP_MARKER}1234abcd.npz"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half")
    opened(tmp_path)
    assert not stale.exists()


def test_a_build_of_other_inputs_or_settings_is_refused_with_the_differences(tmp_path):
    opened(tmp_path)
    other = {"inputs": {"dataset_fingerprint": "xyz", "rows": 3}, "pool_settings": {"depth": 20}}
    with pytest.raises(ValueError) as err:
        opened(tmp_path, other)
    message = str(err.value)
    assert "inputs.dataset_fingerprint: abc there, xyz now" in message
    assert "pool_settings.depth: 10 there, 20 now" in message
    assert "restart=True (--restart)" in message


def test_restart_deletes_the_previous_build_and_starts_again(tmp_path):
    work = opened(tmp_path)
    atomic.write_npy(tmp_path / "x.npy", np.zeros(2))
    work.mark_done("x", [tmp_path / "x.npy"])
    other = {"inputs": {"dataset_fingerprint": "xyz", "rows": 3}}
    fresh = opened(tmp_path, other, restart=True)
    assert not fresh.resumed and not (tmp_path / "x.npy").exists()
    assert json.loads((tmp_path / "manifest.json").read_text())["identity"] == other


def test_a_folder_of_other_files_is_never_deleted(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    for restart in (False, True):
        with pytest.raises(FileExistsError, match="holds no st-hardneg build"):
            opened(tmp_path, restart=restart)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="not a folder"):
        opened(tmp_path / "file")


def test_teacher_facts_from_another_model_are_refused(tmp_path):
    work = opened(tmp_path)
    work.record_teacher(0, weights="aaaa", dim=384)
    work.record_teacher(0, weights="aaaa")  # the same again: fine
    with pytest.raises(ValueError, match="weights='aaaa', now 'bbbb'"):
        opened(tmp_path).record_teacher(0, weights="bbbb")


def test_identity_differences_name_nested_paths():
    old = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    new = {"a": {"b": 2, "c": [1, 3]}, "d": "x", "e": True}
    assert identity_differences(old, new) == ["a.b: 1 there, 2 now", "a.c.1: 2 there, 3 now", "e: null there, true now"]


def test_a_folder_in_use_by_another_build_is_refused_until_it_ends(tmp_path):
    first = WorkDir(tmp_path, IDENTITY).open()
    with pytest.raises(FileExistsError, match="in use by another build"):
        WorkDir(tmp_path, IDENTITY).open()
    first.close()
    with WorkDir(tmp_path, IDENTITY) as again:
        assert again.resumed
