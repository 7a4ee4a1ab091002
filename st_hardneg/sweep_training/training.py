"""One short training run of a fresh copy of the student: MultipleNegativesRankingLoss for a fixed number of
optimizer steps, with sentence-transformers' trainer (which puts the model on the GPU when there is one)."""

from __future__ import annotations

import copy
import tempfile
from typing import Any

from st_hardneg.sweep_training.settings import TrainingSweepSettings

__all__ = ["train_student"]


def _imports() -> tuple[Any, Any, Any, Any]:
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
        from sentence_transformers.sentence_transformer.training_args import BatchSamplers
    except ImportError:  # 5.x
        from sentence_transformers.losses import MultipleNegativesRankingLoss
        from sentence_transformers.training_args import BatchSamplers
    return SentenceTransformerTrainer, SentenceTransformerTrainingArguments, MultipleNegativesRankingLoss, BatchSamplers


def train_student(student: Any, dataset: Any, *, seed: int, settings: TrainingSweepSettings) -> Any:
    """A deep copy of ``student`` fine-tuned on ``dataset`` (text columns: anchor, positive, negatives) for
    ``settings.steps`` optimizer steps; ``student`` itself is not changed. The data order and the initialisation
    follow ``seed``."""
    from transformers import set_seed

    trainer_cls, args_cls, loss_cls, samplers = _imports()
    set_seed(seed)
    model = copy.deepcopy(student)
    if settings.max_seq_length is not None:
        model.max_seq_length = settings.max_seq_length
    with tempfile.TemporaryDirectory(prefix="st-hardneg-sweep-") as output_dir:
        args = args_cls(
            output_dir=output_dir,
            max_steps=settings.steps,
            per_device_train_batch_size=settings.train_batch_size,
            learning_rate=settings.learning_rate,
            warmup_steps=round(settings.warmup_ratio * settings.steps),
            seed=seed,
            data_seed=seed,
            batch_sampler=samplers(settings.batch_sampler),
            save_strategy="no",
            report_to="none",
            logging_strategy="no",
            disable_tqdm=True,
            dataloader_pin_memory=_has_cuda(),
        )
        trainer = trainer_cls(model=model, args=args, train_dataset=dataset, loss=loss_cls(model))
        for callback in list(trainer.callback_handler.callbacks):
            # the copy is never saved: no model card data (it encodes widget examples), no printed loss lines
            if type(callback).__name__.endswith("ModelCardCallback") or type(callback).__name__ == "PrinterCallback":
                trainer.remove_callback(callback)
        trainer.train()
    return model


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()
