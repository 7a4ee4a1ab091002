"""Every check that needs no model runs before the teacher is touched: each bad input below raises a
ValueError/TypeError naming the parameter, column or row, while a teacher that counts its calls stays at zero."""

from __future__ import annotations

import pytest
from datasets import Dataset

from st_hardneg import (
    CandidatePool,
    HardNegativeMiner,
    TopKAbs,
    TopKMarginPos,
    TopKPercPos,
    TopKShifted,
    mine_hard_negatives,
)
from st_hardneg.teachers import BM25Teacher, Teacher
from st_hardneg.teachers.base import TeacherIndex, TeacherOutput

PAIRS = {"query": ["alpha one", "beta two", "gamma three"], "answer": ["alpha doc", "beta doc", "gamma doc"]}
CORPUS = ["alpha other", "beta other", "gamma other", "delta", "alpha doc", "beta doc", "gamma doc"]


class CountingTeacher(Teacher):
    """BM25 that counts every call that would cost time on a real model (index builds and runs)."""

    def __init__(self) -> None:
        self.inner = BM25Teacher()
        self.calls = 0

    @property
    def name(self) -> str:
        return "counting"

    def config(self):
        return {"type": "counting"}

    def index(self, corpus, show_progress=True) -> TeacherIndex:
        self.calls += 1
        inner = self.inner.index(corpus, show_progress=False)
        outer = self

        class Index(TeacherIndex):
            def run(self, queries, k, pair_queries, pair_docs, show_progress=True) -> TeacherOutput:
                outer.calls += 1
                return inner.run(queries, k, pair_queries, pair_docs, show_progress=False)

        return Index(corpus)


def mine(dataset=None, corpus=CORPUS, teacher=None, **kwargs):
    return mine_hard_negatives(
        Dataset.from_dict(PAIRS) if dataset is None else dataset,
        teacher or CountingTeacher(),
        corpus=corpus,
        num_negatives=kwargs.pop("num_negatives", 2),
        depth=kwargs.pop("depth", 5),
        show_progress=False,
        **kwargs,
    )


BAD_SETTINGS = [
    ({"num_negatives": 0}, ValueError, "num_negatives must be a whole number >= 1, got 0"),
    ({"num_negatives": 2.5}, TypeError, "num_negatives must be a whole number"),
    ({"method": TopKPercPos}, TypeError, "method"),
    ({"method": "topk-percpos:1.5"}, ValueError, r"fraction in \(0, 1\]"),
    ({"method": "topk-percpos:0"}, ValueError, r"fraction in \(0, 1\]"),
    ({"method": "topk-marginpos:-0.1"}, ValueError, "margin >= 0"),
    ({"method": "topk-shifted:-1"}, ValueError, "n >= 0"),
    ({"method": "topk-perpos:0.95"}, ValueError, "Unknown mining method 'topk-perpos'"),
    ({"method": "topk-percpos:abc"}, ValueError, "percentage must be a number, got 'abc'"),
    ({"sampling": "bogus"}, ValueError, "sampling must be one of 'top', 'sampled', 'top1_sampled', 'simans'; got 'bog"),
    ({"weighting": "flat"}, ValueError, "weighting must be one of"),
    ({"output_format": "ntuple"}, ValueError, "output_format must be one of .* got 'ntuple' \\(did you mean 'n-tuple'"),
    ({"on_short": "pad"}, ValueError, "on_short must be one of"),
    ({"positive_score": "max"}, ValueError, "positive_score must be one of"),
    ({"temperature": 0}, ValueError, "temperature must be > 0"),
    ({"temperature": -1.0}, ValueError, "temperature must be > 0"),
    ({"depth": 0}, ValueError, "depth must be a whole number >= 1"),
    ({"depth": 2, "num_negatives": 3}, ValueError, "num_negatives=3 cannot come from 2 reachable candidates"),
    ({"method": TopKShifted(4), "depth": 5}, ValueError, "cannot come from 1 reachable candidates"),
    ({"num_random": -1}, ValueError, "num_random must be a whole number >= 0"),
    ({"seed": -3}, ValueError, "seed must be a whole number >= 0"),
    (
        {"on_short": "keep", "output_format": "n-tuple"},
        ValueError,
        "on_short='keep' contradicts output_format='n-tuple'",
    ),
    ({"sampling": "sampled", "sample_from": 1}, ValueError, "raise sample_from to at least num_negatives"),
    ({"method": TopKAbs(0.5), "min_score": 0.6}, ValueError, "min_score=0.6 is above"),
    ({"min_score": float("nan")}, ValueError, "min_score must be a finite number"),
    ({"num_negatives_": 2}, TypeError, "unknown option 'num_negatives_'.*did you mean 'num_negatives'"),
    ({"query_prompt": "q: "}, TypeError, "query_prompt belong to the teacher"),
    ({"anchor_column": "question"}, ValueError, "anchor_column='question' is not a column"),
    ({"positive_column": "query", "anchor_column": "query"}, ValueError, "must differ"),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), BAD_SETTINGS, ids=lambda v: str(v)[:40])
def test_bad_settings_fail_before_the_teacher_is_called(kwargs, error, match):
    teacher = CountingTeacher()
    with pytest.raises(error, match=match):
        mine(teacher=teacher, **kwargs)
    assert teacher.calls == 0


BAD_DATA = [
    ({"query": ["a", None, "c"], "answer": ["x", "y", "z"]}, CORPUS, TypeError, "data row 2: the anchor"),
    ({"query": ["a", "b", "c"], "answer": ["x", "", "z"]}, CORPUS, ValueError, "data row 2: the positive"),
    ({"query": ["a", "b", 3], "answer": ["x", "y", "z"]}, CORPUS, TypeError, "row 3: the anchor .* must be a string"),
    ({"query": ["a", "  ", "c"], "answer": ["x", "y", "z"]}, CORPUS, ValueError, "data row 2: the anchor"),
    ({"query": [], "answer": []}, CORPUS, ValueError, "no rows"),
    ({"query": ["a", "b"], "answer": ["x"]}, CORPUS, ValueError, "differ in length"),
    ({"query": ["a"]}, CORPUS, ValueError, "needs an anchor and a positive column"),
    (PAIRS, ["doc", None], TypeError, r"corpus\[1\]"),
    (PAIRS, ["doc", ""], ValueError, r"corpus\[1\]"),
    (PAIRS, [], ValueError, "corpus is empty"),
    # {id: text} is a corpus (issue 18): its texts are checked like any other
    (PAIRS, {"d1": "alpha doc", "d2": " "}, ValueError, r"corpus\[1\]"),
    (PAIRS, "alpha doc", TypeError, "corpus is a single string"),
    ("not a dataset", CORPUS, TypeError, "dataset must be a datasets.Dataset or a dict of columns"),
]


@pytest.mark.parametrize(("data", "corpus", "error", "match"), BAD_DATA, ids=lambda v: str(v)[:40])
def test_bad_data_fails_before_the_teacher_is_called(data, corpus, error, match):
    teacher = CountingTeacher()
    dataset = data if isinstance(data, str) else dict(data)
    with pytest.raises(error, match=match):
        mine(dataset=dataset, corpus=corpus, teacher=teacher)
    assert teacher.calls == 0


def test_the_same_checks_guard_the_pool_and_the_miner():
    teacher = CountingTeacher()
    with pytest.raises(ValueError, match="data row 1: the positive"):
        CandidatePool.build({"q": ["a"], "d": [" "]}, teacher, show_progress=False)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        HardNegativeMiner(teacher, CORPUS, temperature=0)
    with pytest.raises(ValueError, match=r"corpus\[0\]"):
        HardNegativeMiner(teacher, {"d": ""})
    with pytest.raises(ValueError, match="raise depth"):
        HardNegativeMiner(teacher, CORPUS, depth=3, num_negatives=4)
    miner = HardNegativeMiner(teacher, CORPUS, num_negatives=2, depth=5)
    with pytest.raises(ValueError, match="data row 2: the anchor"):
        miner({"query": ["alpha one", ""], "answer": ["alpha doc", "beta doc"]})
    assert teacher.calls == 0


def test_a_model_name_is_not_loaded_before_the_checks(monkeypatch):
    import st_hardneg.teachers.dense as dense

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded before the inputs were checked")

    monkeypatch.setattr(dense, "load_sentence_transformer", no_loading)
    with pytest.raises(ValueError, match="data row 1: the anchor"):
        mine_hard_negatives({"a": [""], "p": ["x"]}, "some/model-name", show_progress=False)
    with pytest.raises(ValueError, match="backend must be one of"):
        dense.DenseTeacher("some/model-name", backend="faiss-gpu2")
    with pytest.raises(ValueError, match="query_prompt or query_prompt_name, not both"):
        dense.DenseTeacher("some/model-name", query_prompt="q: ", query_prompt_name="query")


def test_a_loaded_pool_refuses_another_dataset_or_corpus(tmp_path):
    teacher = CountingTeacher()
    pool = CandidatePool.build(Dataset.from_dict(PAIRS), teacher, corpus=CORPUS, depth=4, show_progress=False)
    pool.save(tmp_path / "pool")
    calls = teacher.calls
    CandidatePool.load(tmp_path / "pool", dataset=Dataset.from_dict(PAIRS), corpus=CORPUS)  # the same: fine
    other = dict(PAIRS, answer=["alpha doc", "beta doc", "delta"])
    with pytest.raises(ValueError, match="built on another dataset"):
        CandidatePool.load(tmp_path / "pool", dataset=other)
    with pytest.raises(ValueError, match="built on another corpus"):
        CandidatePool.load(tmp_path / "pool", corpus=[*CORPUS, "epsilon"])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        pool.save(tmp_path / "pool")
    pool.save(tmp_path / "pool", overwrite=True)
    assert teacher.calls == calls


def test_overwrite_never_deletes_a_folder_that_is_not_a_pool(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    pool = CandidatePool.build(Dataset.from_dict(PAIRS), "bm25", corpus=CORPUS, depth=4, show_progress=False)
    with pytest.raises(FileExistsError, match="does not hold a candidate pool"):
        pool.save(tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"


def test_an_absolute_threshold_on_bm25_scores_is_flagged_with_the_numbers(caplog):
    from st_hardneg.data import load_default

    pairs, corpus = load_default()
    result = mine_hard_negatives(
        pairs, "bm25", corpus=corpus, method=TopKAbs(0.7), show_progress=False, return_statistics=True
    )
    st = result.statistics
    assert len(st.warnings) == 1
    message = st.warnings[0]
    assert "TopKAbs(max_score=0.7) compares raw scores with 0.7, a cosine-scale threshold" in message
    assert f"{st.removed_by_method} of {st.candidates_considered} candidates removed" in message
    assert message in caplog.text
    # and a positive-aware method on the same scores is not flagged
    fine = mine_hard_negatives(pairs, "bm25", corpus=corpus, show_progress=False, return_statistics=True)
    assert fine.statistics.warnings == []


def test_a_method_that_removes_nearly_everything_is_flagged():
    pairs = Dataset.from_dict(PAIRS)
    result = mine_hard_negatives(
        pairs,
        "bm25",
        corpus=CORPUS,
        method=TopKMarginPos(100.0),
        num_negatives=1,
        depth=5,
        show_progress=False,
        return_statistics=True,
    )
    st = result.statistics
    assert st.removed_by_method == st.candidates_considered > 0
    assert st.warnings and f"removed {st.removed_by_method} of {st.candidates_considered} candidates" in st.warnings[0]
