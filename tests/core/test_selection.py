"""Selection from a hand-made candidate pool: methods, fill/drop/keep, output formats, statistics, scores."""

import numpy as np
import pyarrow as pa
import pytest

from st_hardneg import CandidatePool, NaiveTopK, TopKPercPos, TopKShifted
from st_hardneg.pool import PoolStatistics, TeacherCandidates
from st_hardneg.settings import PoolSettings

NEG = -np.inf


def hand_pool(random_scores=(0.1, NEG, 0.2, 0.95)) -> CandidatePool:
    """Queries q0 (positives d0, d1) and q1 (positive d2); candidates already without positives.

    q0: d3 .9, d4 .7, d5 .5, d6 .3        reserve: d7 (score random_scores[0])
    q1: d3 .85, d5 .6, d7 .4, pad         reserve: d6, d4
    Row positive scores: (q0, d0) .8, (q0, d1) .6, (q1, d2) .9
    """
    tc = TeacherCandidates(
        name="hand",
        config={"type": "hand"},
        candidates=np.array([[3, 4, 5, 6], [3, 5, 7, -1]], dtype=np.int32),
        scores=np.array([[0.9, 0.7, 0.5, 0.3], [0.85, 0.6, 0.4, NEG]], dtype=np.float32),
        positive_scores=np.array([0.8, 0.6, 0.9], dtype=np.float32),
        random_candidates=np.array([[7, -1], [6, 4]], dtype=np.int32),
        random_scores=np.array([random_scores[:2], random_scores[2:]], dtype=np.float32),
        min_positive_scores=np.array([0.6, 0.9], dtype=np.float32),
    )
    return CandidatePool(
        queries=pa.array(["q0", "q1"]),
        corpus=pa.array([f"d{i}" for i in range(8)]),
        row_query=np.array([0, 0, 1]),
        row_positive=np.array([0, 1, 2]),
        positives_indptr=np.array([0, 2, 3]),
        positives_indices=np.array([0, 1, 2]),
        teachers={"hand": tc},
        config={"settings": PoolSettings(depth=4, anchor_column="query", positive_column="answer").to_dict()},
        statistics=PoolStatistics(
            rows=3,
            queries=2,
            corpus_size=8,
            queries_with_several_positives=1,
            added_positives=0,
            duplicate_corpus_texts=0,
        ),
    )


def negatives(ds, n=2):
    return [[row[f"negative_{j}"] for j in range(1, n + 1)] for row in ds]


def test_percpos_top_ntuple_with_fill():
    # thresholds .75 * pos: row0 .6 -> d5, d6; row1 .45 -> d6 only, filled with reserve d7 (.1 <= .45);
    # row2 .675 -> d5, d7.
    result = hand_pool().select(
        TopKPercPos(0.75),
        num_negatives=2,
        output_format="n-tuple",
        seed=0,
        show_progress=False,
        return_statistics=True,
        output_scores=True,
    )
    ds, st = result.dataset, result.statistics
    assert ds.column_names == ["query", "answer", "negative_1", "negative_2", "scores"]
    assert ds["query"] == ["q0", "q0", "q1"] and ds["answer"] == ["d0", "d1", "d2"]
    assert negatives(ds) == [["d5", "d6"], ["d6", "d7"], ["d5", "d7"]]
    np.testing.assert_allclose(ds["scores"], [[0.8, 0.5, 0.3], [0.6, 0.3, 0.1], [0.9, 0.6, 0.4]], rtol=1e-6)
    assert (st.candidates_considered, st.removed_by_method, st.survivors, st.negatives_selected) == (11, 6, 5, 5)
    assert (st.rows_short, st.rows_filled, st.negatives_filled, st.rows_dropped) == (1, 1, 1, 0)
    assert st.positive_scores.count == 3 and st.positive_scores.mean == pytest.approx((0.8 + 0.6 + 0.9) / 3)
    assert st.negative_scores.count == 6 and st.negative_scores.max == pytest.approx(0.6)


def test_fill_respects_the_methods_bound_and_ntuple_drops_what_stays_short():
    # reserve d7 now scores .5 > .45: row1 cannot be filled and the n-tuple drops it.
    res = hand_pool(random_scores=(0.5, NEG, 0.2, 0.95)).select(
        TopKPercPos(0.75), num_negatives=2, output_format="n-tuple", seed=0, show_progress=False, return_statistics=True
    )
    assert negatives(res.dataset) == [["d5", "d6"], ["d5", "d7"]]
    assert (res.statistics.rows_short, res.statistics.rows_filled, res.statistics.rows_dropped) == (1, 0, 1)


def test_on_short_drop_and_keep():
    drop = hand_pool().select(
        TopKPercPos(0.75), num_negatives=2, output_format="n-tuple", on_short="drop", seed=0, show_progress=False
    )
    assert negatives(drop) == [["d5", "d6"], ["d5", "d7"]]
    keep = hand_pool().select(TopKPercPos(0.75), num_negatives=2, output_format="triplet", seed=0, show_progress=False)
    assert keep["negative"] == ["d5", "d6", "d6", "d5", "d7"]  # row1 keeps its one negative
    with pytest.raises(ValueError, match="n-tuple"):
        hand_pool().select(TopKPercPos(0.75), num_negatives=2, output_format="n-tuple", on_short="keep")


def test_min_positive_score_over_the_anchors_positives():
    # q0's lowest positive is .6, so row0's threshold drops to .45 as well.
    ds = hand_pool().select(
        TopKPercPos(0.75), num_negatives=2, output_format="n-tuple", positive_score="min", seed=0, show_progress=False
    )
    assert negatives(ds) == [["d6", "d7"], ["d6", "d7"], ["d5", "d7"]]


def test_shifted_and_naive():
    ntuple = dict(num_negatives=2, output_format="n-tuple", show_progress=False)
    assert negatives(hand_pool().select(NaiveTopK(), **ntuple)) == [["d3", "d4"]] * 2 + [["d3", "d5"]]
    assert negatives(hand_pool().select(TopKShifted(1), **ntuple)) == [["d4", "d5"]] * 2 + [["d5", "d7"]]


def test_labeled_list_and_labeled_pair():
    pool = hand_pool()
    ll = pool.select(TopKPercPos(0.75), num_negatives=2, output_format="labeled-list", seed=0, show_progress=False)
    assert ll.column_names == ["query", "answer", "labels"]
    assert ll["answer"] == [["d0", "d5", "d6"], ["d1", "d6"], ["d2", "d5", "d7"]]
    assert ll["labels"] == [[1, 0, 0], [1, 0], [1, 0, 0]]
    lp = pool.select(
        TopKPercPos(0.75),
        num_negatives=2,
        output_format="labeled-pair",
        seed=0,
        show_progress=False,
        on_short="fill",
        output_scores=True,
    )
    rows = list(zip(lp["query"], lp["answer"], np.round(lp["score"], 3)))
    # q0's shared negative d6 appears once; each row's positive appears with its own score.
    assert rows == [
        ("q0", "d0", 0.8),
        ("q0", "d5", 0.5),
        ("q0", "d6", 0.3),
        ("q0", "d1", 0.6),
        ("q0", "d7", 0.1),
        ("q1", "d2", 0.9),
        ("q1", "d5", 0.6),
        ("q1", "d7", 0.4),
    ]


def test_selection_is_recorded_in_history_with_its_config():
    pool = hand_pool()
    res = pool.select(
        "topk-percpos:0.75",
        num_negatives=2,
        sampling="sampled",
        sample_from=3,
        seed=5,
        show_progress=False,
        return_statistics=True,
    )
    assert res.config["settings"]["method"] == {"name": "topk-percpos", "percentage": 0.75}
    assert res.settings.sampler.to_dict() == {
        "strategy": "sampled",
        "sample_from": 3,
        "weighting": "softmax",
        "temperature": 1.0,
    }
    assert res.config["settings"]["seed"] == 5
    assert pool.history[-1]["config"] == res.config
    assert pool.history[-1]["statistics"]["rows_in"] == 3


def test_min_score_removes_easy_candidates_and_easy_fills():
    # NaiveTopK with min_score .45: q0 keeps d3 .9, d4 .7, d5 .5 (d6 .3 too easy); q1 keeps d3 .85, d5 .6.
    res = hand_pool().select(
        NaiveTopK(),
        num_negatives=3,
        min_score=0.45,
        output_format="triplet",
        show_progress=False,
        return_statistics=True,
        on_short="fill",
    )
    assert res.dataset["negative"] == ["d3", "d4", "d5", "d3", "d4", "d5", "d3", "d5", "d4"]
    # q1 is short by one: its reserve holds d6 (.2, below min_score) and d4 (.95): only d4 may fill it.
    assert (res.statistics.removed_below_min_score, res.statistics.negatives_filled) == (1 + 1 + 1, 1)
    assert res.config["settings"]["min_score"] == 0.45


def test_selection_errors_are_clear():
    with pytest.raises(ValueError, match="reachable"):
        hand_pool().select(TopKShifted(3), num_negatives=2)
    with pytest.raises(ValueError, match="reachable"):
        hand_pool().select(NaiveTopK(), num_negatives=5)
    with pytest.raises(ValueError, match="output_format"):
        hand_pool().select(output_format="pairs")
    with pytest.raises(ValueError, match="not in this pool"):
        hand_pool().select(teacher="bm25")


def test_printing_statistics_gives_a_short_summary_and_keeps_the_data():
    from st_hardneg.pool.statistics import ScoreSummary, SelectionStatistics

    stats = SelectionStatistics(
        rows_in=10, rows_out=8, examples_out=8, candidates_considered=100, removed_by_method=30,
        negatives_selected=20, negatives_deepened=2, negatives_filled=2, rows_short=4, rows_deepened=1,
        rows_filled=1, rows_dropped=2, negative_scores=ScoreSummary.of(np.array([0.2, 0.4, 0.6])),
        positive_scores=ScoreSummary.of(np.array([0.9, 0.7])), warnings=["the threshold is off the scale"],
    )  # fmt: skip
    assert str(stats) == (
        "SelectionStatistics\n"
        "  10 rows in, 8 rows out (8 examples)\n"
        "  rows: 4 short of negatives, 1 filled, 2 dropped, 1 deepened, 0 kept short\n"
        "  negatives: 3.00 per row (20 from the pool, 2 found deeper, 2 random fill); 30 of 100 candidates removed "
        "by the method\n"
        "  scores: mean negative score 0.4, mean positive score 0.8\n"
        "  warnings: 1\n"
        "    - the threshold is off the scale"
    )
    assert "histogram" in repr(stats) and stats.negative_scores.histogram["counts"]  # the full data stays
    assert str(stats.negative_scores) == "mean 0.4 (std 0.2; min 0.2, median 0.4, max 0.6; 3 scores)"


def test_a_real_selections_statistics_print_in_a_few_lines():
    result = hand_pool().select(NaiveTopK(), num_negatives=2, return_statistics=True)
    text = str(result.statistics)
    assert len(text.splitlines()) <= 8 and "3 rows in, 3 rows out" in text and "warnings: none" in text
    assert "2.00 per row" in text
