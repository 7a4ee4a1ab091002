"""Writing outputs without destroying anything the user owns.

Every writer in st-hardneg (the command's dataset and its side files, saved pools, folders for the Hub) checks its
target here first, before any work: an existing output is replaced only with ``overwrite=True`` (``--overwrite``),
and only when it is a previous output of the same kind: a folder holding its marker file, a file its writer
recognises (the command's mined file by the mining record ``<name>.mining.json`` beside it). An input is never an
output (:func:`check_not_inputs`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

__all__ = [
    "check_not_inputs",
    "check_output_files",
    "check_output_folder",
    "is_mining_record",
    "prepare_output_folder",
]


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


def check_output_files(
    paths: Iterable[Path],
    *,
    overwrite: bool,
    written_by_us: Callable[[], bool] | None = None,
    what: str = "an st-hardneg output",
) -> None:
    """Refuse (``FileExistsError``) when any of ``paths`` exists, unless ``overwrite`` is set and ``written_by_us()``
    says the existing files are a previous st-hardneg output of this kind (``what``); folders are never replaced.

    ``paths`` are the files of one output (a mined file and its side files); without ``written_by_us`` no existing
    file is ever replaced.
    """
    paths = [Path(path) for path in paths]
    for path in paths:
        if path.is_dir():
            raise FileExistsError(f"{path} is a folder; st-hardneg will not replace a folder with a file")
    existing = [path for path in paths if path.exists()]
    if not existing:
        return
    if not overwrite:
        raise FileExistsError(f"{existing[0]} exists; pass overwrite=True (--overwrite) to replace it")
    if written_by_us is None or not written_by_us():
        raise FileExistsError(
            f"{existing[0]} exists and is not {what}; st-hardneg does not replace other files: choose another path"
        )


def is_mining_record(path: Path) -> bool:
    """Whether ``path`` is a mining record the command wrote (``mining.json``: a JSON object with the source, the
    pool, the selection and its statistics), the mark of an st-hardneg output beside it."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(record, dict) and {"source", "pool", "selection", "statistics"} <= set(record)


def check_not_inputs(outputs: Mapping[str, Path | str | None], inputs: Mapping[str, Path | str | None]) -> None:
    """Raise ``ValueError`` when an output path is an input, or a folder holding one or inside one: st-hardneg
    never writes over what it reads (``--overwrite`` or not). Keys name the paths in the message (``--output``)."""
    resolved_inputs = {name: Path(path).resolve() for name, path in inputs.items() if path is not None}
    for out_name, out_path in outputs.items():
        if out_path is None:
            continue
        out = Path(out_path).resolve()
        for in_name, source in resolved_inputs.items():
            if out == source or source.is_relative_to(out) or (source.is_dir() and out.is_relative_to(source)):
                relation = "is" if out == source else "holds" if source.is_relative_to(out) else "is inside"
                raise ValueError(
                    f"{out_name} {out_path} {relation} the input {in_name} {source}; st-hardneg never writes over an "
                    "input: choose another path"
                )
