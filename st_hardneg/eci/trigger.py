"""An evaluator with no metrics of its own: it lets the trainer evaluate, and so run callbacks, without an
``eval_dataset``."""

from __future__ import annotations

from typing import Any

from st_hardneg._compat import BaseEvaluator

__all__ = ["EvaluationTrigger"]


class EvaluationTrigger(BaseEvaluator):
    """A sentence-transformers evaluator that returns no metrics.

    ``SentenceTransformerTrainer`` refuses ``eval_strategy="steps"`` (or ``"epoch"``) at construction when it has
    neither an ``eval_dataset`` nor an ``evaluator``. Given this one as ``evaluator=``, it evaluates on schedule
    without an ``eval_dataset``, and the callbacks that score on each evaluation (such as
    :class:`~st_hardneg.eci.ECICallback`, which hands one out as ``callback.evaluator``) add their metrics.
    Not needed when the trainer has an ``eval_dataset`` or another evaluator; not for a list of evaluators
    (``SequentialEvaluator`` reads a metric from each).
    """

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1, **kwargs: Any
    ) -> dict[str, float]:
        """No metrics: the trainer adds its own (``eval_runtime``, ...) and the callbacks theirs."""
        return {}
