"""ECIEvaluator against the sentence-transformers evaluator contract, on the real MiniLM."""

from __future__ import annotations

import csv

import pytest

from st_hardneg._compat import BaseEvaluator
from st_hardneg.eci import ECIEvaluator, compute_eci

from .test_compute import TRIPLETS


def test_evaluator_contract_without_a_model() -> None:
    evaluator = ECIEvaluator(TRIPLETS, top_n=1)
    assert isinstance(evaluator, BaseEvaluator)
    assert evaluator.primary_metric == "eci"
    assert evaluator.greater_is_better is True
    assert evaluator.get_config_dict() == {"clamp": "aggregate", "top_n": 1}
    assert len(evaluator.groups) == 2  # grouped by anchor once, at construction


@pytest.mark.slow
def test_evaluator_metrics_match_compute_eci_and_land_in_the_model_card(minilm) -> None:
    evaluator = ECIEvaluator(TRIPLETS)
    metrics = evaluator(minilm)
    direct = compute_eci(TRIPLETS, minilm, show_progress=False)
    assert metrics == pytest.approx(direct.to_metrics())
    assert set(metrics) >= {"eci", "eci_signal", "eci_max_margin", "eci_harmonic_efficiency", "eci_num_negatives"}
    assert metrics[evaluator.primary_metric] == pytest.approx(direct.eci)
    assert evaluator.last_report is not None and evaluator.last_report.eci == pytest.approx(direct.eci)
    assert minilm.model_card_data.eval_results_dict[evaluator] == metrics


@pytest.mark.slow
def test_named_evaluator_prefixes_metrics_and_writes_csv(minilm, tmp_path) -> None:
    evaluator = ECIEvaluator(TRIPLETS, name="bm25")
    metrics = evaluator(minilm, output_path=str(tmp_path), epoch=1, steps=5)
    assert evaluator.primary_metric == "bm25_eci"
    assert all(key.startswith("bm25_eci") for key in metrics)
    with open(tmp_path / "eci_evaluation_bm25_results.csv", encoding="utf-8") as f:
        header, row = list(csv.reader(f))
    assert header[:3] == ["epoch", "steps", "eci"]
    assert row[:2] == ["1", "5"]
    assert float(row[2]) == pytest.approx(metrics["bm25_eci"])
