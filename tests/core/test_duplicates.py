"""Duplicates of the positive (issue 18, item 4): a corpus copy of an anchor's positive (other case, whitespace,
punctuation) is kept out of its negatives by default, like a positive; near copies by the teacher's score on
request; each counted. Expected negatives worked out by hand from the score table."""

import pytest
from datasets import Dataset

from st_hardneg import CandidatePool, NaiveTopK, TopKShifted
from st_hardneg.settings import SelectionSettings
from tests.core.matrix_teacher import MatrixTeacher

PAIRS = Dataset.from_dict({"anchor": ["q0", "q1"], "positive": ["The cat sat.", "dogs run"]})
CORPUS = ["The cat sat.", "the  CAT sat", "a mouse", "a bird", "dogs run"]
TABLE = {
    # q0's positive scores .9; its copy "the  CAT sat" .95 ranks first
    "q0": {"The cat sat.": 0.9, "the  CAT sat": 0.95, "a mouse": 0.5, "a bird": 0.4, "dogs run": 0.3},
    # q1's positive scores .8; "the  CAT sat" is no copy of q1's positive
    "q1": {"dogs run": 0.8, "a mouse": 0.6, "a bird": 0.45, "the  CAT sat": 0.2, "The cat sat.": 0.1},
}


@pytest.fixture(scope="module")
def pool():
    return CandidatePool.build(PAIRS, MatrixTeacher(TABLE), corpus=CORPUS, depth=4, show_progress=False)


def negatives(pool, method, **kwargs):
    res = pool.select(
        method, num_negatives=1, output_format="triplet", show_progress=False, return_statistics=True, **kwargs
    )
    return res.dataset["negative"], res.statistics


def test_a_copy_of_the_positive_is_kept_out_by_default_and_counted(pool):
    negs, st = negatives(pool, NaiveTopK())
    assert negs == ["a mouse", "a mouse"]
    assert (st.removed_duplicate_positive, st.removed_near_duplicate) == (1, 0)
    # q0 looks at 4 candidates, q1 at 4: the copy leaves before the method, which then removes nothing
    assert (st.candidates_considered, st.removed_by_method) == (7, 0)


def test_off_on_request(pool):
    negs, st = negatives(pool, NaiveTopK(), exact_duplicates=False)
    assert negs == ["the  CAT sat", "a mouse"] and st.removed_duplicate_positive == 0


def test_the_copy_leaves_like_a_positive_so_ranks_move_up(pool):
    # q0 without its copy: mouse, bird, "dogs run"; shifted by 1 -> bird. q1: mouse, bird, ... -> bird.
    assert negatives(pool, TopKShifted(1))[0] == ["a bird", "a bird"]
    # with the copy as a negative, q0's shift skips the copy: mouse
    assert negatives(pool, TopKShifted(1), exact_duplicates=False)[0] == ["a mouse", "a bird"]


def test_near_duplicates_by_the_teachers_score(pool):
    # epsilon .1: q0's copy (.95 vs .9) is near; q1's mouse (.6 vs .8) is not
    negs, st = negatives(pool, NaiveTopK(), exact_duplicates=False, near_duplicates=0.1)
    assert negs == ["a mouse", "a mouse"] and (st.removed_duplicate_positive, st.removed_near_duplicate) == (0, 1)
    # epsilon .25: q1's mouse (.2 away) is near too; q0's mouse (.4 away) is not
    negs, st = negatives(pool, NaiveTopK(), exact_duplicates=False, near_duplicates=0.25)
    assert negs == ["a mouse", "a bird"] and st.removed_near_duplicate == 2
    # a copy that is both exact and near counts once, as exact
    negs, st = negatives(pool, NaiveTopK(), near_duplicates=0.1)
    assert (st.removed_duplicate_positive, st.removed_near_duplicate) == (1, 0)


def test_a_row_left_without_candidates_by_the_copy_is_filled_with_another_document():
    # depth 1: q0's one candidate is its copy (.95), kept out; the row is filled from q0's reserve (mouse, bird,
    # "dogs run", in a random order): never with the copy
    shallow = CandidatePool.build(PAIRS, MatrixTeacher(TABLE), corpus=CORPUS, depth=1, show_progress=False)
    res = shallow.select(
        NaiveTopK(), num_negatives=1, output_format="n-tuple", show_progress=False, return_statistics=True
    )
    assert res.dataset["negative_1"][0] in {"a mouse", "a bird", "dogs run"}
    assert res.dataset["negative_1"][1] == "a mouse"
    assert (res.statistics.removed_duplicate_positive, res.statistics.rows_filled) == (1, 1)


def test_near_duplicates_is_checked():
    with pytest.raises(ValueError, match="near_duplicates"):
        SelectionSettings(near_duplicates=-0.1)


def test_an_ensemble_keeps_the_copy_out_of_every_members_candidates():
    teachers = [MatrixTeacher(TABLE, name="a"), MatrixTeacher(TABLE, name="b")]
    pool = CandidatePool.build(PAIRS, teachers, corpus=CORPUS, depth=4, show_progress=False)
    kwargs = dict(ensemble="cross_sample", num_negatives=1, output_format="triplet", show_progress=False)
    # both teachers rank q0's copy first: without the rule it is q0's negative whichever teacher a row draws
    assert pool.select(NaiveTopK(), exact_duplicates=False, **kwargs)["negative"] == ["the  CAT sat", "a mouse"]
    assert pool.select(NaiveTopK(), **kwargs)["negative"] == ["a mouse", "a mouse"]
