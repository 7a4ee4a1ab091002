"""``on_short="deepen"``: short rows get the hardest documents within the bound from a deeper search of their own
anchor; ``pool.keep_deepened(result)`` keeps the deeper candidates in the pool (and its saved folder), selecting alone
does not change the pool; a loaded pool needs its teacher again.

The pool below is small enough to work out every expected negative by hand (:class:`MatrixTeacher` scores are a
table). Two anchors, ten documents ``d0``..``d9``, depth 2:

- ``q0`` (positive ``d0``, score 0.8) ranks ``d1`` .9, ``d2`` .85, ``d0`` .8, ``d3`` .79, ``d4`` .7, ``d5`` .6,
  ``d6`` .5, ... so its pool candidates are ``[d1, d2]``. TopK-PercPos 95% allows scores <= 0.76: neither survives.
  Searched to depth 4 (``d1 d2 d3 d4``) its hardest document within the bound is ``d4`` (.7); to depth 8, ``d4``
  then ``d5`` (.6).
- ``q1`` (positive ``d1``, .9) has candidates ``[d0, d2]`` (.5, .4), both within its bound 0.855: never short.
"""

from __future__ import annotations

import numpy as np
import pytest

from st_hardneg import CandidatePool
from st_hardneg.pool.candidates import CandidateExtension
from st_hardneg.select.deepening import deepening_levels
from st_hardneg.settings import SelectionSettings
from tests.core.matrix_teacher import MatrixTeacher

DOCS = [f"d{i}" for i in range(10)]
Q0 = dict(zip(DOCS, [0.8, 0.9, 0.85, 0.79, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]))
Q1 = dict(zip(DOCS, [0.5, 0.9, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.01]))
PAIRS = {"anchor": ["q0", "q1"], "positive": ["d0", "d1"]}


def teacher() -> MatrixTeacher:
    return MatrixTeacher({"q0": Q0, "q1": Q1})


def build(t: MatrixTeacher | None = None) -> tuple[CandidatePool, MatrixTeacher]:
    t = t or teacher()
    pool = CandidatePool.build(PAIRS, t, corpus=DOCS, depth=2, num_random=8, seed=0, show_progress=False)
    return pool, t


def select(pool, **kwargs):
    kwargs = {
        "method": "topk-percpos:0.95",
        "num_negatives": 1,
        "output_format": "n-tuple",
        "on_short": "deepen",
        **kwargs,
    }
    return pool.select(show_progress=False, return_statistics=True, **kwargs)


def test_a_short_row_gets_the_hardest_document_within_the_bound_from_a_deeper_search():
    pool, t = build()
    assert pool.teachers["matrix"].candidates.tolist() == [[1, 2], [0, 2]]
    result = select(pool)
    assert result.dataset.to_list() == [
        {"anchor": "q0", "positive": "d0", "negative_1": "d4"},
        {"anchor": "q1", "positive": "d1", "negative_1": "d0"},
    ]
    s = result.statistics
    assert (s.rows_short, s.rows_deepened, s.negatives_deepened, s.rows_filled) == (1, 1, 1, 0)
    assert s.deepened_depths == {"4": 1} and s.anchors_searched == 1
    # only the short row's anchor was searched again, to depth 4 plus its one positive
    assert t.calls[-1] == (["q0"], 5)


def test_depth_doubles_until_the_row_has_its_negatives():
    pool, t = build()
    result = select(pool, num_negatives=2)
    assert result.dataset[0] == {"anchor": "q0", "positive": "d0", "negative_1": "d4", "negative_2": "d5"}
    assert result.statistics.deepened_depths == {"8": 1}
    assert [k for _, k in t.calls[1:]] == [5, 9]  # depth 4, then 8 (+1 positive)
    assert deepening_levels(2, 10) == [4, 8, 10]


def test_selecting_does_not_change_the_pool_and_keeps_nothing_unless_asked():
    pool, t = build()
    first = select(pool, num_negatives=2)
    assert pool.teachers["matrix"].extension is None
    assert first.deepened["matrix"].searched.tolist() == [8, 2]  # q0 searched to depth 8; q1 never searched
    calls = len(t.calls)
    again = select(pool, num_negatives=2)
    assert len(t.calls) == calls + 2  # searched again: depth 4, then 8
    assert again.dataset.to_list() == first.dataset.to_list()
    assert pool.teachers["matrix"].extension is None
    with pytest.raises(TypeError, match="takes a Selection or a Sweep"):
        pool.keep_deepened(first.dataset)
    dataset, statistics, settings, context = first  # still the four fields a Selection had
    assert dataset is first.dataset and settings.on_short == "deepen"
    assert select(pool, method="naive-topk").deepened == {}  # nothing searched: nothing to keep


def test_deeper_candidates_are_reused_and_nothing_is_searched_twice():
    pool, t = build()
    first = select(pool, num_negatives=2)
    assert pool.keep_deepened(first) is pool
    calls = len(t.calls)
    again = select(pool, num_negatives=2)
    fewer = select(pool, num_negatives=1)  # depth 4 is within what was already searched
    assert len(t.calls) == calls
    assert again.statistics.anchors_searched == 0 and fewer.statistics.anchors_searched == 0
    assert again.dataset.to_list() == first.dataset.to_list()
    # a row selects at its own depth (4), whatever depth its anchor was searched to before
    assert fewer.statistics.deepened_depths == {"4": 1} and fewer.dataset[0]["negative_1"] == "d4"


def test_random_fill_stays_the_last_resort_and_never_repeats_a_negative():
    pool, _ = build()
    result = select(pool, num_negatives=2, max_depth=4)
    row = result.dataset[0]
    assert row["negative_1"] == "d4"  # the deeper search found one document within the bound
    assert row["negative_2"] in {"d5", "d6", "d7", "d8", "d9"}  # a random one within the bound, not d4 again
    s = result.statistics
    assert (s.rows_deepened, s.negatives_deepened, s.rows_filled, s.negatives_filled) == (1, 1, 1, 1)
    assert s.deepened_depths == {"4": 1}


def test_statistics_add_up():
    pool, _ = build()
    for n in (1, 2, 3):
        result = select(pool, num_negatives=n, max_depth=4)
        s = result.statistics
        written = sum(
            value is not None for row in result.dataset.to_list() for key, value in row.items() if "neg" in key
        )
        assert written == s.negatives_selected + s.negatives_deepened + s.negatives_filled
        assert s.not_selected == s.survivors - s.negatives_selected


def test_a_row_never_short_is_not_deepened_and_rows_match_fill_there():
    pool, _ = build()
    deepened = select(pool, method="naive-topk")
    filled = select(pool, method="naive-topk", on_short="fill")
    assert deepened.dataset.to_list() == filled.dataset.to_list()
    assert deepened.statistics.rows_deepened == 0 and deepened.statistics.anchors_searched == 0


def saved_pool_searched_to_depth_4(path):
    """Save a pool whose short rows were searched to depth 4 only, at ``path``; return the rows a fresh pool selects
    with 1 and 2 negatives (the second needs a deeper search)."""
    pool, _ = build()
    reference = {n: select(pool, num_negatives=n).dataset.to_list() for n in (1, 2)}
    small, _ = build()
    small.keep_deepened(select(small))  # searched to depth 4 only
    small.save(path)
    return reference


def test_a_saved_pool_keeps_its_deeper_candidates_and_asks_for_its_teacher(tmp_path):
    reference = saved_pool_searched_to_depth_4(tmp_path / "pool")
    loaded = CandidatePool.load(tmp_path / "pool")
    assert loaded.teachers["matrix"].extension.searched.tolist() == [4, 2]
    assert select(loaded).dataset.to_list() == reference[1]  # depth 4 suffices: no teacher needed
    with pytest.raises(ValueError, match=r"search 1 anchors deeper.*attach_teacher"):
        select(loaded, num_negatives=2)
    fresh = teacher()
    loaded.attach_teacher(fresh, show_progress=False)
    assert select(loaded, num_negatives=2).dataset.to_list() == reference[2]
    assert fresh.indexed == 1 and [q for q, _ in fresh.calls] == [["q0"]]


def test_a_pool_loaded_with_its_teacher_indexes_the_corpus_only_when_a_row_must_search_deeper(tmp_path):
    reference = saved_pool_searched_to_depth_4(tmp_path / "pool")
    fresh = teacher()
    loaded = CandidatePool.load(tmp_path / "pool", teachers=[fresh])
    assert select(loaded).dataset.to_list() == reference[1]
    assert fresh.indexed == 0  # depth 4 suffices: nothing indexed
    assert select(loaded, num_negatives=2).dataset.to_list() == reference[2]
    assert fresh.indexed == 1 and [q for q, _ in fresh.calls] == [["q0"]]
    assert select(loaded, num_negatives=2).dataset.to_list() == reference[2]
    assert fresh.indexed == 1  # indexed once, kept


def test_attach_teacher_refuses_another_teacher():
    pool, _ = build()
    with pytest.raises(ValueError, match="'other' is not in this pool"):
        pool.attach_teacher(MatrixTeacher({}, name="other"), show_progress=False)

    class Renamed(MatrixTeacher):
        def config(self):
            return {"type": "other-kind", "name": "matrix"}

    with pytest.raises(ValueError, match="not the one this pool was built with.*type"):
        pool.attach_teacher(Renamed({}), show_progress=False)


def test_settings_of_deepening_are_checked_before_any_work():
    assert SelectionSettings(on_short="deepen", max_depth=500).max_depth == 500
    with pytest.raises(ValueError, match="max_depth=500 applies with on_short='deepen' only"):
        SelectionSettings(on_short="fill", max_depth=500)
    with pytest.raises(ValueError, match="max_depth=2 is not deeper than the pool's depth 2"):
        SelectionSettings(on_short="deepen", max_depth=2).check_depth(2)
    with pytest.raises(ValueError, match="max_depth must be a whole number >= 1"):
        SelectionSettings(on_short="deepen", max_depth=0)
    pool, t = build()
    with pytest.raises(ValueError, match="not deeper than the pool's depth"):
        select(pool, max_depth=2)
    assert len(t.calls) == 1  # the build only


def test_triplets_keep_rows_still_short_after_deepening():
    pool, _ = build()
    result = select(pool, num_negatives=3, max_depth=4, output_format="triplet", positive_score="row")
    q0 = [r["negative"] for r in result.dataset.to_list() if r["anchor"] == "q0"]
    assert q0[0] == "d4" and len(q0) == len(set(q0))


def test_extension_updates_keep_other_anchors():
    ext = CandidateExtension.empty(3, 2)
    ext = ext.updated(np.array([2]), 4, [np.array([7, 8])], [np.array([0.2, 0.1])])
    ext = ext.updated(np.array([0]), 3, [np.array([5])], [np.array([0.3])])
    assert ext.searched.tolist() == [3, 2, 4] and ext.indptr.tolist() == [0, 1, 1, 3]
    base_c = np.array([[1, 2], [3, 4], [5, 6]])
    base_s = np.full((3, 2), 0.9, dtype=np.float32)
    cand, scores = ext.gather(base_c, base_s, np.array([0, 1, 2]), 4)
    assert cand.tolist() == [[1, 2, 5, -1], [3, 4, -1, -1], [5, 6, 7, 8]]
    assert np.isneginf(scores[1, 2:]).all() and scores[2, 3] == np.float32(0.1)


class CountingEncoder:
    """A stand-in bi-encoder (hashed bag of words, normalised) that records what it encodes."""

    similarity_fn_name = "cosine"
    prompts: dict[str, str] = {}

    def __init__(self) -> None:
        self.encoded: list[tuple[str, list[str]]] = []

    def _embed(self, texts) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word)) % 64] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def encode_query(self, texts, **kwargs):
        self.encoded.append(("query", list(texts)))
        return self._embed(list(texts))

    def encode_document(self, texts, **kwargs):
        self.encoded.append(("document", list(texts)))
        return self._embed(list(texts))


def test_dense_deepening_reads_the_cached_anchor_embeddings_and_encodes_nothing_again(tmp_path):
    from st_hardneg.data import load_default
    from st_hardneg.teachers import DenseTeacher

    pairs, corpus = load_default()
    model = CountingEncoder()
    teacher = DenseTeacher(model, cache_folder=tmp_path / "cache", name="hashed")
    pool = CandidatePool.build(pairs, teacher, corpus=corpus, depth=5, seed=0, show_progress=False)
    pool.save(tmp_path / "pool")
    assert [role for role, _ in model.encoded] == ["document", "query"]
    reference = select(pool, num_negatives=4)
    assert reference.statistics.anchors_searched > 0
    assert len(model.encoded) == 2  # the anchors searched again came from the cache

    again = CountingEncoder()
    loaded = CandidatePool.load(tmp_path / "pool")
    loaded.attach_teacher(DenseTeacher(again, cache_folder=tmp_path / "cache", name="hashed"), show_progress=False)
    assert select(loaded, num_negatives=4).dataset.to_list() == reference.dataset.to_list()
    assert again.encoded == []  # corpus and anchors from the cache

    uncached = CountingEncoder()
    plain = CandidatePool.build(pairs, DenseTeacher(uncached, name="hashed"), corpus=corpus, depth=5, seed=0)
    result = select(plain, num_negatives=4)
    searches = uncached.encoded[2:]  # after the build: only the short rows' anchors, one call per depth searched
    assert {role for role, _ in searches} == {"query"}
    searched = {text for _, texts in searches for text in texts}
    assert len(searched) == result.statistics.anchors_searched < len(plain.queries)
    assert result.dataset.to_list() == reference.dataset.to_list()


def test_a_pool_saved_before_deeper_candidates_existed_loads_and_deepens(tmp_path):
    """Format 3 (issue 10's pools, no ``extension_*.npy``) stays readable; saving writes format 4 with them."""
    import json

    pool, _ = build()
    reference = select(pool, num_negatives=2).dataset.to_list()
    old, _ = build()
    old.save(tmp_path / "v3")
    meta_path = tmp_path / "v3" / "pool.json"
    meta = json.loads(meta_path.read_text())
    assert meta["format_version"] == 4
    meta["format_version"] = 3
    meta_path.write_text(json.dumps(meta))
    loaded = CandidatePool.load(tmp_path / "v3")
    assert loaded.teachers["matrix"].extension is None
    loaded.attach_teacher(teacher(), show_progress=False)
    result = select(loaded, num_negatives=2)
    assert result.dataset.to_list() == reference
    loaded.keep_deepened(result)
    loaded.save(tmp_path / "v4")
    assert json.loads((tmp_path / "v4" / "pool.json").read_text())["format_version"] == 4
    assert CandidatePool.load(tmp_path / "v4").teachers["matrix"].extension.searched.tolist() == [8, 2]


def test_a_relabeled_pool_keeps_its_judged_candidates_out_of_deepened_rows():
    """ARHN relabeled ``d0`` as a positive of ``q1`` (ranked above ``q1``'s positive ``d1``). Its pool candidates
    ``[d0, d2]`` then hold one survivor (``d2``), so with 2 negatives the row is short and searched to depth 4
    (``d0 d2 d3 d4``): it gets ``d2`` and ``d3``, never ``d0``. ``q0`` is deepened as without judgments."""
    from st_hardneg.relabel.judgments import Judgments

    pool, _ = build()
    q1 = pool.queries.to_pylist().index("q1")
    doc = {d: i for i, d in enumerate(pool.corpus.to_pylist())}
    pool.judgments = Judgments.from_columns(
        query=[q1, q1, q1],
        document=[doc["d1"], doc["d0"], doc["d2"]],
        is_positive=[True, False, False],
        rank=[1, 0, 2],
        rank_status=["ranked"] * 3,
        answer=["not asked"] * 3,
        snippet=[None] * 3,
        position=[-1, 0, 1],
        mode="relabel",
        config={"teacher": "matrix"},
    )
    result = select(pool, num_negatives=2)
    rows = {r["anchor"]: (r["negative_1"], r["negative_2"]) for r in result.dataset.to_list()}
    assert rows == {"q0": ("d4", "d5"), "q1": ("d2", "d3")}
    s = result.statistics
    assert (s.rows_deepened, s.rows_filled, s.excluded_relabeled) == (2, 0, 1)
    assert s.deepened_depths == {"4": 1, "8": 1}
