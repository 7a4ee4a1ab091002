"""Files that are either complete or absent: write to a temporary name in the same folder, flush and ``fsync``,
then ``os.replace`` onto the final name (atomic on POSIX filesystems), then ``fsync`` the folder.

A process killed at any moment therefore leaves the previous file (or none) under the final name, never a
half-written one; leftovers carry a ``.tmp-`` name and are never read as results. Resumable work (the sharded pool
builds in :mod:`st_hardneg.engines`, the chunked embedding cache in :mod:`st_hardneg.teachers.cache`) counts a shard
as done only once its file exists under its final name.

Examples:
    >>> import tempfile, numpy as np
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_npy(folder / "a.npy", np.arange(3))
    >>> np.load(folder / "a.npy").tolist(), sorted(p.name for p in folder.iterdir())
    ([0, 1, 2], ['a.npy'])
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "TMP_MARKER",
    "atomic_path",
    "remove_stale_temporaries",
    "write_npy",
    "write_npz",
    "write_text",
    "write_with",
]

#: Part of every temporary file name written here.
TMP_MARKER = ".tmp-"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block ends without error, the file written there (or the
    folder) is synced and renamed onto ``path``. On error the temporary is removed and ``path`` is untouched.

    The temporary name keeps ``path``'s suffix, so writers that add a suffix (``np.save`` adds ``.npy``) do not.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}{TMP_MARKER}{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        yield tmp
        if tmp.is_file():
            _fsync_file(tmp)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            if tmp.is_dir():
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)


def write_with(path: str | Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Atomically write ``path`` with ``write(file_object)``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)


def write_npy(path: str | Path, array: np.ndarray) -> None:
    """Atomically save one array as ``.npy`` (memory-mappable with ``np.load(path, mmap_mode="r")``)."""
    write_with(path, lambda f: np.save(f, np.asarray(array), allow_pickle=False))


def write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """Atomically save several arrays as one uncompressed ``.npz``."""
    write_with(path, lambda f: np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()}))


def write_text(path: str | Path, text: str) -> None:
    """Atomically write a text file (UTF-8)."""
    write_with(path, lambda f: f.write(text.encode("utf-8")))


def remove_stale_temporaries(folder: str | Path) -> int:
    """Delete temporaries left in ``folder`` (recursively) by a killed writer; returns how many were removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for p in folder.rglob(f"*{TMP_MARKER}*"):
        if p.is_file():
            p.unlink(missing_ok=True)
            removed += 1
    return removed


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory file descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def json_default(value: Any) -> Any:
    """``json.dumps(..., default=json_default)``: NumPy scalars and arrays as Python numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")
