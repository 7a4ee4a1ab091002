"""ECI as a sentence-transformers evaluator, usable as ``evaluator=`` in ``SentenceTransformerTrainer``."""

from __future__ import annotations

import csv
import logging
import os
from typing import Any

from datasets import Dataset

from st_hardneg._compat import BaseEvaluator
from st_hardneg.eci.compute import GroupedECI, HoldsGroupedECI
from st_hardneg.eci.settings import ECISettings
from st_hardneg.settings.base import document_options

logger = logging.getLogger(__name__)

__all__ = ["ECIEvaluator"]


@document_options(ECISettings)
class ECIEvaluator(HoldsGroupedECI, BaseEvaluator):
    """Score a mined hard-negative set's ECI under the model being evaluated.

    The primary metric is ``eci`` (greater is better); the returned metrics are ECI and its parts
    (``eci_signal``, ``eci_max_margin``, ``eci_harmonic_efficiency``, ``eci_num_negatives``, ...), prefixed with
    ``name + "_"`` when a name is given. The trainer adds its own prefix, so in ``trainer.state.log_history`` and in
    the dict ``trainer.evaluate()`` returns they appear as ``eval_eci``, ``eval_eci_signal``, ... (or
    ``eval_{name}_eci``): ``metric_for_best_model="eval_eci"`` selects on ECI. The metrics are also stored in the
    model card data, as sentence-transformers evaluators do.

    The settings are checked and the dataset grouped by anchor once, at construction (held as :attr:`grouped`, a
    :class:`~st_hardneg.eci.compute.GroupedECI`); each call re-encodes its texts with the model.

    Args:
        dataset: A mined dataset (triplet, n-tuple, labeled-list or labeled-pair).
        settings: An :class:`~st_hardneg.eci.ECISettings`; keyword arguments override its fields.
        name: Prefix for the metric names, e.g. the set's name.
        show_progress: Show encoding progress bars.
        write_csv: Append the metrics to ``eci_evaluation[_name]_results.csv`` under ``output_path``.
        **kwargs: Fields of :class:`~st_hardneg.eci.ECISettings` (an unknown name raises ``TypeError``):

            {options}

    Attributes:
        grouped: The grouped set and its settings.
        last_report: The full :class:`~st_hardneg.eci.report.ECIReport` of the latest call (per-query arrays
            included), or ``None`` before the first call.

    Examples:
        ::

            from st_hardneg.eci.evaluator import ECIEvaluator

            evaluator = ECIEvaluator(mined_eval, name="bm25", top_n=3)
            metrics = evaluator(model)  # {"bm25_eci": 1.16, "bm25_eci_signal": 0.577, ...}
            trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train, loss=loss,
                                                 evaluator=evaluator)
    """

    def __init__(
        self,
        dataset: Dataset,
        settings: ECISettings | None = None,
        *,
        name: str = "",
        show_progress: bool = False,
        write_csv: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.grouped = GroupedECI(dataset, settings, show_progress=show_progress, **kwargs)
        self.name = name
        self.write_csv = write_csv
        self.primary_metric = "eci"
        self.greater_is_better = True
        self.csv_file = "eci_evaluation" + (f"_{name}" if name else "") + "_results.csv"

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        """Compute ECI for ``model``.

        Args:
            model: The model to score the set with.
            output_path: Folder for the CSV file, or ``None`` for none.
            epoch: Training epoch (-1 outside training).
            steps: Training step (-1 outside training).

        Returns:
            ECI and its parts, keys prefixed with ``name`` if set; ``primary_metric`` names the ECI key.
        """
        report = self.compute_report(model)
        where = f" in epoch {epoch} after {steps} steps" if epoch != -1 else ""
        logger.info("ECIEvaluator%s%s: %s", f" ({self.name})" if self.name else "", where, report)
        metrics = report.to_metrics()
        if output_path is not None and self.write_csv:
            self._write_csv(output_path, epoch, steps, metrics)
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def _write_csv(self, output_path: str, epoch: int, steps: int, metrics: dict[str, float]) -> None:
        os.makedirs(output_path, exist_ok=True)
        path = os.path.join(output_path, self.csv_file)
        is_new = not os.path.isfile(path)
        with open(path, "a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            if is_new:
                writer.writerow(["epoch", "steps", *metrics])
            writer.writerow([epoch, steps, *metrics.values()])

    @property
    def description(self) -> str:
        return "Effective Contrastive Information"

    def get_config_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {"clamp": self.settings.clamp}
        if self.settings.top_n is not None:
            config["top_n"] = self.settings.top_n
        return config
