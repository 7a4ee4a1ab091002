"""Scoring mined sets by training: for each configuration's set, fine-tune a fresh copy of the student for the same
small budget (same seeds) without the held-out anchors, then measure NDCG@10 and MRR@10 on the held-out anchors over
the whole corpus. Unlike S_n or ECI, the score compares sets with different numbers of negatives."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from st_hardneg.sweep_training.cache import ScoreCache, dataset_fingerprint, run_key, student_identity
from st_hardneg.sweep_training.evaluation import METRICS, evaluate_retrieval
from st_hardneg.sweep_training.holdout import HeldOut, remove_heldout
from st_hardneg.sweep_training.settings import TrainingSweepSettings
from st_hardneg.sweep_training.training import train_student

logger = logging.getLogger(__name__)

__all__ = ["CostEstimate", "TrainingScores", "score_by_training"]


@dataclass(frozen=True)
class CostEstimate:
    """What a training-scored sweep will do, known before it starts."""

    configurations: int
    seeds: int
    cached: int
    steps: int
    batch_size: int
    documents: int
    queries: int

    @property
    def runs(self) -> int:
        """(configuration, seed) runs in all."""
        return self.configurations * self.seeds

    @property
    def trainings(self) -> int:
        """Runs to train now (the others are read from the cache)."""
        return self.runs - self.cached

    def __str__(self) -> str:
        return (
            f"{self.configurations} configurations x {self.seeds} seed{'s' * (self.seeds != 1)} = {self.runs} runs, "
            f"{self.cached} cached: {self.trainings} trainings of {self.steps} steps x batch {self.batch_size} "
            f"({self.trainings * self.steps} optimizer steps) and {self.trainings} encodes of {self.documents} "
            f"documents + {self.queries} held-out anchors"
        )


@dataclass
class TrainingScores:
    """The result of :func:`score_by_training`.

    Attributes:
        rows: one dict per configuration, in the order given: ``configuration`` (its label), ``rows_trained``,
            ``rows_held_out`` (rows removed because their anchor is held out), ``ndcg@10`` and ``mrr@10`` (means
            over the seeds; None for a configuration with no rows to train on) and ``ndcg@10_per_seed`` /
            ``mrr@10_per_seed``.
        estimate: the :class:`CostEstimate` logged before the first training.
        trained / cached: runs trained now, and runs read from the cache.
        context: the held-out set and the training recipe.
        seconds: wall time.
    """

    rows: list[dict[str, Any]]
    estimate: CostEstimate
    trained: int
    cached: int
    context: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def by_configuration(self) -> dict[str, dict[str, Any]]:
        return {row["configuration"]: row for row in self.rows}


def score_by_training(
    training_sets: Mapping[str, Any],
    student: Any,
    heldout: HeldOut,
    *,
    settings: TrainingSweepSettings | None = None,
    anchor_column: str = "anchor",
    show_progress: bool = True,
    **kwargs: Any,
) -> TrainingScores:
    """Fine-tune a fresh copy of ``student`` on each training set and score it on the held-out anchors.

    Args:
        training_sets: ``{label: datasets.Dataset}`` of n-tuple or triplet rows (anchor, positive, negatives).
            Rows whose anchor is one of ``heldout.anchors`` are removed first (counted in ``rows_held_out``).
        student: a SentenceTransformer, or its name or path (loaded once; each run trains a deep copy).
        heldout: the dev set (:func:`~st_hardneg.sweep_training.heldout_set`).
        settings: a :class:`TrainingSweepSettings`; keyword arguments override its fields (``steps``, ``seeds``,
            ``train_batch_size``, ``cache_folder``, ...). Its ``student`` and ``holdout`` are not read here.
        anchor_column: the anchor column of the training sets.
        show_progress: a tqdm bar over configurations x seeds.

    Every run ``(configuration, seed)`` trains ``settings.steps`` optimizer steps of MultipleNegativesRankingLoss
    with the same seed for every configuration, then encodes the held-out anchors and the whole corpus
    (``InformationRetrievalEvaluator``). With ``cache_folder``, each finished run is written there as JSON, keyed by
    the rows trained on, the held-out set, the student's weights, the seed and the recipe, and read back instead of
    training again.
    """
    settings = TrainingSweepSettings.from_kwargs(settings, **kwargs)
    if not isinstance(heldout, HeldOut):
        raise TypeError(f"heldout must be a HeldOut (see heldout_set), got {type(heldout).__name__}")
    if not training_sets:
        raise ValueError("training_sets is empty: give at least one {label: dataset}")
    # 1. every set is checked and stripped of held-out anchors before the student loads
    sets: dict[str, tuple[Any, int]] = {}
    for label, dataset in training_sets.items():
        if not hasattr(dataset, "column_names"):
            raise TypeError(f"training set {label!r} must be a datasets.Dataset, got {type(dataset).__name__}")
        sets[label] = remove_heldout(dataset, heldout.anchors, anchor_column)
        if sets[label][1]:
            logger.info("%s: %d rows of held-out anchors removed before training", label, sets[label][1])
    if len(sets) > 1 and len(settings.seeds) == 1:
        logger.warning(
            "Scoring %d configurations with one training seed: a short run's score moves between seeds by as much as "
            "configurations differ (on SciFact a one-seed run of 20-100 steps did not rank 17 configurations as full "
            "training did; benchmarks/REPORT.md, section 8). Pass seeds=(0, 1, 2) (--train-seeds 0,1,2) and trust only "
            "gaps larger than the spread between seeds (ndcg@10_per_seed).",
            len(sets),
        )
    if student is None:
        raise ValueError("score by training needs a student: a SentenceTransformer or its name or path")
    start = time.perf_counter()
    student = _load_student(student)
    cache = ScoreCache(settings.cache_folder)
    identity, heldout_fp = student_identity(student), heldout.fingerprint()
    runs = []  # (label, seed, key, fields, cached record)
    for label, (dataset, _) in sets.items():
        set_fp = dataset_fingerprint(dataset)
        for seed in settings.seeds:
            key, fields = run_key(
                training_set=set_fp, heldout=heldout_fp, student=identity, seed=seed, settings=settings
            )
            runs.append((label, seed, key, fields, cache.get(key)))
    estimate = CostEstimate(
        configurations=len(sets),
        seeds=len(settings.seeds),
        cached=sum(r[4] is not None for r in runs),
        steps=settings.steps,
        batch_size=settings.train_batch_size,
        documents=len(heldout.corpus),
        queries=len(heldout.queries),
    )
    logger.info("Scoring by training: %s", estimate)
    from tqdm.auto import tqdm

    scores: dict[tuple[str, int], dict] = {}
    trained = 0
    for label, seed, key, fields, record in tqdm(runs, desc="Training runs", disable=not show_progress):
        dataset = sets[label][0]
        if record is None:
            if len(dataset) == 0:
                logger.warning("%s has no rows to train on once the held-out anchors are removed: not scored", label)
                record = {metric: None for metric in METRICS}
            else:
                t = time.perf_counter()
                model = train_student(student, dataset, seed=seed, settings=settings)
                record = evaluate_retrieval(model, heldout, batch_size=settings.eval_batch_size)
                record["seconds"] = time.perf_counter() - t
                del model
                _free_memory()
                trained += 1
            record = {"configuration": label, "seed": seed, **record, "rows_trained": len(dataset), "key": fields}
            cache.put(key, record)
        scores[(label, seed)] = record
    rows = []
    for label, (dataset, removed) in sets.items():
        row: dict[str, Any] = {"configuration": label, "rows_trained": len(dataset), "rows_held_out": removed}
        for metric in METRICS:
            values = [scores[(label, seed)][metric] for seed in settings.seeds]
            row[metric] = None if any(v is None for v in values) else float(np.mean(values))
            row[f"{metric}_per_seed"] = values
        rows.append(row)
    seconds = time.perf_counter() - start
    logger.info("Scored %d configurations by training in %.1f s (%d runs trained, %d cached)",
                len(rows), seconds, trained, estimate.cached)  # fmt: skip
    context = {
        "student": identity,
        "heldout": {
            "anchors": len(heldout.queries),
            "train_anchors": heldout.train_anchors,
            "documents": len(heldout.corpus),
            "holdout": heldout.holdout,
            "seed": heldout.seed,
            "fingerprint": heldout_fp,
        },
        "settings": settings.replace(student=None).to_dict(),
    }
    return TrainingScores(rows, estimate, trained, estimate.cached, context, seconds)


def _load_student(student: Any) -> Any:
    if isinstance(student, str):
        from st_hardneg.teachers.loading import load_sentence_transformer

        return load_sentence_transformer(student)
    if not hasattr(student, "encode") or not hasattr(student, "parameters"):
        raise TypeError(f"student must be a SentenceTransformer or its name or path, got {type(student).__name__}")
    return student


def _free_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover - torch comes with sentence-transformers
        pass
