"""Saving and loading candidate pools: ``pool.json`` (config, statistics, history), Arrow texts, ``.npy`` arrays,
for a relabeled pool ``judgments.arrow`` (format 3), and the deeper candidates ``on_short="deepen"`` found
(``extension_*.npy``, format 4), and ids and kept input columns where the inputs had them
(``input_rows.arrow``, ``corpus_ids.arrow``; a pool without them has neither file). Formats 1 to 3 stay readable:
1 and 2 are pools without judgments, 1 to 3 pools without deeper candidates."""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather

from st_hardneg.atomic import json_default, write_npz, write_text, write_with
from st_hardneg.data.arrow_texts import as_arrow
from st_hardneg.outputs import prepare_output_folder
from st_hardneg.pool.candidates import EXTENSION_ARRAYS, TEACHER_ARRAYS, CandidateExtension, TeacherCandidates
from st_hardneg.pool.input_columns import InputColumns
from st_hardneg.pool.statistics import PoolStatistics, ScoreSummary, TeacherStatistics

FORMAT_VERSION = 4
#: Versions this st-hardneg reads (version 1 pools are converted on load; 1 and 2 hold no judgments; 1 to 3 hold no
#: deeper candidates).
READABLE_VERSIONS = (1, 2, 3, 4)
_JUDGMENTS_FILE = "judgments.arrow"
_ARRAYS = TEACHER_ARRAYS  # one ``.npy`` each in the teacher's folder
#: Candidates beyond the depth found by ``on_short="deepen"`` (format 4: ``extension_<field>.npy`` in the teacher's
#: folder; absent when no row was deepened).
_EXTENSION = EXTENSION_ARRAYS


def save_pool(pool: Any, path: Path, *, overwrite: bool = False) -> None:
    prepare_output_folder(path, overwrite=overwrite, marker="pool.json", what="a candidate pool")
    write_texts(path, pool.queries, pool.corpus)
    write_rows(path, pool.row_query, pool.row_positive, pool.positives_indptr, pool.positives_indices)
    folders = {}
    for i, (name, tc) in enumerate(pool.teachers.items()):
        folder = path / teacher_folder(i)
        folder.mkdir(exist_ok=True)
        for array in _ARRAYS:
            np.save(folder / f"{array}.npy", np.asarray(getattr(tc, array)))
        if tc.extension is not None:
            for array in _EXTENSION:
                np.save(folder / f"extension_{array}.npy", np.asarray(getattr(tc.extension, array)))
        folders[name] = {"folder": folder.name, "config": tc.config}
    if pool.input_columns is not None:  # ids and kept columns (issue 18): absent from pools without them
        pool.input_columns.save(path, write_with)
    judgments = _write_judgments(pool.judgments, path) if pool.judgments is not None else None
    write_meta(path, pool.config, folders, pool.statistics.to_dict(), pool.history, judgments=judgments)


# The pieces of a saved pool, also written one by one by the sharded builds (st_hardneg.engines), pool.json last.
def teacher_folder(i: int) -> str:
    """The folder of the ``i``-th teacher's arrays in a saved pool."""
    return f"teacher_{i}"


def write_texts(path: Path, queries: Any, corpus: Any) -> None:
    """``queries.arrow`` and ``corpus.arrow`` (one ``text`` column each, uncompressed: memory-mapped on load)."""
    for name, texts in (("queries", queries), ("corpus", corpus)):
        if not isinstance(texts, pa.Array | pa.ChunkedArray):
            texts = as_arrow(texts)  # an ArrowTexts corpus is written from its Arrow chunks
        table = pa.table({"text": texts})
        write_with(path / f"{name}.arrow", lambda f, t=table: feather.write_feather(t, f, compression="uncompressed"))


def write_rows(
    path: Path, row_query: np.ndarray, row_positive: np.ndarray, indptr: np.ndarray, indices: np.ndarray
) -> None:
    """``rows.npz``: each row's query and positive, and each query's positives (CSR)."""
    write_npz(
        path / "rows.npz",
        row_query=row_query,
        row_positive=row_positive,
        positives_indptr=indptr,
        positives_indices=indices,
    )


def write_meta(
    path: Path,
    config: dict[str, Any],
    teachers: dict[str, dict[str, Any]],
    statistics: dict[str, Any],
    history: list[dict[str, Any]],
    *,
    judgments: dict[str, Any] | None = None,
) -> None:
    """``pool.json`` (format version, config, teacher folders, statistics, history, judgments if any): written last,
    it marks the folder as a complete pool."""
    from st_hardneg.version import __version__

    meta = {
        "format_version": FORMAT_VERSION,
        "st_hardneg_version": __version__,
        "config": config,
        "teachers": teachers,
        "statistics": statistics,
        "history": history,
    }
    if judgments is not None:
        meta["judgments"] = judgments
    write_text(path / "pool.json", json.dumps(meta, indent=2, default=json_default))


def save_judgments(pool: Any, path: Path) -> None:
    """Write a pool's judgments into the saved pool at ``path`` (the pool it was loaded from), leaving its arrays as
    they are: ``judgments.arrow`` and ``pool.json`` are each replaced atomically (written aside, then renamed)."""
    meta_path = path / "pool.json"
    meta = json.loads(meta_path.read_text())
    if meta.get("format_version") not in READABLE_VERSIONS:
        raise ValueError(f"{path} holds a pool in format {meta.get('format_version')}; it cannot be updated here")
    if pool.judgments is None:
        meta.pop("judgments", None)
    else:
        meta["judgments"] = _write_judgments(pool.judgments, path)
    if meta["format_version"] == 1:  # the v1 config was converted on load; write it as the current format
        meta["config"] = pool.config
    meta["format_version"] = FORMAT_VERSION
    meta["history"] = pool.history
    _atomic_write_text(meta_path, json.dumps(meta, indent=2, default=json_default))


def _write_judgments(judgments: Any, path: Path) -> dict[str, Any]:
    tmp = path / f".{_JUDGMENTS_FILE}.tmp"
    feather.write_feather(judgments.to_table(), tmp, compression="uncompressed")
    os.replace(tmp, path / _JUDGMENTS_FILE)
    return {
        "file": _JUDGMENTS_FILE,
        "mode": judgments.mode,
        "config": judgments.config,
        "statistics": judgments.statistics.to_dict(),
    }


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def load_pool(cls: type, path: Path) -> Any:
    meta_path = path / "pool.json"
    if not meta_path.exists():
        raise FileNotFoundError(f"{path} is not a saved candidate pool (no pool.json)")
    meta = json.loads(meta_path.read_text())
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        raise ValueError(
            f"{path} holds a pool in format {version} (written by st-hardneg {meta.get('st_hardneg_version')}); "
            f"this st-hardneg {_version()} reads formats {list(READABLE_VERSIONS)}: upgrade st-hardneg, or rebuild "
            "the pool"
        )
    texts = {
        name: feather.read_table(path / f"{name}.arrow", memory_map=True).column("text").combine_chunks()
        for name in ("queries", "corpus")
    }
    rows = np.load(path / "rows.npz")
    teachers = {}
    for name, info in meta["teachers"].items():
        folder = path / info["folder"]
        arrays = {a: np.load(folder / f"{a}.npy", mmap_mode="r") for a in _ARRAYS if (folder / f"{a}.npy").exists()}
        if "min_positive_scores" not in arrays:  # format 1
            lowest = np.full(len(texts["queries"]), np.inf)
            np.minimum.at(lowest, rows["row_query"], np.asarray(arrays["positive_scores"], dtype=np.float64))
            arrays["min_positive_scores"] = lowest.astype(np.float32)
        extension = None
        if (folder / "extension_searched.npy").exists():
            extension = CandidateExtension(**{a: np.load(folder / f"extension_{a}.npy") for a in _EXTENSION})
        teachers[name] = TeacherCandidates(name=name, config=info["config"], extension=extension, **arrays)
    if version == 1:
        meta["config"] = _config_from_v1(meta["config"], texts, rows)
    judgments = None
    if meta.get("judgments"):
        from st_hardneg.relabel.judgments import Judgments

        info = meta["judgments"]
        table = feather.read_table(path / info["file"], memory_map=True)
        judgments = Judgments.from_table(
            table, mode=info["mode"], config=info["config"], statistics=info.get("statistics")
        )
    return cls(
        queries=texts["queries"],
        corpus=texts["corpus"],
        row_query=rows["row_query"],
        row_positive=rows["row_positive"],
        positives_indptr=rows["positives_indptr"],
        positives_indices=rows["positives_indices"],
        teachers=teachers,
        config=meta["config"],
        statistics=_pool_statistics(meta["statistics"]),
        history=meta.get("history", []),
        judgments=judgments,
        input_columns=InputColumns.load(path, meta["config"].get("settings", {}).get("keep_columns") or ()),
    )


def _config_from_v1(old: dict[str, Any], texts: dict[str, Any], rows: Any) -> dict[str, Any]:
    from st_hardneg.pool.inputs import corpus_fingerprint, dataset_fingerprint

    corpus = texts["corpus"].to_pylist()
    queries = texts["queries"].to_pylist()
    anchors = [queries[i] for i in rows["row_query"]]
    positives = [corpus[i] for i in rows["row_positive"]]
    keys = ("depth", "num_random", "seed", "anchor_column", "positive_column")
    return {
        "settings": {k: old.get(k) for k in keys},
        "teachers": old.get("teachers", {}),
        "corpus_given": old.get("corpus_given", False),
        "dataset_fingerprint": dataset_fingerprint(anchors, positives),
        "corpus_fingerprint": corpus_fingerprint(corpus),
    }


def _version() -> str:
    from st_hardneg.version import __version__

    return __version__


def _pool_statistics(d: dict[str, Any]) -> PoolStatistics:
    teachers = {}
    for name, t in d.pop("teachers", {}).items():
        t = dict(t)
        t["positive_scores"] = ScoreSummary(**t["positive_scores"])
        t["candidate_scores"] = ScoreSummary(**t["candidate_scores"])
        teachers[name] = TeacherStatistics(**t)
    known = {f.name for f in fields(PoolStatistics)}
    return PoolStatistics(**{k: v for k, v in d.items() if k in known}, teachers=teachers)
