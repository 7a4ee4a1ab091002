"""Several filters at once (issue 18, item 6): the mining method with a rank window and a score band, each rule's
removals counted apart, worked out by hand on the hand-made pool of ``test_selection``."""

import numpy as np
import pytest

from st_hardneg import TopKPercPos
from st_hardneg.select.settings import SelectionSettings
from tests.core.test_selection import hand_pool, negatives


def test_percpos_with_a_rank_window_and_a_score_band_counts_each_rule():
    # thresholds .95 * pos: row0 .76, row1 .57, row2 .855. Window ranks 1-2: q0 d4 .7, d5 .5; q1 d5 .6, d7 .4.
    # row0: d3, d6 out of the window; d4 .7 > max .55; d5 survives.
    # row1: d3, d6 out of the window; d4 .7 > .57 (method); d5 survives.
    # row2: d3 out of the window; d5 .6 > max .55; d7 .4 < min .45; short -> reserve d6 .6 (> max .55, though within
    #       the method's .855) is passed over, d4 .5 fills the row.
    res = hand_pool(random_scores=(0.1, -np.inf, 0.6, 0.5)).select(
        TopKPercPos(0.95), num_negatives=1, output_format="n-tuple", range_min=1, range_max=3, max_score=0.55,
        min_score=0.45, seed=0, show_progress=False, return_statistics=True,
    )  # fmt: skip
    st = res.statistics
    assert negatives(res.dataset, 1) == [["d5"], ["d5"], ["d4"]]
    assert st.candidates_considered == 11
    counts = (st.removed_by_rank, st.removed_by_method, st.removed_above_max_score, st.removed_below_min_score)
    assert counts == (5, 1, 2, 1)
    assert (st.survivors, st.rows_short, st.rows_filled, st.negatives_filled) == (2, 1, 1, 1)


def test_without_the_new_rules_nothing_changes():
    # the method alone (test_selection's first case): .75 * pos keeps row0 d5, d6; row1 d6; row2 d5, d7
    plain = hand_pool().select(TopKPercPos(0.75), num_negatives=2, output_format="n-tuple", seed=0, show_progress=False)
    ruled = hand_pool().select(
        TopKPercPos(0.75),
        num_negatives=2,
        output_format="n-tuple",
        seed=0,
        show_progress=False,
        range_min=0,
        range_max=None,
        max_score=None,
    )
    assert negatives(plain) == negatives(ruled) == [["d5", "d6"], ["d6", "d7"], ["d5", "d7"]]


def test_the_rules_are_checked_before_any_work():
    with pytest.raises(ValueError, match="range_max=2 is not above range_min=2"):
        SelectionSettings(range_min=2, range_max=2)
    with pytest.raises(ValueError, match="min_score=0.9 is above max_score=0.5"):
        SelectionSettings(min_score=0.9, max_score=0.5)
    with pytest.raises(ValueError, match="max_score"):
        SelectionSettings(teacher=["a", "b"], ensemble="rrf", max_score=0.9)
    # a window of ranks 2-3 holds 2 candidates: 3 negatives cannot come from it, whatever the pool's depth
    with pytest.raises(ValueError, match="num_negatives=3 cannot come from 2 reachable"):
        SelectionSettings(num_negatives=3, range_min=2, range_max=4).check_depth(100)
    with pytest.raises(ValueError, match="num_negatives=3 cannot come from 1 reachable"):
        SelectionSettings(num_negatives=3, range_min=3).check_depth(4)


def test_a_max_score_that_removes_nearly_everything_is_warned_about():
    # max_score .2: the method (.75 * pos) keeps 5 candidates (d5 .5, d6 .3 / d6 .3 / d5 .6, d7 .4); all score above
    res = hand_pool().select(
        TopKPercPos(0.75), num_negatives=2, max_score=0.2, seed=0, show_progress=False, return_statistics=True
    )
    assert res.statistics.removed_above_max_score == 5
    assert "max_score=0.2 removed 5 of the 5 candidates the method kept" in res.statistics.warnings
