"""include_positives (issue 18, item 7): a labeled-list row in the teacher's rank order, the positive among the
negatives where its score puts it (reranking evaluation sets), worked out by hand on test_selection's pool."""

import numpy as np
import pytest

from st_hardneg import NaiveTopK
from st_hardneg.select.settings import SelectionSettings
from tests.core.test_selection import hand_pool


def test_the_positive_takes_its_rank_among_the_negatives():
    # Naive Top-K, 2 negatives: q0 -> d3 .9, d4 .7; q1 -> d3 .85, d5 .6.
    # row (q0, d0 .8): d3, d0, d4; row (q0, d1 .6): d3, d4, d1; row (q1, d2 .9): d2, d3, d5
    kwargs = dict(num_negatives=2, output_format="labeled-list", include_positives=True, seed=0, show_progress=False)
    ds = hand_pool().select(NaiveTopK(), **kwargs)
    assert ds["answer"] == [["d3", "d0", "d4"], ["d3", "d4", "d1"], ["d2", "d3", "d5"]]
    assert ds["labels"] == [[0, 1, 0], [0, 0, 1], [1, 0, 0]]
    scored = hand_pool().select(NaiveTopK(), output_scores=True, **kwargs)
    np.testing.assert_allclose(scored["scores"][1], [0.9, 0.7, 0.6], rtol=1e-6)
    # off (the default): the positive first, as before
    plain = hand_pool().select(NaiveTopK(), num_negatives=2, output_format="labeled-list", show_progress=False)
    assert plain["answer"][0] == ["d0", "d3", "d4"] and plain["labels"][0] == [1, 0, 0]


def test_include_positives_needs_a_labeled_list():
    with pytest.raises(ValueError, match="include_positives=True ranks the positive"):
        SelectionSettings(include_positives=True, output_format="triplet")
