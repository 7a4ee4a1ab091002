"""sentence-transformers' own mine_hard_negatives bugs of 2026, checked here: none of them exists in st-hardneg.

- #3819 (fixed by #3821): relative_margin with a negative positive score put the threshold above the positive.
- #3871 / #3872: the FAISS path retrieved range_max + 1 candidates, so anchors with several positives got fewer
  negatives than asked; the review of #3872 also found -1 padding slots surviving as negatives.
- #3903 / #3904: num_negatives larger than the range_min/range_max window failed late on a tensor shape.
(#3873's text was not found in the issue corpus available here; the padding case of #3872 is tested below.)
Expected values worked out by hand from the score tables.
"""

import numpy as np
import pytest
from datasets import Dataset

from st_hardneg import CandidatePool, NaiveTopK, TopKPercPos, mine_hard_negatives
from tests.core.matrix_teacher import MatrixTeacher


def test_3819_percpos_stays_below_a_negative_positive_score():
    # positive -.50; at 95% the threshold is -.50 - .50 * .05 = -.525: the closer -.49 goes, the farther -.80 stays
    pairs = Dataset.from_dict({"anchor": ["q"], "positive": ["p"]})
    table = {"q": {"p": -0.50, "n_more_similar": -0.49, "n_far": -0.80}}
    pool = CandidatePool.build(
        pairs, MatrixTeacher(table), corpus=["p", "n_more_similar", "n_far"], depth=2, show_progress=False
    )
    res = pool.select(TopKPercPos(0.95), num_negatives=2, output_format="triplet", show_progress=False,
                      return_statistics=True)  # fmt: skip
    assert res.dataset["negative"] == ["n_far"] and res.statistics.removed_by_method == 1


def test_3872_an_anchor_with_several_positives_still_gets_depth_negatives():
    # three positives outrank every other document: the pool still keeps depth=2 negatives, d1 and d2
    pairs = Dataset.from_dict({"anchor": ["q", "q", "q"], "positive": ["p1", "p2", "p3"]})
    table = {"q": {"p1": 0.9, "p2": 0.8, "p3": 0.7, "d1": 0.6, "d2": 0.5, "d3": 0.4}}
    teacher = MatrixTeacher(table)
    pool = CandidatePool.build(pairs, teacher, corpus=["p1", "p2", "p3", "d1", "d2", "d3"], depth=2,
                               show_progress=False)  # fmt: skip
    assert teacher.calls[0][1] == 5  # searched depth + max_positives deep
    ds = pool.select(NaiveTopK(), num_negatives=2, output_format="n-tuple", show_progress=False)
    assert [[r["negative_1"], r["negative_2"]] for r in ds] == [["d1", "d2"]] * 3


def test_3872_padding_never_becomes_a_negative():
    # a corpus of 3 documents, depth 5: one positive and two candidates, the other slots padding
    pairs = Dataset.from_dict({"anchor": ["q"], "positive": ["p"]})
    table = {"q": {"p": 0.9, "a": 0.5, "b": 0.4}}
    pool = CandidatePool.build(pairs, MatrixTeacher(table), corpus=["p", "a", "b"], depth=5, show_progress=False)
    tc = pool.teacher_candidates(None)
    assert tc.candidates.tolist() == [[1, 2, -1, -1, -1]] and np.isneginf(tc.scores[0, 2:]).all()
    ds = pool.select(NaiveTopK(), num_negatives=5, output_format="labeled-list", show_progress=False)
    assert ds["positive"] == [["p", "a", "b"]] and ds["labels"] == [[1, 0, 0]]


def test_3903_more_negatives_than_the_window_holds_is_refused_before_any_work():
    teacher = MatrixTeacher({})
    pairs = Dataset.from_dict({"anchor": ["q"], "positive": ["p"]})
    with pytest.raises(ValueError, match="num_negatives=10 cannot come from 3 reachable"):
        mine_hard_negatives(pairs, teacher, num_negatives=10, range_min=0, range_max=3, output_format="triplet")
    with pytest.raises(ValueError, match="num_negatives=10 cannot come from 8 reachable"):
        mine_hard_negatives(pairs, teacher, num_negatives=10, range_min=2040, range_max=2048, depth=4096,
                            output_format="triplet", on_short="deepen")  # fmt: skip
    assert teacher.indexed == 0 and teacher.calls == []
    # a window exactly num_negatives wide is fine
    ds = mine_hard_negatives(
        Dataset.from_dict({"anchor": ["q"], "positive": ["p"]}),
        MatrixTeacher({"q": {"p": 0.9, "a": 0.5, "b": 0.4, "c": 0.3}}),
        corpus=["p", "a", "b", "c"], num_negatives=2, range_min=1, range_max=3, depth=3, output_format="n-tuple",
        show_progress=False,
    )  # fmt: skip
    assert [ds[0]["negative_1"], ds[0]["negative_2"]] == ["b", "c"]
