"""Edge cases of the scalar formula (Eq. 7-10) beyond the paper's tables."""

from __future__ import annotations

import math

import pytest

from st_hardneg.eci import (
    arithmetic_efficiency,
    eci,
    effective_margin,
    harmonic_efficiency,
    information_capacity,
)


def test_information_capacity_is_natural_log_of_one_plus_n() -> None:
    assert information_capacity(0) == 0.0
    assert information_capacity(math.e - 1) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        information_capacity(-1)


def test_negative_margin_is_clamped_to_zero_and_collapses_efficiency() -> None:
    # Eq. 9: a negative scored above the positive gives Delta' = 0, so the harmonic efficiency is 0.
    assert effective_margin(-0.3) == 0.0
    assert harmonic_efficiency(0.7, -0.3) == 0.0
    assert eci(50, 0.7, -0.3) == 0.0
    # The arithmetic baseline keeps half the signal: it does not punish the violation (Table 5's point).
    assert arithmetic_efficiency(0.7, -0.3) == pytest.approx(0.35)


def test_harmonic_mean_values() -> None:
    assert harmonic_efficiency(0.5, 0.5) == pytest.approx(0.5)
    assert harmonic_efficiency(0.6, 0.2) == pytest.approx(2 * 0.6 * 0.2 / 0.8)
    assert harmonic_efficiency(0.0, 0.0) == 0.0


def test_negative_signal_counts_as_no_signal() -> None:
    assert harmonic_efficiency(-0.2, 0.3) == 0.0
    assert arithmetic_efficiency(-0.2, 0.3) == pytest.approx(0.15)


def test_unknown_efficiency_raises() -> None:
    with pytest.raises(ValueError, match="efficiency"):
        eci(3, 0.5, 0.2, efficiency="geometric")  # type: ignore[arg-type]
