"""Scoring a sweep's sets by training (``pool.sweep(..., score="train")``): each picked configuration's set,
formatted as ``pool.select`` writes it, trains a fresh copy of the student with the pool's held-out anchors left out
(:func:`~st_hardneg.sweep_training.scoring.score_by_training`)."""

from __future__ import annotations

from typing import Any

from st_hardneg.formatting.formatters import Selected, format_dataset
from st_hardneg.pool.store import PoolStore
from st_hardneg.select.settings import SelectionSettings
from st_hardneg.sweep_training.holdout import heldout_set
from st_hardneg.sweep_training.scoring import score_by_training
from st_hardneg.sweep_training.settings import TrainingSweepSettings

__all__ = ["score_sets_by_training"]


def score_sets_by_training(
    pool: PoolStore,
    picked: list[tuple[str, Selected, SelectionSettings]],
    training: TrainingSweepSettings,
    *,
    seed: int,
    show_progress: bool,
) -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
    """Train and score each ``(label, selected, settings)`` set, holding out the pool's anchors chosen by ``seed``.

    Returns the :class:`~st_hardneg.sweep_training.scoring.TrainingScores` rows (same order), the sweep's
    ``scored_with`` (``"train:<student>"``) and its ``context["training"]``.
    """
    columns = pool.config["settings"]
    sets = {
        label: format_dataset(
            selected,
            pool.queries,
            pool.corpus,
            resolved.output_format,
            anchor_column=columns["anchor_column"],
            positive_column=columns["positive_column"],
        )
        for label, selected, resolved in picked
    }
    indptr, indices = pool.positives_indptr, pool.positives_indices
    positives = [indices[indptr[i] : indptr[i + 1]] for i in range(len(pool.queries))]
    heldout = heldout_set(pool.query_texts, positives, pool.corpus.to_pylist(), training.holdout, seed=seed)
    trained = score_by_training(
        sets,
        training.student,
        heldout,
        settings=training,
        anchor_column=columns["anchor_column"],
        show_progress=show_progress,
    )
    context = {
        **trained.context,
        "estimate": str(trained.estimate),
        "runs_trained": trained.trained,
        "runs_cached": trained.cached,
        "per_seed": {r["configuration"]: {m: r[f"{m}_per_seed"] for m in ("ndcg@10", "mrr@10")} for r in trained.rows},
    }
    return trained.rows, f"train:{trained.context['student']}", context
