"""Mining methods on hand-made score tables (NV-Retriever section 3.1, Eq. 1 and 2)."""

import numpy as np
import pytest

from st_hardneg import NaiveTopK, TopKAbs, TopKMarginPos, TopKPercPos, TopKShifted, get_method

# One row of ranked candidates, highest first. Values are exact binary fractions, so boundaries are exact.
SCORES = np.array([[0.875, 0.75, 0.625, 0.5, 0.25]], dtype=np.float32)
VALID = np.ones_like(SCORES, dtype=bool)
POS = np.array([1.0], dtype=np.float32)


def keep(method, scores=SCORES, pos=POS, valid=VALID):
    return method.keep(scores, pos, valid).tolist()


def test_naive_topk_keeps_every_valid_candidate():
    valid = np.array([[True, True, True, False, False]])
    assert keep(NaiveTopK(), valid=valid) == [[True, True, True, False, False]]


def test_topk_shifted_skips_the_first_n_ranked_negatives():
    assert keep(TopKShifted(2)) == [[False, False, True, True, True]]
    assert keep(TopKShifted(0)) == [[True] * 5]


def test_topk_abs_keeps_scores_at_or_below_the_threshold():
    # 0.75 <= 0.75 survives: "ignores negatives with relevance score higher than" the threshold.
    assert keep(TopKAbs(0.75)) == [[False, True, True, True, True]]
    assert keep(TopKAbs(0.6)) == [[False, False, False, True, True]]


def test_topk_marginpos_is_positive_minus_margin():
    # Eq. 1: threshold = 1.0 - 0.25 = 0.75.
    assert keep(TopKMarginPos(0.25)) == [[False, True, True, True, True]]
    # positive 0.75, margin 0.125 -> 0.625
    assert keep(TopKMarginPos(0.125), pos=np.array([0.75])) == [[False, False, True, True, True]]


def test_topk_percpos_is_a_percentage_of_the_positive():
    # Eq. 2: threshold = 1.0 * 0.625.
    assert keep(TopKPercPos(0.625)) == [[False, False, True, True, True]]
    assert TopKPercPos(0.95).threshold(np.array([0.8]))[0] == pytest.approx(0.76)


def test_topk_percpos_is_sign_safe_for_negative_positive_scores():
    # pos = -0.5 at 75%: Eq. 2 literally gives -0.375, ABOVE the positive; st-hardneg uses
    # pos - |pos| * (1 - 0.75) = -0.5 - 0.125 = -0.625, below the positive.
    limit = TopKPercPos(0.75).threshold(np.array([-0.5, 0.5]))
    assert limit.tolist() == [-0.625, 0.375]
    scores = np.array([[-0.25, -0.5, -0.625, -0.75]], dtype=np.float32)
    kept = TopKPercPos(0.75).keep(scores, np.array([-0.5]), np.ones_like(scores, bool))
    assert kept.tolist() == [[False, False, True, True]]


def test_positive_aware_methods_use_each_rows_own_positive():
    scores = np.tile(SCORES, (2, 1))
    kept = TopKMarginPos(0.0).keep(scores, np.array([0.75, 0.5]), np.ones_like(scores, bool))
    assert kept.tolist() == [[False, True, True, True, True], [False, False, False, True, True]]


def test_padding_is_never_kept():
    valid = np.array([[True, True, False, False, False]])
    for method in (NaiveTopK(), TopKShifted(1), TopKAbs(1.0), TopKMarginPos(0.0), TopKPercPos(1.0)):
        assert not method.keep(SCORES, POS, valid)[0, 2:].any(), method


def test_defaults_are_the_papers_best_configurations():
    # Table 3: shift 10, absolute 0.7, margin 0.05, percentage 95%.
    assert TopKShifted().n == 10
    assert TopKAbs().max_score == 0.7
    assert TopKMarginPos().margin == 0.05
    assert TopKPercPos().percentage == 0.95


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("naive-topk", NaiveTopK()),
        ("topk-shifted:5", TopKShifted(5)),
        ("topk-abs:0.6", TopKAbs(0.6)),
        ("topk-marginpos:0.1", TopKMarginPos(0.1)),
        ("TopK-PercPos:0.9", TopKPercPos(0.9)),
        ("topk-percpos", TopKPercPos(0.95)),
        ({"name": "topk-abs", "max_score": 0.5}, TopKAbs(0.5)),
    ],
)
def test_get_method_parses_names_and_dicts(spec, expected):
    assert get_method(spec) == expected
    assert get_method(expected.to_dict()) == expected


def test_bad_method_arguments_raise():
    with pytest.raises(ValueError, match="Unknown mining method"):
        get_method("topk-foo")
    with pytest.raises(ValueError, match="did you mean 0.95"):
        TopKPercPos(95)
    with pytest.raises(ValueError):
        TopKShifted(-1)
    with pytest.raises(ValueError):
        TopKAbs(float("nan"))
