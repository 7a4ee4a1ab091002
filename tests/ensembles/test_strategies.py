"""Ensembles chosen at selection time, on the hand-made two-teacher pool of pools.py; every expected row is worked
out by hand in the comments from the candidate tables there.

TopK-PercPos 95% on each teacher's own scores (the default method):
    a: q0 threshold .9025 keeps d2 .9, d3 .8, d4 .7, d5 .6    q1 threshold .855 keeps d3 .85, d6, d7, d2
    b: q0 threshold 9.5 keeps d3 9, d5 8, d6 7, d2 6           q1 threshold 9.5 removes d6 12, d7 11; keeps d4, d5
so with "top": a picks q0 [d2, d3, d4, d5], q1 [d3, d6, d7, d2]; b picks q0 [d3, d5, d6, d2], q1 [d4, d5].
"""

import numpy as np
import pytest
from datasets import Dataset

from st_hardneg import CandidatePool, mine_hard_negatives
from st_hardneg.data import load_default
from st_hardneg.ensembles.cross_sample import drawn_teachers
from st_hardneg.keyed_random import text_keys
from tests.ensembles.pools import negatives, two_teacher_pool


def select(ensemble, k, **kw):
    kw.setdefault("show_progress", False)
    kw.setdefault("method", "topk-percpos:0.95")  # the paper's method and layout, which these cases work out
    kw.setdefault("output_format", "n-tuple")
    return two_teacher_pool(kw.pop("order", ("a", "b"))).select(
        ensemble=ensemble, num_negatives=k, output_teachers=True, return_statistics=True, **kw
    )


def test_intra_sample_takes_turns_and_keeps_duplicates():
    # Round 1: a's 1st, b's 1st; round 2: a's 2nd, ... q0: d2 (a), d3 (b), d3 (a's 2nd: a duplicate, kept).
    r = select("intra_sample", 3)
    assert negatives(r.dataset, 3) == [["d2", "d3", "d3"], ["d3", "d4", "d6"]]
    assert r.dataset["teachers"] == [["a", "b", "a"], ["a", "b", "a"]]
    st = r.statistics
    assert (st.duplicate_negatives, st.negatives_per_teacher, st.negatives_shared) == (1, {"a": 4, "b": 2}, 0)
    # Two negatives: each teacher's top-1, the paper's setting (4 teachers, 4 negatives) in miniature.
    assert negatives(select("intra_sample", 2).dataset, 2) == [["d2", "d3"], ["d3", "d4"]]


def test_intra_sample_dedup_replaces_a_duplicate_by_that_teachers_next_unique_negative():
    # q0: a d2, b d3, a's next is d3 (taken) -> a's next unique, d4; d3 was chosen by both.
    r = select("intra_sample_dedup", 3)
    assert negatives(r.dataset, 3) == [["d2", "d3", "d4"], ["d3", "d4", "d6"]]
    assert r.dataset["teachers"] == [["a", "a+b", "a"], ["a", "b", "a"]]
    assert (r.statistics.duplicate_negatives, r.statistics.negatives_shared) == (0, 1)


def test_teacher_order_is_the_order_given():
    # b first: q0: b d3, a d2, b d5; q1: b d4, a d3, b d5.
    for order in (("a", "b"), ("b", "a")):  # the pool's own order does not matter, the selection's does
        r = select("intra_sample_dedup", 3, teacher=["b", "a"], order=order)
        assert negatives(r.dataset, 3) == [["d3", "d2", "d5"], ["d4", "d3", "d5"]]
        assert r.config["settings"]["teacher"] == ["b", "a"]


def test_concat_is_the_union_of_the_teachers_lists():
    # a's top 2 + b's top 2, each document once: q0 {d2, d3} + {d3, d5} -> d2, d3 (a+b), d5;
    # q1 {d3, d6} + {d4, d5} -> four distinct.
    r = select("concat", 2, output_format="triplet")
    assert r.dataset["negative"] == ["d2", "d3", "d5", "d3", "d6", "d4", "d5"]
    assert r.dataset["teacher"] == ["a", "a+b", "b", "a", "a", "b", "b"]
    assert r.statistics.rows_kept_short == 1  # q0 has 3 of the 2 x 2 slots
    # n-tuple rows are 2 x 2 wide: q0's fourth slot is filled from a's reserve under a's bound (d8 .1 <= .9025).
    r = select("concat", 2)
    assert negatives(r.dataset, 4) == [["d2", "d3", "d5", "d8"], ["d3", "d6", "d4", "d5"]]
    assert r.dataset["teachers"][0] == ["a", "a+b", "b", "fill"]
    assert (r.statistics.rows_filled, r.statistics.negatives_filled) == (1, 1)


def test_rrf_applies_the_method_to_the_fused_score():
    # Naive Top-K on 1/(60 + rank_a) + 1/(60 + rank_b):
    # q0: d3 1/62 + 1/61, d2 1/61 + 1/64, d5 1/64 + 1/62, d4 = d6 = 1/63 -> [d3, d2]
    # q1: d6 1/62 + 1/61, d7 1/63 + 1/62, d3 1/61, d4 1/63, ... -> [d6, d7]
    assert negatives(select("rrf", 2, method="naive-topk").dataset, 2) == [["d3", "d2"], ["d6", "d7"]]
    # TopK-PercPos 95% of the positive's fused score: q0's positive outranks every candidate of both teachers
    # (2/61 = .03279, bound .03115): d3 .03252, d2 .03202, d5 .03175 go; d4 and d6 (.01587) stay.
    # q1: a ranks the positive 1st, b 3rd (12 and 11 score above 10): 1/61 + 1/63, bound .03065: d6 .03252 and
    # d7 .03100 go, d3 .01639 and d4 .01587 stay.
    r = select("rrf", 2)
    assert negatives(r.dataset, 2) == [["d4", "d6"], ["d3", "d4"]]
    assert r.dataset["teachers"] == [["a", "b"], ["a", "b"]]
    assert r.config["teacher"]["strategy"] == "rrf" and r.config["teacher"]["rrf_k"] == 60


def test_mean_score_averages_min_max_normalised_scores():
    # q0: a spans .6-.9: d2 1, d3 2/3, d4 1/3, d5 0; b spans 6-9: d3 1, d5 2/3, d6 1/3, d2 0.
    # mean: d3 .833, d2 .5, d5 .333, d4 .167, d6 .167 -> [d3, d2].
    # q1: a .4-.85: d3 1, d6 .667, d7 .222, d2 0; b 4-12: d6 1, d7 .875, d4 .125, d5 0.
    # mean: d6 .833, d7 .549, d3 .5, ... -> [d6, d7].
    r = select("mean_score", 2, method="naive-topk")
    assert negatives(r.dataset, 2) == [["d3", "d2"], ["d6", "d7"]]
    assert r.dataset["teachers"] == [["a+b", "a+b"], ["a+b", "a+b"]]
    # Positives: q0 a (.95 - .6) / .3 = 1.167, b (10 - 6) / 3 = 1.333 -> 1.25, bound 1.1875: all stay.
    # q1 a (.9 - .4) / .45 = 1.111, b (10 - 4) / 8 = .75 -> .931, bound .884: all of d6 .833 ... stay.
    assert negatives(select("mean_score", 2).dataset, 2) == [["d3", "d2"], ["d6", "d7"]]
    # TopK-Abs on the fused [0, 1] scale: at most .5 -> q0 d2 .5, d5 .333; q1 d3 .5, d4 .0625.
    assert negatives(select("mean_score", 2, method="topk-abs:0.5").dataset, 2) == [["d2", "d5"], ["d3", "d4"]]


def test_cross_sample_rows_are_the_drawn_teachers_own_rows():
    pairs, corpus = load_default()
    pool = CandidatePool.build(pairs, ["bm25", "random"], corpus=corpus, depth=20, seed=0, show_progress=False)
    kw = dict(num_negatives=2, method="naive-topk", output_format="n-tuple", sampling="sampled", seed=3)
    kw["show_progress"] = False
    mixed = pool.select(ensemble="cross_sample", output_teachers=True, **kw)
    alone = {name: pool.select(teacher=name, **kw) for name in ("bm25", "random")}
    assert len(mixed) == len(alone["bm25"]) == len(alone["random"]) == len(pairs)  # no row dropped
    drawn = drawn_teachers(text_keys(pool.queries.to_pylist()), 3, 2)[pool.row_query]
    assert set(drawn) == {0, 1}
    for i, row in enumerate(mixed):
        name = ("bm25", "random")[drawn[i]]
        assert {k: v for k, v in row.items() if k != "teachers"} == alone[name][i]
        assert set(row["teachers"]) <= {name, "fill"}
    # The draw is keyed by seed and anchor: another seed draws other teachers.
    assert (drawn_teachers(text_keys(pool.queries.to_pylist()), 4, 2)[pool.row_query] != drawn).any()


def test_cross_sample_draws_each_teacher_equally_often():
    keys = text_keys([f"anchor {i}" for i in range(30000)])
    counts = np.bincount(drawn_teachers(keys, 0, 3), minlength=3) / len(keys)
    np.testing.assert_allclose(counts, [1 / 3] * 3, atol=0.01)


def test_short_rows_are_filled_kept_or_dropped_and_every_format_works():
    # Strict TopK-PercPos 70%: a keeps q0 d5 (.6 <= .665), q1 d7, d2 (<= .63); b keeps q0 d6, d2 (<= 7), q1 d4, d5.
    # intra_sample_dedup, 3 negatives: q0 a d5, b d6, (a has no more) b d2 -> [d5, d6, d2];
    # q1 a d7, b d4, a d2 -> [d7, d4, d2].
    r = select("intra_sample_dedup", 3, method="topk-percpos:0.7")
    assert negatives(r.dataset, 3) == [["d5", "d6", "d2"], ["d7", "d4", "d2"]]
    # 4 negatives: q0 has only 3 survivors -> filled from a's reserve (d8 .1 <= .665); q1 gets b's d5.
    r = select("intra_sample_dedup", 4, method="topk-percpos:0.7")
    assert negatives(r.dataset, 4) == [["d5", "d6", "d2", "d8"], ["d7", "d4", "d2", "d5"]]
    assert r.dataset["teachers"][0][-1] == "fill"
    dropped = select("intra_sample_dedup", 4, method="topk-percpos:0.7", on_short="drop")
    assert len(dropped.dataset) == 1 and dropped.statistics.rows_dropped == 1
    ll = select("intra_sample_dedup", 4, method="topk-percpos:0.7", output_format="labeled-list").dataset
    assert ll["teachers"] == [[None, "a", "b", "b"], [None, "a", "b", "a", "b"]]
    assert ll["labels"] == [[1, 0, 0, 0], [1, 0, 0, 0, 0]]
    lp = select("intra_sample_dedup", 4, method="topk-percpos:0.7", output_format="labeled-pair").dataset
    assert lp["teacher"][:4] == [None, "a", "b", "b"] and lp["label"][:4] == [1, 0, 0, 0]


def test_ensemble_settings_errors_are_clear():
    pool = two_teacher_pool()
    with pytest.raises(ValueError, match="combines several teachers, but teacher='a' names one"):
        pool.select(teacher="a", ensemble="concat")
    with pytest.raises(ValueError, match="choose how to combine them with ensemble="):
        pool.select(teacher=["a", "b"])
    with pytest.raises(ValueError, match="teacher='c' is not in this pool"):
        pool.select(teacher=["a", "c"], ensemble="concat")
    with pytest.raises(ValueError, match="absolute threshold"):
        pool.select(ensemble="rrf", method="topk-abs:0.7")
    with pytest.raises(ValueError, match="ensemble must be one of"):
        pool.select(ensemble="voting")
    with pytest.raises(ValueError, match="names a teacher twice"):
        pool.select(teacher=["a", "a"], ensemble="concat")


def test_selecting_an_ensemble_encodes_nothing():
    from tests.core.test_validation import CountingTeacher

    class Second(CountingTeacher):
        @property
        def name(self):
            return "second"

    first, second = CountingTeacher(), Second()
    pairs = Dataset.from_dict({"q": ["alpha one", "beta two", "gamma three"], "d": ["alpha doc", "beta doc", "gamma"]})
    pool = CandidatePool.build(pairs, [first, second], corpus=["alpha x", "beta y", "delta"], depth=3, seed=0,
                               show_progress=False)  # fmt: skip
    calls = (first.calls, second.calls)
    for ensemble in ("cross_sample", "intra_sample", "intra_sample_dedup", "concat", "rrf", "mean_score"):
        pool.select(ensemble=ensemble, method="naive-topk", num_negatives=2, output_format="triplet",
                    output_teachers=True, show_progress=False)  # fmt: skip
    pool.agreement(k=2)
    assert (first.calls, second.calls) == calls


def test_mine_hard_negatives_with_a_list_of_teachers_and_an_ensemble():
    pairs, corpus = load_default()
    mined = mine_hard_negatives(
        pairs, ["bm25", "random"], corpus=corpus, ensemble="intra_sample", num_negatives=2, method="naive-topk",
        output_format="n-tuple", seed=1, output_teachers=True, show_progress=False, return_statistics=True,
    )  # fmt: skip
    assert mined.dataset.column_names == ["anchor", "positive", "negative_1", "negative_2", "teachers"]
    labels = mined.dataset["teachers"]
    assert all(set(row) <= {"bm25", "random", "fill"} for row in labels)
    assert sum(row == ["bm25", "random"] for row in labels) > 50  # bm25's 1st, then random's 1st
    assert mined.config["teacher"]["members"].keys() == {"bm25", "random"}
    st = mined.statistics
    assert st.negatives_per_teacher["bm25"] + st.negatives_per_teacher["random"] == st.negatives_selected


def test_an_ensembles_random_fill_skips_reserve_documents_a_judge_relabeled_or_filtered():
    # Teacher a's reserve is d8, d9 for both anchors (pools.py). A judge relabeled d8 as a positive of q0 and
    # filtered d9 for q1 (say d8 was one of another member's candidates there). Nothing was picked, so fill alone
    # decides, from a's reserve: q0 gets d9 only (kept short), q1 gets d8 only.
    from st_hardneg.ensembles.base import EnsembleInput
    from st_hardneg.pool.statistics import SelectionStatistics
    from st_hardneg.relabel.judgments import FILTERED, RELABELED
    from st_hardneg.settings import SelectionSettings

    pool = two_teacher_pool()
    marks = {(0, 8): RELABELED, (1, 9): FILTERED}

    def judged(queries, candidates):
        return np.array(
            [[marks.get((int(q), int(d)), -1) for d in row] for q, row in zip(queries, candidates)], dtype=np.int8
        )

    def fill(judgments):
        inp = EnsembleInput(
            teachers=[pool.teachers["a"], pool.teachers["b"]],
            row_query=np.array([0, 1]),
            row_positive=np.array([0, 1]),
            query_keys=np.zeros(2, dtype=np.uint64),
            row_keys=np.zeros(2, dtype=np.uint64),
            settings=SelectionSettings(method="naive-topk", num_negatives=2, output_format="triplet", on_short="fill"),
            show_progress=False,
            judged=judgments,
        )
        empty = np.full((2, 2), -1, dtype=np.int64)
        selected, st = inp.finish(empty, np.zeros((2, 2), dtype=np.uint64), SelectionStatistics(rows_in=2))
        return selected.negatives.tolist(), (st.rows_filled, st.negatives_filled, st.rows_kept_short)

    assert fill(None) == ([[8, 9], [8, 9]], (2, 4, 0))
    assert fill(judged) == ([[9, -1], [8, -1]], (2, 2, 2))
