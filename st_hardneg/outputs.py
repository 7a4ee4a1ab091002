"""Writing outputs without destroying anything the user owns.

Every writer in st-hardneg (the command's dataset and its side files, saved pools, folders for the Hub) checks its
target here first, before any work: an existing output is replaced only with ``overwrite=True`` (``--overwrite``),
and a folder is only ever deleted when it holds a previous output of the same kind.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

__all__ = ["check_output_files", "check_output_folder", "prepare_output_folder"]


def check_output_folder(path: Path, *, overwrite: bool, marker: str, what: str) -> None:
    """Raise ``FileExistsError`` unless ``path`` may receive ``what``: it is absent or empty, or ``overwrite`` is set
    and it holds a previous output of the same kind (its ``marker`` file). Changes nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder; choose another path for {what}")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{path} exists and is not empty; pass overwrite=True (--overwrite) to replace it")
        if not (path / marker).is_file():
            raise FileExistsError(
                f"{path} is not empty and does not hold {what} (no {marker}); st-hardneg does not delete other "
                "files: choose another path"
            )


def prepare_output_folder(path: Path, *, overwrite: bool, marker: str, what: str) -> None:
    """Make ``path`` ready to receive ``what`` (:func:`check_output_folder`, then remove the previous output of the
    same kind when overwriting, and create the folder)."""
    path = Path(path)
    check_output_folder(path, overwrite=overwrite, marker=marker, what=what)
    if path.is_dir() and any(path.iterdir()):
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)


def check_output_files(paths: Iterable[Path], *, overwrite: bool) -> None:
    """Refuse (``FileExistsError``) when any of ``paths`` exists, unless ``overwrite``; folders are never replaced."""
    for path in paths:
        if path.is_dir():
            raise FileExistsError(f"{path} is a folder; st-hardneg will not replace a folder with a file")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
