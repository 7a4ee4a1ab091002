"""Choosing a mining configuration by training: hold out anchors of the user's own pairs as a dev set over the
pool's corpus, fine-tune a fresh copy of a student for the same small budget on each configuration's set, and
score NDCG@10 and MRR@10 on the held-out anchors (``pool.sweep(..., score="train")``, ``st-hardneg sweep --score
train``).

This package takes plain inputs (``datasets.Dataset`` training sets, a SentenceTransformer, text lists): the sweep
hands it the sets it selected.

- :func:`holdout_split` / :func:`heldout_set` / :class:`HeldOut`: the split by anchor and the dev set.
- :func:`score_by_training`: the training runs, cached and resumable, as a :class:`TrainingScores` table.
- :func:`evaluate_retrieval`: NDCG@10 and MRR@10 of one model on a :class:`HeldOut` set.
- :class:`TrainingSweepSettings`: the options (steps, holdout, seeds, batch size, ...).
"""

from st_hardneg.sweep_training.evaluation import METRICS, evaluate_retrieval
from st_hardneg.sweep_training.holdout import HeldOut, heldout_set, holdout_split, remove_heldout
from st_hardneg.sweep_training.scoring import CostEstimate, TrainingScores, score_by_training
from st_hardneg.sweep_training.settings import TrainingSweepSettings

__all__ = [
    "METRICS",
    "CostEstimate",
    "HeldOut",
    "TrainingScores",
    "TrainingSweepSettings",
    "evaluate_retrieval",
    "heldout_set",
    "holdout_split",
    "remove_heldout",
    "score_by_training",
]
