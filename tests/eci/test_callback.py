"""ECICallback's hooks, driven in the order ``Trainer.evaluate`` calls them (no training: a counting fake model).

``Trainer.evaluate`` builds the metrics dict, calls ``self.log(metrics)`` (which appends ``{**logs, "step": ...}``
to ``state.log_history`` and calls every ``on_log``), then ``on_evaluate(metrics=metrics)``, and returns
``metrics``. ``SentenceTransformerTrainer.log`` logs a *copy* when ``eval_loss`` is present (an ``eval_dataset``).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from transformers import TrainerCallback, TrainerControl, TrainerState

from st_hardneg._compat import BaseEvaluator
from st_hardneg.eci import ECICallback, ECIEvaluator, ECIReport, ECISettings, compute_eci
from st_hardneg.eci.compute import GroupedECI

from .test_settings import SCORED, CountingEncoder

UNSCORED = SCORED.remove_columns("scores")


def _evaluate(
    callback: ECICallback,
    state: TrainerState,
    model: Any,
    *,
    with_eval_dataset: bool,
    prefix: str = "eval",
    runtime: float = 0.25,
    world_process_zero: bool = True,
) -> dict[str, Any]:
    """What Trainer.evaluate + SentenceTransformerTrainer.log do around the callback; returns evaluate()'s dict."""
    metrics: dict[str, Any] = {f"{prefix}_runtime": runtime, f"{prefix}_samples_per_second": 10.0}
    if with_eval_dataset:
        metrics[f"{prefix}_loss"] = 1.5
    logs = metrics.copy() if with_eval_dataset else metrics  # SentenceTransformerTrainer.log
    logs["epoch"] = state.epoch
    state.log_history.append({**logs, "step": state.global_step})  # Trainer.log
    state.is_world_process_zero = world_process_zero
    control = TrainerControl()
    callback.on_log(None, state, control, logs=logs, model=model)
    callback.on_evaluate(None, state, control, metrics=metrics, model=model)
    return metrics


def _expected(model: Any) -> dict[str, float]:
    """The callback's keys with values from a direct compute_eci (a fresh encoder: its calls are not counted)."""
    direct = compute_eci(UNSCORED, model, show_progress=False).to_metrics()
    return {f"eval_callback_{key}": value for key, value in direct.items()}


def test_holds_a_grouped_set_instead_of_inheriting_one() -> None:
    for hook in (ECICallback(SCORED, top_n=1), ECIEvaluator(SCORED, top_n=1)):
        assert not isinstance(hook, GroupedECI)
        assert isinstance(hook.grouped, GroupedECI)
        assert hook.settings is hook.grouped.settings and hook.settings == ECISettings(top_n=1)
        assert hook.groups is hook.grouped.groups and len(hook.groups) == 2
        assert hook.last_report is None
        report = hook.compute_report(None)  # stored scores
        assert hook.last_report is report
    callback = ECICallback(SCORED)
    assert callback.name == "callback"
    assert callback.metric_keys()[0] == "eval_callback_eci"
    assert ECICallback(SCORED, name="").metric_keys("eval_dev") == [
        f"eval_dev_{key}" for key in ECIReport.metric_names()
    ]


@pytest.mark.parametrize("with_eval_dataset", [False, True], ids=["evaluator-only", "eval_dataset"])
def test_evaluate_returns_the_values_and_the_history_has_them_scored_once(with_eval_dataset: bool) -> None:
    model = CountingEncoder()
    callback = ECICallback(UNSCORED)
    state = TrainerState(global_step=3, epoch=1.0)
    metrics = _evaluate(callback, state, model, with_eval_dataset=with_eval_dataset)
    expected = _expected(CountingEncoder())
    assert {k: metrics[k] for k in expected} == pytest.approx(expected)  # what evaluate() returns
    assert {k: state.log_history[-1][k] for k in expected} == pytest.approx(expected)
    assert len(model.calls) == 2  # one encode for the queries, one for the documents: scored once


def test_a_later_callback_sees_the_values_in_on_log_when_this_one_runs_first() -> None:
    class Recorder(TrainerCallback):
        def __init__(self) -> None:
            self.seen: list[dict[str, Any]] = []

        def on_log(self, args, state, control, logs=None, **kwargs) -> None:
            self.seen.append(dict(logs or {}))

    callback, recorder = ECICallback(UNSCORED), Recorder()
    state = TrainerState(global_step=1)
    logs = {"eval_loss": 1.0, "eval_runtime": 0.1}
    state.log_history.append({**logs, "step": 1})
    for cb in (callback, recorder):
        cb.on_log(None, state, TrainerControl(), logs=logs, model=CountingEncoder())
    assert recorder.seen[0]["eval_callback_eci"] == pytest.approx(_expected(CountingEncoder())["eval_callback_eci"])


def test_on_evaluate_scores_when_on_log_did_not() -> None:
    # Off the main process, on_log does nothing; the metrics the best-model logic reads still need the values.
    model = CountingEncoder()
    callback = ECICallback(UNSCORED)
    state = TrainerState(global_step=2)
    metrics = _evaluate(callback, state, model, with_eval_dataset=True, world_process_zero=False)
    expected = _expected(CountingEncoder())
    assert {k: metrics[k] for k in expected} == pytest.approx(expected)
    assert {k: state.log_history[-1][k] for k in expected} == pytest.approx(expected)
    assert len(model.calls) == 2


def test_each_evaluation_is_scored_afresh_even_at_the_same_step() -> None:
    # After load_best_model_at_end, trainer.evaluate() runs at the final step with other weights: no stale reuse.
    callback = ECICallback(UNSCORED)
    state = TrainerState(global_step=5)
    first, second = CountingEncoder(), CountingEncoder()
    _evaluate(callback, state, first, with_eval_dataset=True, runtime=0.25)
    _evaluate(callback, state, second, with_eval_dataset=True, runtime=0.25, world_process_zero=False)
    assert len(first.calls) == 2 and len(second.calls) == 2


def test_each_metric_prefix_gets_its_own_keys() -> None:
    # trainer.evaluate() with a dict of eval datasets evaluates each under eval_{name}.
    callback = ECICallback(UNSCORED, name="")
    state = TrainerState(global_step=1)
    dev = _evaluate(callback, state, CountingEncoder(), with_eval_dataset=True, prefix="eval_dev")
    test = _evaluate(callback, state, CountingEncoder(), with_eval_dataset=True, prefix="eval_test", runtime=0.5)
    assert "eval_dev_eci" in dev and "eval_test_eci" in test
    assert not any(key.startswith("eval_test") for key in dev)


def test_training_logs_are_left_alone() -> None:
    callback = ECICallback(UNSCORED)
    model = CountingEncoder()
    logs = {"loss": 0.5, "learning_rate": 1e-4}
    state = TrainerState(global_step=1)
    callback.on_log(None, state, TrainerControl(), logs=logs, model=model)
    callback.on_evaluate(None, state, TrainerControl(), metrics={"train_runtime": 1.0}, model=model)
    assert logs == {"loss": 0.5, "learning_rate": 1e-4}
    assert model.calls == []


def _training_args(tmp_path, eval_strategy: str) -> Any:
    from sentence_transformers import SentenceTransformerTrainingArguments

    return SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path), eval_strategy=eval_strategy, report_to="none", use_cpu=True
    )


def test_warns_once_when_the_trainer_will_never_evaluate(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    callback = ECICallback(UNSCORED)
    args = _training_args(tmp_path, "no")
    with caplog.at_level(logging.WARNING, logger="st_hardneg.eci.callback"):
        callback.on_train_begin(args, TrainerState(), TrainerControl())
        callback.on_train_begin(args, TrainerState(), TrainerControl())  # a second train(): said already
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert 'eval_strategy="no"' in warnings[0].getMessage()
    assert "will not score" in warnings[0].getMessage()


@pytest.mark.parametrize("eval_strategy", ["steps", "epoch"])
def test_no_warning_when_the_trainer_evaluates(tmp_path, caplog: pytest.LogCaptureFixture, eval_strategy) -> None:
    with caplog.at_level(logging.WARNING, logger="st_hardneg.eci.callback"):
        ECICallback(UNSCORED).on_train_begin(_training_args(tmp_path, eval_strategy), TrainerState(), TrainerControl())
    assert not caplog.records


def test_hands_out_an_evaluator_with_no_metrics_of_its_own() -> None:
    # SentenceTransformerTrainer needs an eval_dataset or an evaluator to evaluate on schedule.
    callback = ECICallback(UNSCORED)
    model = CountingEncoder()
    assert isinstance(callback.evaluator, BaseEvaluator)
    assert callback.evaluator is callback.evaluator
    assert callback.evaluator(model, output_path=None, epoch=1.0, steps=3) == {}
    assert model.calls == []  # the callback scores, in its hooks; the evaluator does not
