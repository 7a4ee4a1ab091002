"""ARHN's logic with a scripted judge on a hand-made pool: labels worked out by hand for the three modes, what a
selection does with them, each question asked once, the cache, and the judgments saved with the pool."""

from __future__ import annotations

import json

import numpy as np
import pytest

from st_hardneg import CandidatePool, NaiveTopK, TopKMarginPos, TopKShifted
from st_hardneg.relabel import ARHN
from st_hardneg.relabel.judgments import LABELS
from tests.relabel.conftest import ScriptedJudge

# Labels of the judged candidates (each anchor's top 4; q0's c4 is not judged), from conftest's script:
# q0 ranking c2 p0 c0 p1 c3 c1 -> the reference is p1 (its lowest positive, rank 3): c2, c0 above; c3, c1 below.
# q1 ranking c5 p2 c1 c0, c6 left out -> c5 above; c1 (unreadable answer), c0 (answer) below; c6 unknown.
# q2 ranking failed; answers c2 yes, c7 no, c3 failed.
EXPECTED = {
    "both": {
        ("q0", "c0"): "relabeled", ("q0", "c1"): "negative", ("q0", "c2"): "relabeled", ("q0", "c3"): "filtered",
        ("q1", "c1"): "unparseable", ("q1", "c5"): "relabeled", ("q1", "c6"): "unparseable",
        ("q1", "c0"): "filtered",
        ("q2", "c2"): "failed", ("q2", "c7"): "failed", ("q2", "c3"): "failed",
    },
    "relabel": {
        ("q0", "c0"): "relabeled", ("q0", "c1"): "negative", ("q0", "c2"): "relabeled", ("q0", "c3"): "negative",
        ("q1", "c1"): "negative", ("q1", "c5"): "relabeled", ("q1", "c6"): "unparseable", ("q1", "c0"): "negative",
        ("q2", "c2"): "failed", ("q2", "c7"): "failed", ("q2", "c3"): "failed",
    },
    # filter only: passages above the positive stay negatives; one the judge does not answer from stays a negative
    # even when its rank is unknown (q1 c6, q2 c7); one it answers from, with no rank, is undecided (q2 c2).
    "filter": {
        ("q0", "c0"): "negative", ("q0", "c1"): "negative", ("q0", "c2"): "negative", ("q0", "c3"): "filtered",
        ("q1", "c1"): "unparseable", ("q1", "c5"): "negative", ("q1", "c6"): "negative", ("q1", "c0"): "filtered",
        ("q2", "c2"): "failed", ("q2", "c7"): "negative", ("q2", "c3"): "failed",
    },
}  # fmt: skip
COUNTS = {
    "both": {"negative": 1, "relabeled": 3, "filtered": 2, "unparseable": 2, "failed": 3},
    "relabel": {"negative": 4, "relabeled": 3, "filtered": 0, "unparseable": 1, "failed": 3},
    "filter": {"negative": 6, "relabeled": 0, "filtered": 2, "unparseable": 1, "failed": 2},
}
# Negatives of each row (q0/p0, q0/p1, q1/p2, q2/p3) with NaiveTopK and 2 negatives.
NEGATIVES = {
    "both": [["c1", "c4"], ["c1", "c4"], ["c1", "c6"], ["c2", "c7"]],
    "relabel": [["c1", "c3"], ["c1", "c3"], ["c1", "c6"], ["c2", "c7"]],
    "filter": [["c0", "c1"], ["c0", "c1"], ["c1", "c5"], ["c2", "c7"]],
    "off": [["c0", "c1"], ["c0", "c1"], ["c1", "c5"], ["c2", "c7"]],
}


def labels_by_text(pool, judgments, mode=None):
    rows = judgments.to_dataset(pool, mode).to_list()
    return {(r["query"], r["passage"]): r["label"] for r in rows if not r["is_positive"]}


def negatives(ds):
    return [[row["negative_1"], row["negative_2"]] for row in ds]


@pytest.mark.parametrize("mode", ["both", "relabel", "filter"])
def test_labels_follow_the_paper_in_each_mode(pool, tmp_path, mode):
    judge = ScriptedJudge()
    judgments = pool.relabel(ARHN(judge, mode=mode, candidates=4, cache_folder=tmp_path), show_progress=False)
    assert labels_by_text(pool, judgments) == EXPECTED[mode]
    assert judgments.statistics.by_mode[mode] == COUNTS[mode]
    s = judgments.statistics
    assert (s.relabeled, s.filtered, s.unparseable, s.failed) == tuple(
        COUNTS[mode][k] for k in ("relabeled", "filtered", "unparseable", "failed")
    )
    assert (s.anchors, s.candidates) == (3, 11)
    ds = pool.select(NaiveTopK(), num_negatives=2, output_format="n-tuple", show_progress=False)
    assert negatives(ds) == NEGATIVES[mode]


def test_a_both_run_decides_every_mode_and_selection_can_switch(pool, tmp_path):
    judgments = pool.relabel(ARHN(ScriptedJudge(), candidates=4, cache_folder=tmp_path), show_progress=False)
    assert judgments.statistics.by_mode == COUNTS
    for mode in ("relabel", "filter"):
        assert labels_by_text(pool, judgments, mode) == EXPECTED[mode]
    for mode, expected in NEGATIVES.items():
        result = pool.select(
            NaiveTopK(),
            num_negatives=2,
            output_format="n-tuple",
            relabel_mode=mode,
            show_progress=False,
            return_statistics=True,
        )
        assert negatives(result.dataset) == expected, mode
        assert result.config["settings"]["relabel_mode"] == mode
        assert result.config["relabel"]["mode"] == mode


def test_relabel_mode_asks_no_answers_and_cannot_filter(pool, tmp_path):
    judge = ScriptedJudge()
    judgments = pool.relabel(ARHN(judge, mode="relabel", candidates=4, cache_folder=tmp_path), show_progress=False)
    assert judge.answer_calls == [] and len(judge.rank_calls) == 3
    assert list(judgments.statistics.by_mode) == ["relabel"]
    assert judgments.statistics.answers.total == 0
    with pytest.raises(ValueError, match="did not ask for answer snippets"):
        pool.select(NaiveTopK(), num_negatives=2, output_format="n-tuple", relabel_mode="filter", show_progress=False)


def test_judgments_per_anchor_and_candidate_are_data(pool, tmp_path):
    judgments = pool.relabel(ARHN(ScriptedJudge(), candidates=4, cache_folder=tmp_path), show_progress=False)
    rows = {(r["query"], r["passage"]): r for r in judgments.to_dataset(pool).to_list()}
    assert rows[("q0", "c0")] == {
        "query": "q0", "passage": "c0", "is_positive": False, "position": 0, "rank": 2, "positive_rank": 3,
        "rank_status": "ranked", "answer": "answer", "snippet": "c0 says so", "label": "relabeled",
    }  # fmt: skip
    assert rows[("q0", "p1")]["label"] == "positive" and rows[("q0", "p1")]["rank"] == 3
    assert rows[("q1", "c6")]["rank_status"] == "unranked" and rows[("q1", "c6")]["rank"] == -1
    assert rows[("q1", "c1")]["answer"] == "unparseable"
    assert rows[("q2", "c3")]["answer"] == "failed" and rows[("q2", "c2")]["rank_status"] == "failed"
    assert ("q0", "c4") not in rows  # beyond candidates=4: not judged
    assert len(rows) == 11 + 4  # candidates and the anchors' positives


def test_selection_skips_judged_passages_like_positives(pool, tmp_path):
    pool.relabel(ARHN(ScriptedJudge(), candidates=4, cache_folder=tmp_path), show_progress=False)
    result = pool.select(
        NaiveTopK(), num_negatives=2, output_format="n-tuple", show_progress=False, return_statistics=True
    )
    st = result.statistics
    # per row: q0 rows lose c0, c2 (relabeled) and c3 (filtered); q1 loses c5 and c0; q2 nothing.
    assert (st.excluded_relabeled, st.excluded_filtered) == (2 + 2 + 1, 1 + 1 + 1)
    assert st.candidates_considered == 2 + 2 + 2 + 3
    # TopKShifted(1) skips the first negative that is left, as it would with a positive in the way:
    # q0 [c1, c4] -> c4; q1 [c1, c6] -> c6; q2 [c2, c7, c3] -> c7.
    shifted = pool.select(TopKShifted(1), num_negatives=1, output_format="n-tuple", show_progress=False)
    assert shifted["negative_1"] == ["c4", "c4", "c6", "c7"]


def test_relabeled_positives_as_extra_rows_or_list_entries(pool, tmp_path):
    pool.relabel(ARHN(ScriptedJudge(), candidates=4, cache_folder=tmp_path), show_progress=False)
    result = pool.select(
        NaiveTopK(), num_negatives=2, output_format="n-tuple", relabeled_output="rows", output_scores=True,
        show_progress=False,
        return_statistics=True,
    )  # fmt: skip
    ds = result.dataset
    assert ds["anchor"] == ["q0", "q0", "q1", "q2", "q0", "q0", "q1"]
    assert ds["positive"] == ["p0", "p1", "p2", "p3", "c0", "c2", "c5"]
    assert negatives(ds)[4:] == [["c1", "c4"], ["c1", "c4"], ["c1", "c6"]]
    np.testing.assert_allclose(ds["scores"][4], [0.9, 0.8, 0.5], rtol=1e-6)  # its own teacher score, then negatives
    assert result.statistics.relabeled_rows == 3

    # TopKMarginPos(0): keep candidates scoring at most the positive. The extra row (q0, c0) compares with its own
    # score .9 (c1 .8 and c4 .5 kept) with positive_score="row", with q0's lowest labelled positive .75 (c4 only)
    # with "min"; either way it reports its own score .9.
    for positive_score, expected in (("row", [["c1", 0.8], ["c4", 0.5]]), ("min", [["c4", 0.5]])):
        triplets = pool.select(
            TopKMarginPos(0.0), num_negatives=2, relabeled_output="rows", output_format="triplet",
            positive_score=positive_score, output_scores=True, show_progress=False,
        ).to_list()  # fmt: skip
        extra = [r for r in triplets if r["positive"] == "c0"]
        assert [[r["negative"], round(r["scores"][1], 4)] for r in extra] == expected
        assert all(r["scores"][0] == pytest.approx(0.9) for r in extra)

    listed = pool.select(
        NaiveTopK(), num_negatives=2, output_format="labeled-list", relabeled_output="list", show_progress=False,
        return_statistics=True,
    )  # fmt: skip
    rows = listed.dataset.to_list()
    assert rows[0] == {"anchor": "q0", "positive": ["p0", "c0", "c2", "c1", "c4"], "labels": [1, 1, 1, 0, 0]}
    assert rows[2] == {"anchor": "q1", "positive": ["p2", "c5", "c1", "c6"], "labels": [1, 1, 0, 0]}
    assert rows[3] == {"anchor": "q2", "positive": ["p3", "c2", "c7"], "labels": [1, 0, 0]}
    assert listed.statistics.relabeled_in_lists == 2 + 2 + 1
    with pytest.raises(ValueError, match="labeled-list"):
        pool.select(NaiveTopK(), relabeled_output="list", show_progress=False)


def test_a_pool_without_judgments_refuses_relabel_options(pool):
    with pytest.raises(ValueError, match="no judgments"):
        pool.select(NaiveTopK(), num_negatives=2, output_format="n-tuple", relabel_mode="both", show_progress=False)
    with pytest.raises(ValueError, match="no judgments"):
        pool.select(NaiveTopK(), num_negatives=2, output_format="n-tuple", relabeled_output="rows", show_progress=False)
    result = pool.select(
        NaiveTopK(), num_negatives=2, output_format="n-tuple", show_progress=False, return_statistics=True
    )
    assert "relabel" not in result.config and result.config["settings"]["relabel_mode"] is None


def test_the_ranking_prompt_keeps_the_teachers_order_and_hides_where_the_positives_are(pool, tmp_path):
    judge = ScriptedJudge()
    pool.relabel(ARHN(judge, candidates=4, cache_folder=tmp_path / "a", seed=1), show_progress=False)
    lists = {}
    for query, passages, positives in judge.rank_calls:
        assert {passages[i] for i in positives} == {"q0": {"p0", "p1"}, "q1": {"p2"}, "q2": {"p3"}}[query]
        candidates = [p for i, p in enumerate(passages) if i not in positives]
        assert (
            candidates
            == {"q0": ["c0", "c1", "c2", "c3"], "q1": ["c1", "c5", "c6", "c0"], "q2": ["c2", "c7", "c3"]}[query]
        )
        lists[query] = passages
    again = ScriptedJudge()
    pool.relabel(ARHN(again, candidates=4, cache_folder=tmp_path / "b", seed=1), overwrite=True, show_progress=False)
    assert {q: ps for q, ps, _ in again.rank_calls} == lists  # keyed by seed and anchor: the same questions
    other = ScriptedJudge()
    pool.relabel(ARHN(other, candidates=4, cache_folder=tmp_path / "c", seed=2), overwrite=True, show_progress=False)
    assert {q: ps for q, ps, _ in other.rank_calls} != lists


def test_each_question_is_asked_once_and_a_rerun_asks_only_what_failed(pool, tmp_path):
    judge = ScriptedJudge()
    first = pool.relabel(ARHN(judge, candidates=4, cache_folder=tmp_path, chunk_size=3), show_progress=False)
    expected_pairs = {("q0", f"c{i}") for i in (0, 1, 2, 3)} | {("q1", f"c{i}") for i in (1, 5, 6, 0)}
    expected_pairs |= {("q2", f"c{i}") for i in (2, 7, 3)}
    assert sorted(judge.answer_calls) == sorted(expected_pairs)  # every judged pair once, c4 of q0 never
    assert sorted(q for q, _, _ in judge.rank_calls) == ["q0", "q1", "q2"]
    a, r = first.statistics.answers, first.statistics.rankings
    assert (a.total, a.cached, a.asked, a.failed, a.unparseable) == (11, 0, 11, 1, 1)
    assert (r.total, r.cached, r.asked, r.failed, r.unparseable) == (3, 0, 3, 1, 0)

    rerun = ScriptedJudge()
    second = pool.relabel(ARHN(rerun, candidates=4, cache_folder=tmp_path), overwrite=True, show_progress=False)
    assert rerun.answer_calls == [("q2", "c3")]  # failed replies are not cached; the rest are
    assert [q for q, _, _ in rerun.rank_calls] == ["q2"]
    assert (second.statistics.answers.cached, second.statistics.rankings.cached) == (10, 2)
    assert labels_by_text(pool, second) == labels_by_text(pool, first)

    other_prompts = ScriptedJudge(tag="another judge")  # another fingerprint: nothing comes from the cache
    pool.relabel(ARHN(other_prompts, candidates=4, cache_folder=tmp_path), overwrite=True, show_progress=False)
    assert len(other_prompts.answer_calls) == 11


def test_checks_come_before_any_question(pool, tmp_path):
    judge = ScriptedJudge()
    with pytest.raises(ValueError, match="deeper than the pool"):
        pool.relabel(ARHN(judge, candidates=6, cache_folder=tmp_path), show_progress=False)
    with pytest.raises(ValueError, match="not in this pool"):
        pool.relabel(ARHN(judge, teacher="bm25", cache_folder=tmp_path), show_progress=False)
    with pytest.raises(TypeError, match="must be a st_hardneg.relabel Judge"):
        ARHN(object())
    assert judge.answer_calls == [] and judge.rank_calls == []
    pool.relabel(ARHN(judge, candidates=4, cache_folder=tmp_path), show_progress=False)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        pool.relabel(ARHN(judge, candidates=4, cache_folder=tmp_path), show_progress=False)


def test_a_judge_that_raises_fails_its_questions_and_a_dead_judge_stops_the_run(pool, tmp_path):
    class Broken(ScriptedJudge):
        def answer(self, queries, passages):
            if any(p == "c0" for p in passages):
                raise ConnectionError("server went away")
            return super().answer(queries, passages)

    judgments = pool.relabel(ARHN(Broken(), candidates=4, cache_folder=tmp_path, chunk_size=1), show_progress=False)
    rows = labels_by_text(pool, judgments)
    assert rows[("q0", "c0")] == "relabeled"  # ranked above the positive: decided by the ranking alone
    assert rows[("q1", "c0")] == "failed"  # below the positive, its answer failed: left as it was
    assert judgments.statistics.answers.failed == 2 + 1  # two c0 questions raised, q2 c3 failed as scripted

    class Dead(ScriptedJudge):
        def rank(self, queries, passage_lists, positives=None):
            raise ConnectionError("connection refused")

    with pytest.raises(RuntimeError, match="3 chunks in a row.*cached"):
        pool.relabel(ARHN(Dead(), candidates=4, cache_folder=tmp_path / "dead", chunk_size=1), overwrite=True)
    never_stop = ARHN(Dead(), candidates=4, cache_folder=tmp_path / "dead", chunk_size=1, stop_after_failed_chunks=None)
    judgments = pool.relabel(never_stop, overwrite=True, show_progress=False)
    assert judgments.statistics.rankings.failed == 3 and judgments.counts()["failed"] == 11


def test_judgments_are_saved_and_loaded_with_the_pool(pool, tmp_path):
    judgments = pool.relabel(ARHN(ScriptedJudge(), candidates=4, cache_folder=tmp_path / "cache"), show_progress=False)
    before = pool.select(
        NaiveTopK(),
        num_negatives=2,
        output_format="n-tuple",
        sampling="sampled",
        sample_from=2,
        seed=3,
        show_progress=False,
    )
    pool.save(tmp_path / "pool")
    meta = json.loads((tmp_path / "pool" / "pool.json").read_text())
    assert meta["format_version"] == 4 and meta["judgments"]["mode"] == "both"
    assert meta["judgments"]["config"]["judge"] == {"type": "scripted", "model": "scripted"}
    loaded = CandidatePool.load(tmp_path / "pool")
    assert labels_by_text(loaded, loaded.judgments) == labels_by_text(pool, judgments)
    assert loaded.judgments.statistics.by_mode == COUNTS
    assert loaded.judgments.snippet.to_pylist() == judgments.snippet.to_pylist()
    after = loaded.select(
        NaiveTopK(),
        num_negatives=2,
        output_format="n-tuple",
        sampling="sampled",
        sample_from=2,
        seed=3,
        show_progress=False,
    )
    assert after.to_list() == before.to_list()
    assert pool.take_rows(np.array([0, 2])).select(
        NaiveTopK(), num_negatives=2, output_format="n-tuple", show_progress=False
    )["negative_1"] == [
        "c1",
        "c1",
    ]


def test_older_formats_load_and_take_judgments_in_place(pool, tmp_path):
    from st_hardneg.pool.storage import READABLE_VERSIONS, save_judgments

    assert READABLE_VERSIONS == (1, 2, 3, 4)
    pool.save(tmp_path / "pool")
    meta_path = tmp_path / "pool" / "pool.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = 2  # a pool written before judgments existed
    meta_path.write_text(json.dumps(meta))
    loaded = CandidatePool.load(tmp_path / "pool")
    assert loaded.judgments is None
    loaded.relabel(ARHN(ScriptedJudge(), candidates=4, cache_folder=tmp_path / "cache"), show_progress=False)
    save_judgments(loaded, tmp_path / "pool")
    assert json.loads(meta_path.read_text())["format_version"] == 4
    again = CandidatePool.load(tmp_path / "pool")
    assert labels_by_text(again, again.judgments) == EXPECTED["both"]
    assert not list((tmp_path / "pool").glob(".*.tmp"))


def test_label_names_are_stable():
    assert LABELS == ("negative", "relabeled", "filtered", "unparseable", "failed", "positive")


def test_extra_rows_find_the_teacher_score_with_or_without_the_judged_positions(pool, tmp_path):
    from st_hardneg.keyed_random import salt, text_keys
    from st_hardneg.select.judged import extra_positive_rows

    judgments = pool.relabel(ARHN(ScriptedJudge(), candidates=4, cache_folder=tmp_path), show_progress=False)
    q, d, at = judgments.lookup(len(pool.corpus)).relabeled()
    assert [(pool.queries[int(i)].as_py(), pool.corpus[int(j)].as_py(), int(p)) for i, j, p in zip(q, d, at)] == [
        ("q0", "c0", 0), ("q0", "c2", 2), ("q1", "c5", 1),
    ]  # fmt: skip
    tc = pool.teacher_candidates()
    kw = dict(corpus=pool.corpus, query_keys=text_keys(["q0", "q1", "q2"]), seed=0, row_salt=salt("x"))
    by_position = extra_positive_rows(tc, q, d, positions=at, positive_score="row", **kw)
    searched = extra_positive_rows(tc, q, d, positions=None, positive_score="row", **kw)  # another teacher's way
    np.testing.assert_allclose(by_position.own_scores, [0.9, 0.7, 0.7], rtol=1e-6)
    np.testing.assert_array_equal(by_position.own_scores, searched.own_scores)
    np.testing.assert_array_equal(by_position.row_keys, searched.row_keys)
    missing = extra_positive_rows(tc, q, np.array([1, 1, 1]), positions=None, positive_score="row", **kw)
    np.testing.assert_allclose(missing.own_scores, [0.75, 0.75, 0.95], rtol=1e-6)  # unranked: lowest positive


def test_judgments_apply_to_another_teacher_of_the_pool(pool, tmp_path):
    from dataclasses import replace

    hand = pool.teachers["hand"]
    # "other" ranks the same candidates in reverse (padding kept at the end), with its own scores
    cand = np.array([[8, 7, 6, 5, 4], [4, 10, 9, 5, -1], [7, 11, 6, -1, -1]], dtype=np.int32)
    other = replace(hand, name="other", candidates=cand, scores=hand.scores.copy())
    pool.teachers["other"] = other
    pool.relabel(ARHN(ScriptedJudge(), candidates=4, teacher="hand", cache_folder=tmp_path), show_progress=False)
    ds = pool.select(NaiveTopK(), num_negatives=2, output_format="n-tuple", teacher="other", show_progress=False)
    # q0 under "other": c4 c3 c2 c1 c0 -> c3 filtered, c2 and c0 relabeled -> c4, c1
    # q1: c0 c6 c5 c1 -> c0 filtered, c5 relabeled -> c6, c1; q2: c3 c7 c2 (failed: kept) -> c3, c7
    assert negatives(ds) == [["c4", "c1"], ["c4", "c1"], ["c6", "c1"], ["c3", "c7"]]
    rows = pool.select(NaiveTopK(), num_negatives=2, output_format="n-tuple", teacher="other", relabeled_output="rows",
                       output_scores=True, show_progress=False)  # fmt: skip
    scores = {r["positive"]: r["scores"][0] for r in rows.to_list()[4:]}
    assert scores == pytest.approx({"c0": 0.5, "c2": 0.7, "c5": 0.6})  # "other"'s scores at their places there
