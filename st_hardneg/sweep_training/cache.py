"""The resumable record of a training-scored sweep: one JSON file per finished (configuration, seed), named by a hash
of everything that decides the score (the rows trained on, the held-out set, the student's weights, the seed and the
training recipe), so a stopped sweep resumes where it stopped and a changed input never reads a stale score."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from st_hardneg.atomic import write_text
from st_hardneg.sweep_training.settings import TrainingSweepSettings

__all__ = ["ScoreCache", "dataset_fingerprint", "run_key", "student_identity"]

#: Recipe fields that change a score (the student is keyed by its weights, the cache folder changes nothing).
_RECIPE = ("steps", "train_batch_size", "learning_rate", "warmup_ratio", "max_seq_length", "batch_sampler")
_VERSION = 1


def student_identity(student: Any) -> str:
    """The student's name and a fingerprint of its weights (as the embedding cache keys a model)."""
    from st_hardneg.teachers.cache import model_fingerprint

    return model_fingerprint(student)


def dataset_fingerprint(dataset: Any) -> str:
    """A hash of a training set's columns and rows, in order."""
    h = hashlib.sha256(json.dumps(dataset.column_names).encode())
    for start in range(0, len(dataset), 4096):
        h.update(json.dumps(dataset[start : start + 4096], ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()[:16]


def run_key(
    *, training_set: str, heldout: str, student: str, seed: int, settings: TrainingSweepSettings
) -> tuple[str, dict]:
    """``(key, fields)``: the file name of one run's score and what it was computed from."""
    fields = {
        "version": _VERSION,
        "training_set": training_set,
        "heldout": heldout,
        "student": student,
        "seed": seed,
        **{name: getattr(settings, name) for name in _RECIPE},
    }
    key = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:24]
    return key, fields


class ScoreCache:
    """A folder of finished runs (``<key>.json``); without a folder, nothing is kept."""

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder is not None else None

    def get(self, key: str) -> dict | None:
        if self.folder is None:
            return None
        path = self.folder / f"{key}.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text())

    def put(self, key: str, record: dict) -> None:
        if self.folder is not None:
            write_text(self.folder / f"{key}.json", json.dumps(record, indent=2))
