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

Names load on first use.
"""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "METRICS": "st_hardneg.sweep_training.evaluation",
        "evaluate_retrieval": "st_hardneg.sweep_training.evaluation",
        "HeldOut": "st_hardneg.sweep_training.holdout",
        "heldout_set": "st_hardneg.sweep_training.holdout",
        "holdout_split": "st_hardneg.sweep_training.holdout",
        "remove_heldout": "st_hardneg.sweep_training.holdout",
        "CostEstimate": "st_hardneg.sweep_training.scoring",
        "TrainingScores": "st_hardneg.sweep_training.scoring",
        "score_by_training": "st_hardneg.sweep_training.scoring",
        "TrainingSweepSettings": "st_hardneg.sweep_training.settings",
    },
)
