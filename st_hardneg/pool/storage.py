"""Saving and loading candidate pools: ``pool.json`` (config, statistics, history), Arrow texts, ``.npy`` arrays."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather

from st_hardneg.outputs import prepare_output_folder
from st_hardneg.pool.building import TeacherCandidates
from st_hardneg.pool.deepening import CandidateExtension
from st_hardneg.pool.statistics import PoolStatistics, ScoreSummary, TeacherStatistics

FORMAT_VERSION = 2
#: Versions this st-hardneg reads (version 1 pools are converted on load).
READABLE_VERSIONS = (1, 2)
_ARRAYS = ("candidates", "scores", "positive_scores", "random_candidates", "random_scores", "min_positive_scores")
#: Candidates beyond the depth found by ``on_short="deepen"`` (``extension_<field>.npy``; absent when none). Readers
#: that predate them ignore the files: they only spare a later selection a search.
_EXTENSION = ("searched", "indptr", "candidates", "scores")


def save_pool(pool: Any, path: Path, *, overwrite: bool = False) -> None:
    from st_hardneg import __version__

    prepare_output_folder(path, overwrite=overwrite, marker="pool.json", what="a candidate pool")
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
        if tc.extension is not None:
            for array in _EXTENSION:
                np.save(folder / f"extension_{array}.npy", np.asarray(getattr(tc.extension, array)))
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
    from st_hardneg import __version__

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


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")
