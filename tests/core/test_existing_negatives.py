"""Negatives the dataset already has (issue 18, item 3): joined to their anchor's candidates, scored by the teacher
and filtered by the method like any other; ignored by default with a one-line note. Worked out by hand from the
score table."""

import logging

import pytest
from datasets import Dataset

from st_hardneg import CandidatePool, HardNegativeMiner, NaiveTopK, TopKAbs
from st_hardneg.data.existing import existing_negative_columns, read_existing_negatives
from tests.core.matrix_teacher import MatrixTeacher

PAIRS = Dataset.from_dict({"anchor": ["q0", "q1"], "positive": ["p0", "p1"], "negative": ["n new", "d3"]})
CORPUS = ["p0", "p1", "d1", "d2", "d3"]
TABLE = {
    "q0": {"p0": 0.9, "d1": 0.8, "d2": 0.7, "d3": 0.1, "n new": 0.2},
    "q1": {"p1": 0.9, "d1": 0.5, "d2": 0.4, "d3": 0.3, "n new": 0.0},
}


def build(**kwargs):
    return CandidatePool.build(PAIRS, MatrixTeacher(TABLE), corpus=CORPUS, depth=2, show_progress=False, **kwargs)


def test_columns_are_found_in_every_layout():
    ds = {"anchor": ["a"], "negative_1": ["x"], "negative_2": [None], "negatives": [["y", ""]], "negativity": ["z"]}
    assert existing_negative_columns(ds) == ["negative_1", "negative_2", "negatives"]
    assert read_existing_negatives(ds, ["negative_1", "negative_2", "negatives"]) == [["x", "y"]]


def test_join_adds_them_to_the_candidates_by_score(caplog):
    with caplog.at_level(logging.WARNING):
        pool = build(existing_negatives="join")
    # depth 2: q0 d1 .8, d2 .7 (+ "n new" .2, added to the corpus); q1 d1 .5, d2 .4 (+ d3 .3)
    assert "1 existing negatives are not in the corpus" in caplog.text
    assert pool.corpus.to_pylist() == CORPUS + ["n new"]
    assert pool.statistics.existing_negatives_joined == 2
    negs = pool.select(NaiveTopK(), num_negatives=3, output_format="triplet", show_progress=False)["negative"]
    assert negs == ["d1", "d2", "n new", "d1", "d2", "d3"]
    # filtered like any candidate: scores <= .35 keep only the joined ones
    negs = pool.select(TopKAbs(0.35), num_negatives=3, output_format="triplet", show_progress=False)["negative"]
    assert negs == ["n new", "d3"]


def test_ignored_by_default_with_a_note(caplog):
    with caplog.at_level(logging.WARNING):
        pool = build()
    assert "negative columns ['negative'] are ignored" in caplog.text
    assert pool.teacher_candidates(None).candidates.shape == (2, 2) and pool.corpus.to_pylist() == CORPUS


def test_join_without_negative_columns_is_an_error_before_any_work():
    teacher = MatrixTeacher(TABLE)
    with pytest.raises(ValueError, match="has no negative column"):
        CandidatePool.build(PAIRS.remove_columns("negative"), teacher, existing_negatives="join")
    assert teacher.indexed == 0
    with pytest.raises(ValueError, match="existing_negatives"):
        CandidatePool.build(PAIRS, teacher, existing_negatives="first")
    with pytest.raises(ValueError, match="not available with HardNegativeMiner"):
        HardNegativeMiner("bm25", corpus=CORPUS, existing_negatives="join")


def test_keep_puts_them_first_unfiltered(tmp_path):
    built = build(existing_negatives="keep")
    built.save(tmp_path / "pool")
    pool = CandidatePool.load(tmp_path / "pool")  # what the pool kept is saved with it
    assert built.statistics.existing_negatives_kept == pool.statistics.existing_negatives_kept == 2
    # Naive Top-K: q0 keeps "n new", then its best mined d1 (.8); q1 keeps d3, then d1 (.5)
    res = pool.select(NaiveTopK(), num_negatives=2, output_format="n-tuple", output_scores=True, show_progress=False,
                      return_statistics=True)  # fmt: skip
    assert [[r["negative_1"], r["negative_2"]] for r in res.dataset] == [["n new", "d1"], ["d3", "d1"]]
    assert res.dataset["scores"][0] == pytest.approx([0.9, 0.2, 0.8])
    assert (res.statistics.negatives_existing, res.statistics.negatives_selected) == (2, 2)
    # scores <= .1 remove every candidate, but not the kept ones (.2, .3): one negative per row
    res = pool.select(TopKAbs(0.1), num_negatives=2, output_format="triplet", show_progress=False,
                      return_statistics=True)  # fmt: skip
    assert res.dataset["negative"] == ["n new", "d3"]
    assert (res.statistics.negatives_existing, res.statistics.negatives_selected) == (2, 0)
