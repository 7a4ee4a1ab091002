"""Ensembles meet the rest of the pipeline: a relabeled pool keeps its judged passages out of every member's
negatives, and an ensemble's set records its members so that ``mining_config.json`` mines the same rows again and
the dataset card says who chose what."""

from __future__ import annotations

import numpy as np
import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.hub import MinedDatasetCard, MiningConfig
from st_hardneg.relabel import ARHN
from st_hardneg.relabel.judgments import FILTERED, RELABELED
from st_hardneg.teachers import BM25Teacher, RandomTeacher
from tests.relabel.test_mining_config_relabel import OverlapJudge


@pytest.fixture(scope="module")
def data():
    return load_default()


@pytest.fixture(scope="module")
def pool(data):
    pairs, corpus = data
    return CandidatePool.build(
        pairs, [BM25Teacher(), RandomTeacher(seed=5)], corpus=corpus, depth=20, seed=3, show_progress=False
    )


def test_an_ensembles_set_is_mined_again_from_its_recorded_configuration(pool, data):
    pairs, corpus = data
    selection = pool.select(
        "naive-topk", teacher=["bm25", "random"], ensemble="intra_sample", num_negatives=2, seed=7,
        show_progress=False, return_statistics=True,
    )  # fmt: skip
    config = MiningConfig.from_dict(MiningConfig.from_selection(selection, source="default").to_dict())
    members = config.make_teacher()
    assert [type(t) for t in members] == [BM25Teacher, RandomTeacher] and members[1].seed == 5
    again = config.mine(pairs, corpus=corpus, show_progress=False)
    assert again.to_list() == selection.dataset.to_list()
    # the code a card shows builds both members and selects the ensemble by name
    imports, expression = config.teacher_code()
    assert expression == "[BM25Teacher(), RandomTeacher(seed=5)]"
    assert "BM25Teacher" in imports and "RandomTeacher" in imports
    code = config.select_code()
    assert "teacher=('bm25', 'random')" in code and "ensemble='intra_sample'" in code


def test_the_card_of_an_ensemble_names_its_members_and_who_chose_each_negative(pool):
    selection = pool.select(
        "naive-topk", teacher=["bm25", "random"], ensemble="concat", num_negatives=1, show_progress=False,
        return_statistics=True,
    )  # fmt: skip
    st = selection.statistics
    card = str(MinedDatasetCard.from_selection(selection, pool, source="default"))
    assert "concatenation: the union of the teachers' negatives" in card
    assert f"`bm25` {st.negatives_per_teacher['bm25']}, `random` {st.negatives_per_teacher['random']}" in card
    # a concatenation's full row holds one negative per member
    assert "| Negatives per row | 2 |" in card


def test_a_relabeled_pool_keeps_judged_passages_out_of_every_members_negatives(data, tmp_path):
    pairs, corpus = data
    pool = CandidatePool.build(
        pairs, [BM25Teacher(), RandomTeacher(seed=5)], corpus=corpus, depth=20, seed=3, show_progress=False
    )
    judgments = pool.relabel(
        ARHN(OverlapJudge(), mode="both", candidates=5, teacher="bm25", cache_folder=tmp_path), show_progress=False
    )
    excluded = {
        (pool.queries[int(q)].as_py(), pool.corpus[int(d)].as_py())
        for q, d, label in zip(judgments.query, judgments.document, judgments.labels("both"))
        if label in (RELABELED, FILTERED)
    }
    assert excluded, "the scripted judge relabeled or filtered something"
    kw = dict(teacher=["bm25", "random"], num_negatives=3, output_format="triplet", show_progress=False)
    with_judgments = pool.select("naive-topk", ensemble="intra_sample", return_statistics=True, **kw)
    rows = {(r["anchor"], r["negative"]) for r in with_judgments.dataset}
    assert not rows & excluded
    assert with_judgments.statistics.excluded_relabeled + with_judgments.statistics.excluded_filtered > 0
    off = pool.select("naive-topk", ensemble="intra_sample", relabel_mode="off", **kw)
    assert {(r["anchor"], r["negative"]) for r in off} & excluded  # without the judgments they would be there
    with pytest.raises(ValueError, match="relabeled_output='rows' takes one teacher"):
        pool.select("naive-topk", ensemble="intra_sample", relabeled_output="rows", **kw)
    assert np.isfinite(with_judgments.statistics.negative_scores.mean)


def test_deepening_and_sweeps_take_one_teacher_and_say_so_before_any_work(pool):
    with pytest.raises(ValueError, match="on_short='deepen' searches one teacher again"):
        pool.select("topk-percpos:0.95", teacher=["bm25", "random"], ensemble="intra_sample", on_short="deepen")
    with pytest.raises(ValueError, match="a sweep scores one teacher's selections"):
        pool.sweep(["naive-topk"], teacher=["bm25", "random"], ensemble="concat", show_progress=False)
    # one teacher of the same pool deepens and sweeps as usual
    deep = pool.select("topk-percpos:0.95", teacher="bm25", on_short="deepen", show_progress=False,
                       return_statistics=True)  # fmt: skip
    assert deep.statistics.rows_short > 0 and deep.statistics.rows_deepened == deep.statistics.rows_short
    assert pool.sweep(["naive-topk", "topk-percpos:0.95"], teacher="bm25", show_progress=False).rows
