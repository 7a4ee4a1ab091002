"""The work folder of a sharded build: its manifest, and which shards are done.

``work_dir/manifest.json`` records the build's *identity* (fingerprints of the dataset and the corpus, the pool
settings, each teacher's identity, the shard sizes) and every finished shard with its files and their sizes. It is
rewritten atomically (:mod:`st_hardneg.atomic`) after each shard, and every shard file is itself written atomically
before it is recorded, so after a kill at any moment the manifest lists only complete files.

Opening a work folder:

- absent or empty: a new build starts there;
- holding a manifest with the same identity: the build resumes, skipping every recorded shard whose files are still
  there with their recorded sizes (others are redone);
- holding a manifest of another build: refused with the differences named, unless ``restart=True``, which deletes
  that build and starts again;
- holding other files: refused (st-hardneg never deletes a folder it did not write);
- in use by another build (an advisory ``flock`` on ``work_dir/.lock``, released by the system when that build's
  process ends, even killed): refused.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from st_hardneg.atomic import remove_stale_temporaries, write_text

logger = logging.getLogger(__name__)

__all__ = ["MANIFEST", "WorkDir", "identity_differences"]

MANIFEST = "manifest.json"
LOCK = ".lock"
#: Version of the manifest layout; a work folder written with another version is not resumed.
MANIFEST_VERSION = 1


class WorkDir:
    """A sharded build's folder and manifest.

    Args:
        path: the folder.
        identity: JSON-ready description of the build (inputs, settings, teachers, shard sizes).
        restart: delete a previous build of this folder and start again.

    Examples:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()) / "work"
        >>> with WorkDir(folder, {"inputs": {"rows": 3}}) as work:
        ...     _ = (folder / "x.npy").write_bytes(b"123")
        ...     work.mark_done("x", [folder / "x.npy"], rows=[0, 2])
        >>> with WorkDir(folder, {"inputs": {"rows": 3}}) as work:
        ...     work.done("x")
        True
        >>> WorkDir(folder, {"inputs": {"rows": 4}}).open()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: ... holds a build of other inputs or settings (inputs.rows: 3 there, 4 now); ...
    """

    def __init__(self, path: str | Path, identity: dict[str, Any], *, restart: bool = False) -> None:
        self.path = Path(path)
        self.identity = _plain(identity)
        self.restart = restart
        self.manifest: dict[str, Any] = {}
        self.resumed = False
        self._lock_fd: int | None = None

    # ------------------------------------------------------------------ opening
    @staticmethod
    def check_folder(path: str | Path) -> None:
        """Raise ``FileExistsError`` unless ``path`` can hold a build: absent, empty, or holding a build (changes
        nothing; the command calls it before loading any data)."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise FileExistsError(f"work_dir {path} exists and is not a folder; choose another path")
        if path.is_dir() and any(p.name != LOCK for p in path.iterdir()) and not (path / MANIFEST).is_file():
            raise FileExistsError(
                f"work_dir {path} is not empty and holds no st-hardneg build (no {MANIFEST}); st-hardneg does not "
                "delete other files: choose another work_dir"
            )

    def open(self) -> WorkDir:
        """Check the folder, lock it for this build, and create, resume or restart the build in it."""
        self.check_folder(self.path)
        self._lock()
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    def _open(self) -> None:
        path = self.path
        manifest_path = path / MANIFEST
        if manifest_path.is_file():
            old = json.loads(manifest_path.read_text())
            same = old.get("version") == MANIFEST_VERSION and old.get("identity") == self.identity
            if self.restart:
                logger.info("restart=True: deleting the previous build in %s and starting again", path)
                for entry in path.iterdir():
                    if entry.name != LOCK:
                        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            elif not same:
                diff = identity_differences(old.get("identity", {}), self.identity)
                if old.get("version") != MANIFEST_VERSION:
                    diff.insert(0, f"manifest version: {old.get('version')} there, {MANIFEST_VERSION} now")
                raise ValueError(
                    f"work_dir {path} holds a build of other inputs or settings ({'; '.join(diff[:6])}); pass "
                    "restart=True (--restart) to delete it and start again, or choose another work_dir"
                )
            else:
                self.manifest = old
                self.resumed = True
                stale = remove_stale_temporaries(path)
                done = sum(1 for e in old.get("shards", {}).values() if e.get("status") == "done")
                logger.info(
                    "Resuming the build in %s: %d shards done%s",
                    path,
                    done,
                    f"; {stale} half-written files of the interrupted run deleted" if stale else "",
                )
        if not self.resumed:
            path.mkdir(parents=True, exist_ok=True)
            self.manifest = {"version": MANIFEST_VERSION, "identity": self.identity, "teachers": {}, "shards": {}}
            self.save()

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no advisory locks on this platform
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise FileExistsError(
                f"work_dir {self.path} is in use by another build; run again when it has ended (or stop it)"
            ) from None
        self._lock_fd = fd

    def close(self) -> None:
        """Release the folder for other builds (also released when the process ends)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def __enter__(self) -> WorkDir:
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ shards
    def done(self, key: str) -> bool:
        """Whether shard ``key`` is recorded as done and its files are there, complete (their recorded sizes)."""
        entry = self.manifest["shards"].get(key)
        if not entry or entry.get("status") != "done":
            return False
        for name, size in zip(entry["files"], entry["bytes"]):
            file = self.path / name
            if not file.is_file() or file.stat().st_size != size:
                logger.warning("Shard %s: %s is missing or changed since it was written; redoing the shard", key, name)
                del self.manifest["shards"][key]
                return False
        return True

    def mark_done(self, key: str, files: list[Path] | tuple[Path, ...], **info: Any) -> None:
        """Record shard ``key`` as done with its (already atomically written) files."""
        files = [Path(f) for f in files]
        self.manifest["shards"][key] = {
            "status": "done",
            "files": [str(f.relative_to(self.path)) for f in files],
            "bytes": [f.stat().st_size for f in files],
            **_plain(info),
        }
        self.save()

    def mark_failed(self, key: str, error: str, **info: Any) -> None:
        """Record that shard ``key`` failed (the manifest then says why; it is redone on the next run)."""
        self.manifest["shards"][key] = {"status": "failed", "error": error, **_plain(info)}
        self.save()

    def forget(self, *keys: str) -> None:
        """Drop entries (e.g. intermediate shards whose files were deleted once merged)."""
        for key in keys:
            self.manifest["shards"].pop(key, None)
        self.save()

    def entry(self, key: str) -> dict[str, Any] | None:
        return self.manifest["shards"].get(key)

    # ------------------------------------------------------------------ teacher facts learnt while building
    def teacher_info(self, index: int) -> dict[str, Any]:
        """What the build learnt about teacher ``index`` (its resolved config, weights fingerprint, dimension)."""
        return self.manifest["teachers"].setdefault(str(index), {})

    def record_teacher(self, index: int, **facts: Any) -> None:
        """Record facts about a teacher, refusing any that contradict what an earlier run recorded."""
        info = self.teacher_info(index)
        facts = _plain(facts)
        for name, value in facts.items():
            if name in info and info[name] != value:
                raise ValueError(
                    f"teacher {index} of the build in {self.path} had {name}={info[name]!r}, now {value!r}: its "
                    "model changed since the shards were written; pass restart=True (--restart) to start again"
                )
        changed = {k: v for k, v in facts.items() if k not in info}
        if changed:
            info.update(changed)
            self.save()

    def save(self) -> None:
        write_text(self.path / MANIFEST, json.dumps(self.manifest, indent=1, sort_keys=True))


def identity_differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The paths where two identities differ, with both values (``"inputs.rows: 3 there, 4 now"``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            out += identity_differences(old.get(key), new.get(key), f"{prefix}{key}.")
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out += identity_differences(a, b, f"{prefix}{i}.")
        return out
    if old != new:
        return [f"{prefix.rstrip('.')}: {_short(old)} there, {_short(new)} now"]
    return []


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def _plain(value: Any) -> Any:
    """JSON round trip, so what is compared is what the manifest stores."""
    return json.loads(json.dumps(value, default=str))
