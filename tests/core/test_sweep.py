"""``pool.sweep``: every configuration selected from one pool and scored with ECI before training.

The hand-worked values use the two-anchor pool of ``test_deepening`` (:class:`MatrixTeacher` scores): with Naive
Top-K and one negative, ``q0`` (positive 0.8) gets ``d1`` (0.9) and ``q1`` (positive 0.9) gets ``d0`` (0.5), so
``S_n = (0.9 + 0.5) / 2 = 0.7`` and the Max-Margin is ``((0.8 - 0.9) + (0.9 - 0.5)) / 2 = 0.15``;
ECI (Eq. 10) ``= ln 2 * 2 * 0.7 * 0.15 / (0.7 + 0.15)``. TopK-PercPos 95% with deepening gives ``q0`` ``d4`` (0.7):
``S_n = 0.6``, Max-Margin ``(0.1 + 0.4) / 2 = 0.25``.
"""

from __future__ import annotations

import inspect
import json
import math

import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.eci import ECISettings, compute_eci
from st_hardneg.select.sweep import COLUMNS, DEFAULT_RANK_BY, Sweep
from tests.core.matrix_teacher import MatrixTeacher
from tests.core.test_deepening import DOCS, Q0, Q1, build


def eci(signal: float, margin: float, n: float = 1.0) -> float:
    return math.log1p(n) * 2 * signal * margin / (signal + margin)


@pytest.fixture(scope="module")
def default_pool():
    pairs, corpus = load_default()
    return CandidatePool.build(pairs, "bm25", corpus=corpus, depth=12, seed=3, show_progress=False)


def test_hand_worked_eci_and_ranking():
    pool, _ = build()
    sweep = pool.sweep(["naive-topk", "topk-percpos:0.95"], [1], on_short="deepen", show_progress=False)
    by_method = {row["method"]: row for row in sweep.rows}
    naive, percpos = by_method["naive-topk"], by_method["topk-percpos:0.95"]
    assert naive["signal"] == pytest.approx(0.7) and naive["max_margin"] == pytest.approx(0.15)
    assert naive["eci"] == pytest.approx(eci(0.7, 0.15), rel=1e-6)
    assert percpos["signal"] == pytest.approx(0.6) and percpos["max_margin"] == pytest.approx(0.25)
    assert percpos["eci"] == pytest.approx(eci(0.6, 0.25), rel=1e-6)
    assert percpos["rows_deepened"] == 1 and naive["rows_deepened"] == 0
    # by S_n, the default (benchmarks/REPORT.md section 7), the harder set comes first
    assert sweep.rank_by == "signal" == DEFAULT_RANK_BY
    assert [r["method"] for r in sweep.rows] == ["naive-topk", "topk-percpos:0.95"]
    by_eci = pool.sweep(["naive-topk", "topk-percpos:0.95"], [1], on_short="deepen", rank_by="eci")
    assert [r["method"] for r in by_eci.rows] == ["topk-percpos:0.95", "naive-topk"]
    assert by_eci.best().method.spec == "topk-percpos:0.95" and by_eci.best().on_short == "deepen"
    assert inspect.signature(CandidatePool.sweep).parameters["rank_by"].default is None  # S_n, or ndcg@10 by training


def test_the_positive_is_scored_by_the_teacher_even_when_the_bound_uses_the_lowest_positive():
    """q0 has two positives, d0 (0.8) and d3 (0.79): positive_score="min" compares with 0.79, but MaxSim_p is the
    best positive's own score, 0.8, so the set's figures are those of the module docstring."""
    teacher = MatrixTeacher({"q0": Q0, "q1": Q1})
    pairs = {"anchor": ["q0", "q0", "q1"], "positive": ["d0", "d3", "d1"]}
    pool = CandidatePool.build(pairs, teacher, corpus=DOCS, depth=2, show_progress=False)
    row = pool.sweep(["naive-topk"], [1], positive_score="min", show_progress=False).rows[0]
    assert row["signal"] == pytest.approx(0.7) and row["max_margin"] == pytest.approx(0.15)


@pytest.mark.parametrize("on_short", ["fill", "deepen", "drop"])
def test_sweep_figures_are_compute_eci_of_the_selected_datasets(default_pool, on_short):
    sweep = default_pool.sweep(
        ["naive-topk", "topk-percpos:0.95", "topk-marginpos:0.05", "topk-shifted:2"],
        [1, 3],
        ["top", "top1_sampled"],
        on_short=on_short,
        sample_from=5,
        eci_settings=ECISettings(top_n=2),
        show_progress=False,
    )
    assert len(sweep) == 16
    for row, settings in zip(sweep.rows, sweep.settings, strict=True):
        selection = default_pool.select(
            settings.replace(output_scores=True), show_progress=False, return_statistics=True
        )
        report = compute_eci(selection.dataset, top_n=2, show_progress=False)
        assert row["eci"] == pytest.approx(report.eci, abs=1e-9)
        assert row["signal"] == pytest.approx(report.signal, abs=1e-9)
        assert row["max_margin"] == pytest.approx(report.max_margin, abs=1e-9)
        assert row["negatives_per_query"] == pytest.approx(report.num_negatives, abs=1e-9)
        assert row["rows_kept"] == selection.statistics.rows_out
        assert row["rows_filled"] == selection.statistics.rows_filled
        assert row["rows_dropped"] == selection.statistics.rows_dropped
    # S_n compares sets with the same number of negatives: ranked within each count, the counts in order
    assert [row["num_negatives"] for row in sweep.rows] == [1] * 8 + [3] * 8
    for n in (1, 3):
        values = [row["signal"] for row in sweep.rows if row["num_negatives"] == n]
        assert values == sorted(values, reverse=True)


def test_sweeps_are_not_recorded_as_selections(default_pool):
    before = len(default_pool.history)
    default_pool.sweep(["naive-topk"], [1, 2], show_progress=False)
    assert len(default_pool.history) == before


def test_every_configuration_is_checked_before_anything_is_selected():
    pool, teacher = build()
    with pytest.raises(ValueError, match="num_negatives=3 cannot come from 2 reachable candidates"):
        pool.sweep(["naive-topk"], [1, 3], show_progress=False)
    with pytest.raises(ValueError, match="rank_by must be one of"):
        pool.sweep(["naive-topk"], rank_by="ndcg")
    with pytest.raises(ValueError, match="methods is empty"):
        pool.sweep([], [1])
    with pytest.raises(ValueError, match="Unknown mining method"):
        pool.sweep(["topk-nothing"], [1])
    with pytest.raises(TypeError, match="unknown option 'num_negative'"):
        pool.sweep(["naive-topk"], num_negative=2)
    assert len(teacher.calls) == 1  # the build only


def test_the_table_as_data_and_as_json(default_pool, tmp_path):
    sweep = default_pool.sweep(["naive-topk", "topk-percpos:0.95"], [1, 2], show_progress=False)
    frame = sweep.to_pandas()
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 4
    assert sweep.to_dataset().column_names == list(COLUMNS)
    path = tmp_path / "sweep.json"
    sweep.save(path)
    loaded = Sweep.load(path)
    assert loaded.rows == sweep.rows and loaded.settings == sweep.settings and loaded.rank_by == "signal"
    with pytest.raises(FileExistsError, match="overwrite=True"):
        sweep.save(path)
    sweep.save(path, overwrite=True)
    assert json.loads(path.read_text())["rows"][0]["settings"]["method"] == sweep.best(num_negatives=1).method.to_dict()
    lines = sweep.to_markdown().splitlines()
    assert lines[0] == "num_negatives = 1 (ranked by signal within this count)" and "| configuration |" in lines[2]
    assert "num_negatives = 2 (ranked by signal within this count)" in lines
    one = default_pool.sweep(["naive-topk", "topk-percpos:0.95"], [2], show_progress=False)
    assert "| configuration |" in one.to_markdown().splitlines()[0]  # one count: one table


def test_best_is_ready_for_select(default_pool):
    sweep = default_pool.sweep(["topk-percpos:0.9", "topk-marginpos:0.1"], [2], show_progress=False)
    selection = default_pool.select(sweep.best(), show_progress=False, return_statistics=True)
    assert selection.statistics.rows_out == sweep.rows[0]["rows_kept"]


@pytest.mark.slow
def test_a_model_scores_the_sets_as_compute_eci_does(minilm):
    pairs, corpus = load_default()
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=12, seed=3, show_progress=False)
    sweep = pool.sweep(["naive-topk", "topk-shifted:3"], [2], score=minilm, show_progress=False)
    assert sweep.scored_with == "sentence-transformers/all-MiniLM-L6-v2"
    for row, settings in zip(sweep.rows, sweep.settings, strict=True):
        report = compute_eci(pool.select(settings, show_progress=False), minilm, show_progress=False)
        assert row["eci"] == pytest.approx(report.eci, abs=1e-5)
        assert row["signal"] == pytest.approx(report.signal, abs=1e-5)


def test_best_across_several_numbers_of_negatives_asks_for_the_count(default_pool):
    """Issue 17: ``pool.sweep([...], num_negatives=[1, 4]).best()`` picked a configuration with 1 negative because
    ``S_n`` (a mean over the negatives) is highest with the fewest; the teacher's figures compare like with like."""
    sweep = default_pool.sweep(["naive-topk", "topk-percpos:0.95"], num_negatives=[1, 4], show_progress=False)
    assert max(sweep.rows, key=lambda r: r["signal"])["num_negatives"] == 1  # what best() used to pick
    with pytest.raises(ValueError, match=r"num_negatives \[1, 4\]: pass num_negatives= to best\(\).*score='train'"):
        sweep.best()
    for n in (1, 4):
        rows = [r for r in sweep.rows if r["num_negatives"] == n]
        best = sweep.best(num_negatives=n)
        assert best.num_negatives == n and best.method.spec == max(rows, key=lambda r: r["signal"])["method"]
    with pytest.raises(ValueError, match=r"no configuration has num_negatives=2; the sweep has \[1, 4\]"):
        sweep.best(num_negatives=2)
    for rank_by in ("eci", "max_margin"):
        ranked = default_pool.sweep(["naive-topk"], [1, 4], rank_by=rank_by, show_progress=False)
        with pytest.raises(ValueError, match="compares only sets with the same number of negatives"):
            ranked.best()
    # one count: nothing to refuse; |N| itself compares across counts
    assert default_pool.sweep(["naive-topk"], [4], show_progress=False).best().num_negatives == 4
    by_count = default_pool.sweep(["naive-topk"], [1, 4], rank_by="negatives_per_query", show_progress=False)
    assert by_count.best().num_negatives == 4 and not by_count.ranked_within_counts


def test_a_saved_sweep_keeps_the_rule(default_pool, tmp_path):
    sweep = default_pool.sweep(["naive-topk", "topk-percpos:0.95"], num_negatives=[1, 4], show_progress=False)
    sweep.save(tmp_path / "sweep.json")
    loaded = Sweep.load(tmp_path / "sweep.json")
    assert loaded.ranked_within_counts and loaded.best(num_negatives=4) == sweep.best(num_negatives=4)
    with pytest.raises(ValueError, match="pass num_negatives= to best"):
        loaded.best()


def test_a_sweep_reuses_its_own_deeper_search_and_changes_the_pool_only_when_asked():
    """TopK-PercPos 95% with 1 and then 2 negatives: ``q0`` is searched to depth 4, then 8 (test_deepening); the
    second configuration starts from what the first found, so depth 4 is searched once."""
    pool, t = build()
    sweep = pool.sweep(["topk-percpos:0.95"], [1, 2], on_short="deepen", show_progress=False)
    assert [k for _, k in t.calls[1:]] == [5, 9]  # depth 4 (+1 positive) for 1 negative; then depth 8 only
    assert pool.teachers["matrix"].extension is None
    assert sweep.deepened["matrix"].searched.tolist() == [8, 2]
    assert pool.keep_deepened(sweep).teachers["matrix"].extension is sweep.deepened["matrix"]
    calls = len(t.calls)
    pool.sweep(["topk-percpos:0.95"], [1, 2], on_short="deepen", show_progress=False)
    assert len(t.calls) == calls  # kept: nothing searched again
