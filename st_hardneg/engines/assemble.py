"""Joining a teacher's anchor shards into the arrays of a saved pool (:mod:`st_hardneg.pool.storage`, format 2).

The arrays are written through memory maps, one anchor shard at a time, so memory stays bounded by a shard; each
file is written under a temporary name and renamed when complete. The result is an ordinary saved pool:
:meth:`CandidatePool.load <st_hardneg.pool.CandidatePool.load>` memory-maps it and ``select`` reads it chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from st_hardneg.atomic import atomic_path
from st_hardneg.engines.tasks import read_part
from st_hardneg.pool.candidates import TEACHER_ARRAYS
from st_hardneg.pool.statistics import ScoreSummary, TeacherStatistics

__all__ = ["assemble_teacher"]

_CHUNK = 65536


def assemble_teacher(
    folder: Path,
    parts: Sequence[Path],
    *,
    name: str,
    num_queries: int,
    num_rows: int,
    depth: int,
    num_random: int,
) -> TeacherStatistics:
    """Write ``folder/{candidates,scores,...}.npy`` from the anchor-shard ``parts`` (in anchor order) and return the
    teacher's statistics, computed as :func:`~st_hardneg.build.building.rank_with_teacher` computes them."""
    folder.mkdir(parents=True, exist_ok=True)
    shapes = {
        "candidates": (np.int32, (num_queries, depth)),
        "scores": (np.float32, (num_queries, depth)),
        "random_candidates": (np.int32, (num_queries, num_random)),
        "random_scores": (np.float32, (num_queries, num_random)),
        "min_positive_scores": (np.float32, (num_queries,)),
        "positive_scores": (np.float32, (num_rows,)),
    }
    found = 0
    rows_seen = np.zeros(num_rows, dtype=bool)
    with _Writers(folder, shapes) as out:
        for file in parts:
            part = read_part(file)
            s, e = part.start, part.stop
            for array in (a for a in TEACHER_ARRAYS if a != "positive_scores"):  # per anchor; positives per row
                out[array][s:e] = getattr(part, array)
            out["positive_scores"][part.rows] = part.positive_scores
            rows_seen[part.rows] = True
            found += part.positives_among_retrieved
    if not rows_seen.all():
        raise RuntimeError(f"{int((~rows_seen).sum())} rows are in no anchor shard of teacher {name!r}")
    candidates = np.load(folder / "candidates.npy", mmap_mode="r")
    scores = np.load(folder / "scores.npy", mmap_mode="r")
    # The one place the build holds a value per (anchor, candidate): the score distribution of the pool statistics.
    valid_scores = np.concatenate(
        [scores[s : s + _CHUNK][candidates[s : s + _CHUNK] >= 0] for s in range(0, num_queries, _CHUNK)]
        or [np.zeros(0, np.float32)]
    )
    valid_count = len(valid_scores)
    return TeacherStatistics(
        teacher=name,
        queries=num_queries,
        depth=depth,
        candidates=valid_count,
        padded_slots=num_queries * depth - valid_count,
        positives_among_retrieved=found,
        positive_scores=ScoreSummary.of(np.load(folder / "positive_scores.npy", mmap_mode="r")),
        candidate_scores=ScoreSummary.of(valid_scores),
    )


class _Writers:
    """Memory-mapped ``.npy`` files written under temporary names, renamed into place together on success."""

    def __init__(self, folder: Path, shapes: dict[str, tuple[type, tuple[int, ...]]]) -> None:
        self.folder, self.shapes = folder, shapes
        self._contexts: list = []
        self.arrays: dict[str, np.memmap] = {}

    def __enter__(self) -> dict[str, np.memmap]:
        for name, (dtype, shape) in self.shapes.items():
            ctx = atomic_path(self.folder / f"{name}.npy")
            tmp = ctx.__enter__()
            self._contexts.append(ctx)
            self.arrays[name] = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        return self.arrays

    def __exit__(self, exc_type, exc, tb) -> None:
        for array in self.arrays.values():
            array.flush()
        self.arrays.clear()
        for ctx in self._contexts:
            ctx.__exit__(exc_type, exc, tb)
