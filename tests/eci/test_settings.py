"""ECISettings: one validated source of the ECI options, shared by every ECI entry point."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from datasets import Dataset

from st_hardneg.eci import ECICallback, ECIEvaluator, ECISettings, compare_eci, compute_eci, group_queries
from st_hardneg.eci.compute import GroupedECI, report_from_groups
from st_hardneg.settings.base import Settings

# Stored scores chosen so that top_n, clamp and temperature all change the report:
#   q1: positive 0.9, negatives 0.5, 0.95, 0.3  (hardest negative above the positive: margin -0.05)
#   q2: positive 0.8, negatives 0.6, 0.2        (margin 0.2)
SCORED = Dataset.from_dict(
    {
        "anchor": ["q1", "q1", "q1", "q2", "q2"],
        "positive": ["p1", "p1", "p1", "p2", "p2"],
        "negative": ["a", "b", "c", "d", "e"],
        "scores": [[0.9, 0.5], [0.9, 0.95], [0.9, 0.3], [0.8, 0.6], [0.8, 0.2]],
    }
)


def _eci(num_negatives: float, signal: float, margin: float) -> float:
    """Eq. 10 written out here, independently of st_hardneg.eci.formula."""
    return math.log(1 + num_negatives) * 2 * signal * margin / (signal + margin)


class ForbiddenModel:
    """A model that fails the test if anything asks it for anything (encode, predict, similarity...)."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"model.{name} was used before the settings were checked")


class UnreadableDataset:
    """A dataset that fails the test if it is read: settings must be checked first."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"dataset.{name} was read before the settings were checked")

    def __iter__(self) -> Any:
        raise AssertionError("the dataset was iterated before the settings were checked")

    def __len__(self) -> int:
        raise AssertionError("the dataset was read before the settings were checked")


class CountingEncoder:
    """A tiny deterministic bi-encoder that records every encode call's size and batch size."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def encode(self, texts: list[str], batch_size: int = 32, **kwargs: Any) -> torch.Tensor:
        self.calls.append((len(texts), batch_size))
        vectors = torch.tensor([[len(t) % 5 + 1.0, sum(map(ord, t)) % 7 + 1.0, 1.0] for t in texts])
        return torch.nn.functional.normalize(vectors, dim=-1)

    def similarity_pairwise(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a * b).sum(-1)


# (field, bad value, exception type)
BAD_VALUES = [
    ("top_n", 0, ValueError),
    ("top_n", -2, ValueError),
    ("top_n", 1.5, TypeError),
    ("top_n", "3", TypeError),
    ("top_n", True, TypeError),
    ("clamp", "per-query", ValueError),
    ("clamp", None, ValueError),
    ("temperature", 0, ValueError),
    ("temperature", -0.05, ValueError),
    ("temperature", float("nan"), ValueError),
    ("temperature", float("inf"), ValueError),
    ("temperature", "0.05", TypeError),
    ("batch_size", 0, ValueError),
    ("batch_size", 8.0, TypeError),
    ("batch_size", None, TypeError),
    ("anchor_column", 3, TypeError),
    ("anchor_column", "", TypeError),
    ("positive_column", ["positive"], TypeError),
]
BAD_IDS = [f"{field}={value!r}" for field, value, _ in BAD_VALUES]


def _names_field_and_value(err: pytest.ExceptionInfo, field: str, value: Any) -> None:
    message = str(err.value)
    assert field in message, message
    assert repr(value) in message, message


def test_defaults_are_stated_once_here() -> None:
    settings = ECISettings()
    assert isinstance(settings, Settings)
    assert settings.to_dict() == {
        "anchor_column": None,
        "positive_column": None,
        "top_n": None,
        "clamp": "aggregate",
        "temperature": 0.05,
        "batch_size": 32,
    }
    assert ECISettings.from_dict(ECISettings(top_n=2, clamp="per_query").to_dict()) == ECISettings(
        top_n=2, clamp="per_query"
    )
    with pytest.raises(AttributeError):
        settings.top_n = 3  # type: ignore[misc]  # frozen


def test_show_progress_is_a_runtime_keyword_not_a_setting() -> None:
    assert "show_progress" not in ECISettings.field_names()


@pytest.mark.parametrize(("field", "value", "error"), BAD_VALUES, ids=BAD_IDS)
def test_each_bad_value_raises_naming_the_parameter_and_the_value(field: str, value: Any, error: type) -> None:
    with pytest.raises(error) as err:
        ECISettings(**{field: value})
    _names_field_and_value(err, field, value)


def test_anchor_and_positive_columns_must_differ() -> None:
    with pytest.raises(ValueError, match="anchor_column and positive_column must differ; both are 'text'"):
        ECISettings(anchor_column="text", positive_column="text")


ENTRY_POINTS = {
    "compute_eci": lambda **kw: compute_eci(UnreadableDataset(), ForbiddenModel(), **kw),
    "compare_eci": lambda **kw: compare_eci({"a": UnreadableDataset()}, ForbiddenModel(), **kw),
    "report_from_groups": lambda **kw: report_from_groups(group_queries(SCORED), ForbiddenModel(), **kw),
    "GroupedECI": lambda **kw: GroupedECI(UnreadableDataset(), **kw),
    "ECIEvaluator": lambda **kw: ECIEvaluator(UnreadableDataset(), **kw),
    "ECICallback": lambda **kw: ECICallback(UnreadableDataset(), **kw),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize(("field", "value", "error"), BAD_VALUES, ids=BAD_IDS)
def test_every_entry_point_rejects_a_bad_value_before_reading_data_or_calling_the_model(
    entry: str, field: str, value: Any, error: type
) -> None:
    with pytest.raises(error) as err:
        ENTRY_POINTS[entry](**{field: value})
    _names_field_and_value(err, field, value)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_every_entry_point_rejects_an_unknown_keyword(entry: str) -> None:
    with pytest.raises(TypeError, match=r"unknown option 'topn' for ECISettings; did you mean 'top_n'\?"):
        ENTRY_POINTS[entry](topn=3)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_every_entry_point_rejects_settings_of_another_kind(entry: str) -> None:
    from st_hardneg.settings import PoolSettings

    with pytest.raises(TypeError, match="settings must be ECISettings, got PoolSettings"):
        ENTRY_POINTS[entry](settings=PoolSettings())


def test_a_bad_value_over_good_settings_is_still_rejected() -> None:
    with pytest.raises(ValueError, match="top_n must be a whole number >= 1, got 0"):
        compute_eci(UnreadableDataset(), ForbiddenModel(), settings=ECISettings(top_n=2), top_n=0)


def test_a_missing_column_fails_before_the_model_is_called() -> None:
    with pytest.raises(ValueError, match="anchor_column='question' is not a column"):
        compute_eci(SCORED, ForbiddenModel(), anchor_column="question")
    with pytest.raises(ValueError, match="anchor_column='question' is not a column"):
        ECIEvaluator(SCORED, anchor_column="question")


# ------------------------------------------------------------------------------- keywords and settings= agree
def test_stored_score_report_follows_the_settings_computed_by_hand() -> None:
    # top_n=1 keeps q1's 0.95 and q2's 0.6: S_n = (0.95 + 0.6) / 2; per_query clamp: D = (0 + 0.2) / 2.
    report = compute_eci(SCORED, settings=ECISettings(top_n=1, clamp="per_query"), show_progress=False)
    assert (report.top_n, report.clamp, report.num_negatives) == (1, "per_query", 1.0)
    assert report.signal == pytest.approx(0.775)
    assert report.max_margin == pytest.approx(0.1)
    assert report.eci == pytest.approx(_eci(1, 0.775, 0.1))
    # The defaults: all negatives, clamp on the mean margin (-0.05 + 0.2) / 2.
    default = compute_eci(SCORED, show_progress=False)
    assert default.num_negatives == 2.5
    assert default.signal == pytest.approx(((0.5 + 0.95 + 0.3) / 3 + 0.4) / 2)
    assert default.max_margin == pytest.approx(0.075)
    assert default.eci == pytest.approx(_eci(2.5, ((0.5 + 0.95 + 0.3) / 3 + 0.4) / 2, 0.075))


OPTIONS = {"top_n": 1, "clamp": "per_query", "temperature": 0.1}


def test_keywords_and_settings_give_the_same_report_everywhere() -> None:
    settings = ECISettings(**OPTIONS)
    by_keywords = compute_eci(SCORED, show_progress=False, **OPTIONS).to_dict()
    assert compute_eci(SCORED, settings=settings, show_progress=False).to_dict() == by_keywords
    assert compute_eci(SCORED, None, settings, show_progress=False).to_dict() == by_keywords  # positional
    assert compare_eci({"s": SCORED}, show_progress=False, **OPTIONS)["s"].to_dict() == by_keywords
    assert compare_eci({"s": SCORED}, settings=settings, show_progress=False)["s"].to_dict() == by_keywords
    groups = group_queries(SCORED)
    assert report_from_groups(groups, **OPTIONS).to_dict() == by_keywords
    assert report_from_groups(groups, settings=settings).to_dict() == by_keywords
    for cls in (GroupedECI, ECIEvaluator, ECICallback):
        assert cls(SCORED, **OPTIONS).settings == settings, cls
        assert cls(SCORED, settings=settings).settings == settings, cls
    assert ECIEvaluator(SCORED, settings=settings).compute_report(None).to_dict() == by_keywords
    assert ECICallback(SCORED, **OPTIONS).compute_report(None).to_dict() == by_keywords


def test_keywords_override_the_settings_object_without_changing_it() -> None:
    settings = ECISettings(top_n=2, clamp="aggregate", temperature=0.2)
    overridden = compute_eci(SCORED, settings=settings, top_n=1, clamp="per_query", show_progress=False)
    expected = compute_eci(SCORED, top_n=1, clamp="per_query", temperature=0.2, show_progress=False)
    assert overridden.to_dict() == expected.to_dict()
    assert (overridden.top_n, overridden.clamp, overridden.temperature) == (1, "per_query", 0.2)
    assert settings == ECISettings(top_n=2, clamp="aggregate", temperature=0.2)  # untouched
    evaluator = ECIEvaluator(SCORED, settings=settings, batch_size=4)
    assert evaluator.settings == ECISettings(top_n=2, temperature=0.2, batch_size=4)
    assert evaluator.get_config_dict() == {"clamp": "aggregate", "top_n": 2}


def test_column_settings_reach_the_grouping() -> None:
    renamed = SCORED.rename_columns({"anchor": "query", "positive": "answer"})
    settings = ECISettings(anchor_column="query", positive_column="answer")
    assert compute_eci(renamed, settings=settings, show_progress=False).to_dict() == (
        compute_eci(SCORED, show_progress=False).to_dict()
    )


def test_batch_size_reaches_the_model_and_keywords_match_settings() -> None:
    unscored = SCORED.remove_columns("scores")
    by_keywords, by_settings = CountingEncoder(), CountingEncoder()
    a = compute_eci(unscored, by_keywords, batch_size=3, top_n=2, show_progress=False)
    b = compute_eci(unscored, by_settings, settings=ECISettings(batch_size=3, top_n=2), show_progress=False)
    assert a.to_dict() == b.to_dict()
    assert by_keywords.calls == by_settings.calls
    assert {batch for _, batch in by_keywords.calls} == {3}
