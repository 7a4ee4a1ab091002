"""ECI as a ``transformers.TrainerCallback``: the model in training, scored on each evaluation."""

from __future__ import annotations

import logging
from typing import Any

from datasets import Dataset
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from st_hardneg.eci.compute import GroupedECI, HoldsGroupedECI
from st_hardneg.eci.report import ECIReport
from st_hardneg.eci.settings import ECISettings
from st_hardneg.eci.trigger import EvaluationTrigger
from st_hardneg.settings.base import document_options

logger = logging.getLogger(__name__)

__all__ = ["ECICallback"]


def _evaluation_prefix(logs: dict[str, Any]) -> str | None:
    """The metric prefix of an evaluation log (``"eval"`` for ``eval_runtime``), ``None`` for other logs."""
    for key in logs:
        if key.endswith("_runtime") and not key.startswith("train"):
            return key[: -len("_runtime")]
    return None


def _never_evaluates(args: Any) -> bool:
    """Whether training arguments schedule no evaluation (``eval_strategy="no"``)."""
    strategy = getattr(args, "eval_strategy", None)
    return str(getattr(strategy, "value", strategy)) == "no"


@document_options(ECISettings)
class ECICallback(HoldsGroupedECI, TrainerCallback):
    """Record ECI and its parts for the model in training each time the trainer evaluates.

    On each evaluation (metrics with ``eval_runtime``, or ``{prefix}_runtime`` for another ``metric_key_prefix``)
    the callback scores ``dataset`` with the trainer's model, once, and adds ``{prefix}_{name}_eci``,
    ``{prefix}_{name}_eci_signal``, ``{prefix}_{name}_eci_max_margin``, ... to:

    - the evaluation's log (``on_log``): its entry in ``trainer.state.log_history`` and the ``logs`` that callbacks
      after this one receive in ``on_log`` (reporting integrations such as TensorBoard or W&B);
    - the evaluation's metrics (``on_evaluate``): the dict ``trainer.evaluate()`` returns and the one the trainer
      reads ``metric_for_best_model`` from, so ``metric_for_best_model="eval_callback_eci"`` works with
      ``load_best_model_at_end`` or ``save_strategy="best"``.

    Both hooks are needed. ``Trainer.evaluate`` logs the metrics (appending to ``log_history`` and calling every
    ``on_log``) before it calls ``on_evaluate``, so values added only in ``on_evaluate`` would miss the history
    and the integrations. And with an ``eval_dataset``, ``SentenceTransformerTrainer.log`` logs a copy of the
    metrics (to add the loss components), so values added only in ``on_log`` would miss the dict that
    ``evaluate()`` returns. The report computed in ``on_log`` is reused in ``on_evaluate`` for the same
    evaluation; when ``on_log`` did not score it (e.g. on a process other than the main one in distributed
    training, where ``on_log`` does nothing), ``on_evaluate`` scores it.

    Callbacks run in the order they were registered, and reporting integrations are registered before user
    callbacks: call :meth:`attach` after building the trainer to run this callback first, so that the
    integrations log its values and an ``EarlyStoppingCallback`` sees them in ``on_evaluate``.

    The trainer evaluates on schedule only with an ``eval_dataset`` or an ``evaluator``: without either, pass
    :attr:`evaluator` (an evaluator with no metrics of its own) as ``evaluator=``. With ``eval_strategy="no"`` the
    trainer never evaluates during training; the callback then warns once, at ``on_train_begin``.

    The default ``name="callback"`` keeps the keys apart from :class:`~st_hardneg.eci.ECIEvaluator`'s
    (``eval_eci``) when both are used; pass ``name=""`` for ``eval_eci``, ``eval_eci_signal``, ...

    Args:
        dataset: A mined dataset (triplet, n-tuple, labeled-list or labeled-pair), grouped by anchor once here.
        settings: An :class:`~st_hardneg.eci.ECISettings`; keyword arguments override its fields.
        name: Infix of the metric keys (see above).
        show_progress: Show encoding progress bars.
        **kwargs: Fields of :class:`~st_hardneg.eci.ECISettings` (an unknown name raises ``TypeError``):

            {options}

    Attributes:
        grouped: The grouped set and its settings (a :class:`~st_hardneg.eci.compute.GroupedECI`).
        last_report: The latest :class:`~st_hardneg.eci.report.ECIReport`, or ``None``.

    Examples:
        ::

            callback = ECICallback(mined_eval, top_n=3)
            args = SentenceTransformerTrainingArguments(..., eval_strategy="steps", save_strategy="steps",
                                                        metric_for_best_model="eval_callback_eci",
                                                        load_best_model_at_end=True)
            trainer = SentenceTransformerTrainer(..., eval_dataset=eval_dataset, callbacks=[callback])
            # without an eval_dataset (and no other evaluator), let the trainer evaluate with the callback's:
            # SentenceTransformerTrainer(..., evaluator=callback.evaluator, callbacks=[callback])
            callback.attach(trainer)  # optional: let TensorBoard & co. see the values
            trainer.train()
            [log["eval_callback_eci"] for log in trainer.state.log_history if "eval_callback_eci" in log]
    """

    def __init__(
        self,
        dataset: Dataset,
        settings: ECISettings | None = None,
        *,
        name: str = "callback",
        show_progress: bool = False,
        **kwargs: Any,
    ) -> None:
        self.grouped = GroupedECI(dataset, settings, show_progress=show_progress, **kwargs)
        self.name = name
        # metric prefix -> (global step, runtime, metrics) of the evaluation scored in on_log, for its on_evaluate
        self._scored: dict[str, tuple[int, Any, dict[str, float]]] = {}

    @property
    def evaluator(self) -> EvaluationTrigger:
        """An evaluator to pass as the trainer's ``evaluator=`` when it has no ``eval_dataset`` and no other one.

        ``SentenceTransformerTrainer`` refuses ``eval_strategy="steps"`` without an ``eval_dataset`` or an
        ``evaluator``; this one (an :class:`~st_hardneg.eci.trigger.EvaluationTrigger`) returns no metrics of its
        own and lets the trainer evaluate, so this callback scores on schedule.
        """
        if getattr(self, "_evaluator", None) is None:
            self._evaluator = EvaluationTrigger()
        return self._evaluator

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

    def _score(self, model: Any, prefix: str, state: TrainerState) -> dict[str, float]:
        report = self.compute_report(model)
        logger.info("ECICallback at step %d: %s", state.global_step, report)
        return dict(zip(self.metric_keys(prefix), report.to_metrics().values(), strict=True))

    @staticmethod
    def _add_to_history(state: TrainerState, prefix: str, runtime: Any, metrics: dict[str, float]) -> None:
        # Trainer.log appended {**logs, "step": ...} to the history just before calling on_log.
        if state.log_history:
            last = state.log_history[-1]
            if last.get(f"{prefix}_runtime", object()) == runtime and last.get("step") == state.global_step:
                last.update(metrics)

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
        runtime = logs[f"{prefix}_runtime"]
        metrics = self._score(model, prefix, state)
        self._scored[prefix] = (state.global_step, runtime, metrics)
        logs.update(metrics)
        self._add_to_history(state, prefix, runtime, metrics)

    def on_evaluate(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        metrics: dict[str, Any] | None = None,
        model: Any = None,
        **kwargs: Any,
    ) -> None:
        """Add the metrics to the evaluation's metrics dict, reusing the report ``on_log`` computed for it."""
        if metrics is None:
            return
        prefix = _evaluation_prefix(metrics)
        if prefix is None:
            return
        runtime = metrics[f"{prefix}_runtime"]
        scored = self._scored.pop(prefix, None)
        if scored is not None and scored[:2] == (state.global_step, runtime):
            values = scored[2]
        elif model is None:
            logger.warning("ECICallback: no model in on_evaluate at step %d; ECI not scored", state.global_step)
            return
        else:
            values = self._score(model, prefix, state)
            self._add_to_history(state, prefix, runtime, values)
        metrics.update(values)

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Warn (once) when the trainer will not evaluate during training, so this callback will not score."""
        if _never_evaluates(args) and not getattr(self, "_warned_no_evaluation", False):
            self._warned_no_evaluation = True
            logger.warning(
                'ECICallback will not score during training: eval_strategy="no" (the trainer never evaluates; '
                'only an explicit trainer.evaluate() runs it). Set eval_strategy="steps" or "epoch", with an '
                "eval_dataset or evaluator=callback.evaluator."
            )
