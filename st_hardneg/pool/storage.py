"""Saving and loading candidate pools: ``pool.json`` (config, statistics, history), Arrow texts, ``.npy`` arrays."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather

from st_hardneg.pool.building import TeacherCandidates
from st_hardneg.pool.statistics import PoolStatistics, ScoreSummary, TeacherStatistics

FORMAT_VERSION = 1
_ARRAYS = ("candidates", "scores", "positive_scores", "random_candidates", "random_scores")


def save_pool(pool: Any, path: Path) -> None:
    from st_hardneg import __version__

    path.mkdir(parents=True, exist_ok=True)
    feather.write_feather(pa.table({"text": pool.queries}), path / "queries.arrow", compression="uncompressed")
    feather.write_feather(pa.table({"text": pool.corpus}), path / "corpus.arrow", compression="uncompressed")
    np.savez(
        path / "rows.npz",
        row_query=pool.row_query,
        row_positive=pool.row_positive,
        positives_indptr=pool.positives_indptr,
        positives_indices=pool.positives_indices,
    )
    folders = {}
    for i, (name, tc) in enumerate(pool.teachers.items()):
        folder = path / f"teacher_{i}"
        folder.mkdir(exist_ok=True)
        for array in _ARRAYS:
            np.save(folder / f"{array}.npy", np.asarray(getattr(tc, array)))
        folders[name] = {"folder": folder.name, "config": tc.config}
    meta = {
        "format_version": FORMAT_VERSION,
        "st_hardneg_version": __version__,
        "config": pool.config,
        "teachers": folders,
        "statistics": pool.statistics.to_dict(),
        "history": pool.history,
    }
    (path / "pool.json").write_text(json.dumps(meta, indent=2, default=_json_default))


def load_pool(cls: type, path: Path) -> Any:
    meta_path = path / "pool.json"
    if not meta_path.exists():
        raise FileNotFoundError(f"{path} is not a saved candidate pool (no pool.json)")
    meta = json.loads(meta_path.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"Unsupported pool format {meta.get('format_version')} (this st-hardneg reads {FORMAT_VERSION})"
        )
    texts = {
        name: feather.read_table(path / f"{name}.arrow", memory_map=True).column("text").combine_chunks()
        for name in ("queries", "corpus")
    }
    rows = np.load(path / "rows.npz")
    teachers = {}
    for name, info in meta["teachers"].items():
        folder = path / info["folder"]
        arrays = {a: np.load(folder / f"{a}.npy", mmap_mode="r") for a in _ARRAYS}
        teachers[name] = TeacherCandidates(name=name, config=info["config"], **arrays)
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
    )


def _pool_statistics(d: dict[str, Any]) -> PoolStatistics:
    teachers = {}
    for name, t in d.pop("teachers", {}).items():
        t = dict(t)
        t["positive_scores"] = ScoreSummary(**t["positive_scores"])
        t["candidate_scores"] = ScoreSummary(**t["candidate_scores"])
        teachers[name] = TeacherStatistics(**t)
    known = {f.name for f in fields(PoolStatistics)}
    return PoolStatistics(**{k: v for k, v in d.items() if k in known}, teachers=teachers)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")
