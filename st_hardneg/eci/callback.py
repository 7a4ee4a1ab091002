"""ECI as a ``transformers.TrainerCallback``: the model in training, scored on each evaluation."""

from __future__ import annotations

import logging
from typing import Any

from datasets import Dataset
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from st_hardneg.eci.compute import GroupedECI
from st_hardneg.eci.heuristics import DEFAULT_TEMPERATURE
from st_hardneg.eci.report import ECIReport
from st_hardneg.eci.stats import Clamp

logger = logging.getLogger(__name__)

__all__ = ["ECICallback"]


def _evaluation_prefix(logs: dict[str, Any]) -> str | None:
    """The metric prefix of an evaluation log (``"eval"`` for ``eval_runtime``), ``None`` for other logs."""
    for key in logs:
        if key.endswith("_runtime") and not key.startswith("train"):
            return key[: -len("_runtime")]
    return None


class ECICallback(TrainerCallback, GroupedECI):
    """Record ECI and its parts for the model in training each time the trainer evaluates.

    When the trainer logs an evaluation (a log with ``eval_runtime``, or ``{prefix}_runtime`` for another
    ``metric_key_prefix``), the callback scores ``dataset`` with the trainer's model and adds
    ``{prefix}_{name}_eci``, ``{prefix}_{name}_eci_signal``, ``{prefix}_{name}_eci_max_margin``, ... to:

    - the ``logs`` dict, which is the evaluation's metrics dict: ``trainer.evaluate()`` returns the values and
      ``metric_for_best_model="eval_callback_eci"`` can select on them;
    - that evaluation's entry in ``trainer.state.log_history``;
    - what callbacks after it receive in ``on_log``.

    Why ``on_log`` and not ``on_evaluate``: the trainer logs evaluation metrics (writing ``log_history`` and
    calling every ``on_log``) before it calls ``on_evaluate``, so values added in ``on_evaluate`` reach neither.
    Reporting integrations (TensorBoard, W&B, ...) are registered before user callbacks; call
    :meth:`attach` after building the trainer to run this callback first so that they log the values too.

    The default ``name="callback"`` keeps the keys apart from :class:`~st_hardneg.eci.ECIEvaluator`'s
    (``eval_eci``) when both are used; pass ``name=""`` for ``eval_eci``, ``eval_eci_signal``, ...

    Args:
        dataset: A mined dataset (triplet, n-tuple, labeled-list or labeled-pair), grouped by anchor once here.
        name: Infix of the metric keys (see above).
        anchor_column: The query column; default ``anchor`` if present, else the first column.
        positive_column: The positive column; default ``positive`` if present, else the next column.
        top_n: Keep only each query's ``top_n`` hardest negatives (Table 4), or ``None``.
        clamp: ``"aggregate"`` (default) or ``"per_query"``; see :func:`~st_hardneg.eci.compute_eci`.
        temperature: ``tau`` for the estimated gradient norm kept in :attr:`last_report`.
        batch_size: Encoding batch size.
        show_progress: Show encoding progress bars.

    Attributes:
        last_report: The latest :class:`~st_hardneg.eci.report.ECIReport`, or ``None``.

    Examples:
        ::

            callback = ECICallback(mined_eval)
            trainer = SentenceTransformerTrainer(..., callbacks=[callback])
            callback.attach(trainer)  # optional: let TensorBoard & co. see the values
            trainer.train()
            [log["eval_callback_eci"] for log in trainer.state.log_history if "eval_callback_eci" in log]
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        name: str = "callback",
        anchor_column: str | None = None,
        positive_column: str | None = None,
        top_n: int | None = None,
        clamp: Clamp = "aggregate",
        temperature: float = DEFAULT_TEMPERATURE,
        batch_size: int = 32,
        show_progress: bool = False,
    ) -> None:
        GroupedECI.__init__(
            self,
            dataset,
            anchor_column=anchor_column,
            positive_column=positive_column,
            top_n=top_n,
            clamp=clamp,
            temperature=temperature,
            batch_size=batch_size,
            show_progress=show_progress,
        )
        self.name = name

    def attach(self, trainer: Any) -> ECICallback:
        """Make this the trainer's first callback, so reporting integrations' ``on_log`` see its values.

        Args:
            trainer: A ``transformers.Trainer`` (e.g. ``SentenceTransformerTrainer``).

        Returns:
            ``self``.
        """
        callbacks = trainer.callback_handler.callbacks
        if self in callbacks:
            callbacks.remove(self)
        callbacks.insert(0, self)
        return self

    def metric_keys(self, prefix: str = "eval") -> list[str]:
        """The keys this callback writes for an evaluation with metric prefix ``prefix``."""
        infix = f"{self.name}_" if self.name else ""
        return [f"{prefix}_{infix}{key}" for key in ECIReport.metric_names()]

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        model: Any = None,
        **kwargs: Any,
    ) -> None:
        """On an evaluation log, score the set with ``model`` and add the metrics to ``logs`` and the history."""
        if logs is None or model is None or not state.is_world_process_zero:
            return
        prefix = _evaluation_prefix(logs)
        if prefix is None:
            return
        report = self.report(model)
        metrics = dict(zip(self.metric_keys(prefix), report.to_metrics().values(), strict=True))
        logs.update(metrics)
        # Trainer.log appended {**logs, "step": ...} to the history just before calling on_log.
        if state.log_history and f"{prefix}_runtime" in state.log_history[-1]:
            state.log_history[-1].update(metrics)
        logger.info("ECICallback at step %d: %s", state.global_step, report)
