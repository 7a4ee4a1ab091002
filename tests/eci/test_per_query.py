"""Per-query values worked out by hand on a three-query score table, through the array layer.

Scores (query -> positives | negatives):

    q1: [0.9]        | [0.5, 0.3, 0.1]   S_n=0.3  MaxSim_p=0.9  MaxSim_n=0.5  margin= 0.4   n=3
    q2: [0.8, 0.6]   | [0.7, 0.5]        S_n=0.6  MaxSim_p=0.8  MaxSim_n=0.7  margin= 0.1   n=2
    q3: [0.4]        | [0.6, 0.2, 0.4]   S_n=0.4  MaxSim_p=0.4  MaxSim_n=0.6  margin=-0.2   n=3   (violated)

Set level:
    |N| = (3 + 2 + 3) / 3 = 8/3;  capacity = ln(1 + 8/3) = ln(11/3) = 1.2992830
    S_n = (0.3 + 0.6 + 0.4) / 3 = 0.4333333
    mean margin = (0.4 + 0.1 - 0.2) / 3 = 0.1
    clamp="aggregate": D = max(0, 0.1) = 0.1
        H = 2 * 0.4333333 * 0.1 / 0.5333333 = 0.1625;  ECI = 1.2992830 * 0.1625 = 0.2111335
    clamp="per_query": D = (0.4 + 0.1 + 0) / 3 = 0.1666667
        H = 2 * 0.4333333 * 0.1666667 / 0.6 = 0.2407407;  ECI = 1.2992830 * 0.2407407 = 0.3127903
    per-query ECI: q1 = ln 4 * 2*0.3*0.4/0.7 = 1.3862944 * 0.3428571 = 0.4753009
                   q2 = ln 3 * 2*0.6*0.1/0.7 = 1.0986123 * 0.1714286 = 0.1883335
                   q3 = 0 (margin clamped to 0)
    violation rate = 1/3
    score variance (Eq. 12) = 0.5 * (mean MaxSim_n - S_n)^2 = 0.5 * (0.6 - 0.4333333)^2 = 0.0138889
    gradient norm (Eq. 11, tau = 0.1) = mean over queries of sum exp(s / 0.1):
        q1 = e^5 + e^3 + e^1;  q2 = e^7 + e^5;  q3 = e^6 + e^2 + e^4
    top_n=2: q1 keeps [0.5, 0.3] (S=0.4), q2 [0.7, 0.5] (S=0.6), q3 [0.6, 0.4] (S=0.5); margins unchanged
        |N| = 2, S_n = 0.5, D = 0.1, H = 2*0.5*0.1/0.6 = 0.1666667, ECI = ln 3 * 0.1666667 = 0.1831020
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from st_hardneg.eci import aggregate_margin, eci_from_scores, query_stats

POSITIVES = [[0.9], [0.8, 0.6], [0.4]]
NEGATIVES = [[0.5, 0.3, 0.1], [0.7, 0.5], [0.6, 0.2, 0.4]]


def test_per_query_arrays() -> None:
    stats = query_stats(POSITIVES, NEGATIVES)
    np.testing.assert_allclose(stats.signal, [0.3, 0.6, 0.4])
    np.testing.assert_allclose(stats.max_sim_positive, [0.9, 0.8, 0.4])
    np.testing.assert_allclose(stats.max_sim_negative, [0.5, 0.7, 0.6])
    np.testing.assert_allclose(stats.margin, [0.4, 0.1, -0.2], atol=1e-12)
    np.testing.assert_array_equal(stats.num_negatives, [3, 2, 3])


def test_set_level_default_clamp_on_the_mean() -> None:
    report = eci_from_scores(POSITIVES, NEGATIVES)
    assert report.clamp == "aggregate"
    assert report.num_queries == 3
    assert report.num_negatives == pytest.approx(8 / 3)
    assert report.information_capacity == pytest.approx(1.2992830, abs=1e-6)
    assert report.signal == pytest.approx(0.4333333, abs=1e-6)
    assert report.mean_margin == pytest.approx(0.1)
    assert report.max_margin == pytest.approx(0.1)
    assert report.harmonic_efficiency == pytest.approx(0.1625)
    assert report.eci == pytest.approx(0.2111335, abs=1e-6)
    assert report.max_sim_positive == pytest.approx(0.7)
    assert report.max_sim_negative == pytest.approx(0.6)
    assert report.violation_rate == pytest.approx(1 / 3)


def test_set_level_per_query_clamp() -> None:
    report = eci_from_scores(POSITIVES, NEGATIVES, clamp="per_query")
    assert report.max_margin == pytest.approx(0.1666667, abs=1e-6)
    assert report.harmonic_efficiency == pytest.approx(0.2407407, abs=1e-6)
    assert report.eci == pytest.approx(0.3127903, abs=1e-6)


def test_per_query_eci() -> None:
    report = eci_from_scores(POSITIVES, NEGATIVES)
    np.testing.assert_allclose(report.per_query_eci, [0.4753009, 0.1883335, 0.0], rtol=0, atol=1e-6)


def test_heuristics_by_hand() -> None:
    report = eci_from_scores(POSITIVES, NEGATIVES, temperature=0.1)
    e = math.exp
    expected_gradient = ((e(5) + e(3) + e(1)) + (e(7) + e(5)) + (e(6) + e(2) + e(4))) / 3
    assert report.gradient_norm == pytest.approx(expected_gradient, rel=1e-9)
    assert report.score_variance == pytest.approx(0.0138889, abs=1e-6)
    assert report.avg_hardness == pytest.approx(np.mean([np.mean(n) for n in NEGATIVES]), abs=1e-12)  # S_n
    assert report.temperature == 0.1


def test_fixed_n_keeps_the_hardest_negatives() -> None:
    report = eci_from_scores(POSITIVES, NEGATIVES, top_n=2)
    np.testing.assert_allclose(report.per_query.signal, [0.4, 0.6, 0.5])
    assert report.num_negatives == 2
    assert report.signal == pytest.approx(0.5)
    assert report.max_margin == pytest.approx(0.1)
    assert report.eci == pytest.approx(0.1831020, abs=1e-6)
    assert report.top_n == 2


def test_fixed_n_larger_than_a_query_keeps_all() -> None:
    stats = query_stats(POSITIVES, NEGATIVES, top_n=3)
    np.testing.assert_array_equal(stats.num_negatives, [3, 2, 3])


def test_aggregate_margin_all_violated_is_zero_either_way() -> None:
    assert aggregate_margin([-0.1, -0.3]) == 0.0
    assert aggregate_margin([-0.1, -0.3], clamp="per_query") == 0.0


@pytest.mark.parametrize(
    ("positives", "negatives", "kwargs", "match"),
    [
        ([[0.9]], [[0.5], [0.4]], {}, "queries"),
        ([[0.9]], [[]], {}, "at least one"),
        ([[]], [[0.5]], {}, "at least one"),
        ([[float("nan")]], [[0.5]], {}, "non-finite"),
        ([[0.9]], [[0.5]], {"top_n": 0}, "top_n"),
        ([], [], {}, "no queries"),
    ],
)
def test_query_stats_rejects_bad_input(positives, negatives, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        query_stats(positives, negatives, **kwargs)


def test_unknown_clamp_raises() -> None:
    with pytest.raises(ValueError, match="clamp"):
        aggregate_margin([0.1], clamp="median")  # type: ignore[arg-type]
