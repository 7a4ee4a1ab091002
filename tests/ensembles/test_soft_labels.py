"""Soft labels: each negative's score under any teacher of the pool (``output_scores`` with ``score_teachers``),
looked up in the pool, scored by the teacher in memory when it never scored the pair, and a clear error when it
cannot be."""

import numpy as np
import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.teachers import BM25Teacher, RandomTeacher
from tests.ensembles.pools import two_teacher_pool


def test_scores_of_another_teacher_looked_up_in_the_pool():
    # Negatives from b alone (Naive Top-K, 1): q0 d3, q1 d6; a scored both: .8 and .7; positives .95 and .9.
    ds = two_teacher_pool().select(
        "naive-topk", teacher="b", num_negatives=1, output_scores=True, score_teachers=["a"], show_progress=False
    )
    assert ds.column_names[-1] == "scores"  # one score teacher: the column sentence-transformers' losses read
    np.testing.assert_allclose(ds["scores"], [[0.95, 0.8], [0.9, 0.7]], rtol=1e-6)


def test_an_ensembles_members_each_get_a_column_in_every_format():
    # intra_sample, Naive Top-K, 2: q0 [d2 (a), d3 (b)], q1 [d3 (a), d6 (b)]. b never scored (q1, d3): error below;
    # on q0 alone everything is in the pool: a .9/.8, b 6/9.
    pool = two_teacher_pool().take_rows(np.array([0]))
    kw = dict(method="naive-topk", num_negatives=2, ensemble="intra_sample", output_scores=True, show_progress=False)
    ds = pool.select(**kw, output_format="n-tuple")
    assert ds.column_names == ["anchor", "positive", "negative_1", "negative_2", "scores_a", "scores_b"]
    np.testing.assert_allclose(ds["scores_a"], [[0.95, 0.9, 0.8]], rtol=1e-6)
    np.testing.assert_allclose(ds["scores_b"], [[10, 6, 9]], rtol=1e-6)
    triplets = pool.select(**kw, output_format="triplet")
    np.testing.assert_allclose(triplets["scores_b"], [[10, 6], [10, 9]], rtol=1e-6)
    pairs = pool.select(**kw, output_format="labeled-pair")
    assert pairs.column_names == ["anchor", "positive", "score_a", "score_b"]
    np.testing.assert_allclose(pairs["score_a"], [0.95, 0.9, 0.8], rtol=1e-6)
    lists = pool.select(**kw, output_format="labeled-list")
    np.testing.assert_allclose(lists["scores_b"], [[10, 6, 9]], rtol=1e-6)


def test_a_pair_the_teacher_never_scored_is_not_filled_silently():
    with pytest.raises(ValueError, match=r"teacher 'b' never scored 1 of the selected .* not in memory"):
        two_teacher_pool().select(
            "naive-topk", num_negatives=2, ensemble="intra_sample", output_scores=True, show_progress=False
        )


def test_a_teacher_in_memory_scores_the_pairs_it_never_scored():
    # The hand pool's teacher "b" is a RandomTeacher named "b" in memory: (q1, d3) gets its score, counted.
    pool = two_teacher_pool()
    teacher = RandomTeacher(seed=5, name="b")
    pool.teacher_objects["b"] = teacher
    r = pool.select("naive-topk", num_negatives=2, output_format="n-tuple", ensemble="intra_sample",
                    output_scores=True, show_progress=False, return_statistics=True)  # fmt: skip
    expected = teacher.score_pairs(pool.corpus.to_pylist(), ["q0", "q1"], np.array([1]), np.array([3]))[0]
    assert r.dataset["scores_b"][1] == pytest.approx([10, expected, 12])
    assert r.statistics.pairs_scored_on_demand == {"b": 1}


def test_bm25_soft_labels_for_random_negatives_match_an_independent_index(tmp_path):
    pairs, corpus = load_default()
    pool = CandidatePool.build(pairs, ["random", "bm25"], corpus=corpus, depth=5, seed=0, show_progress=False)
    kw = dict(teacher="random", method="naive-topk", num_negatives=3, output_format="n-tuple", output_scores=True)
    kw["score_teachers"] = ["bm25"]
    r = pool.select(**kw, show_progress=False, return_statistics=True)
    assert r.statistics.pairs_scored_on_demand["bm25"] > 0  # random negatives are mostly outside BM25's top 5
    index = BM25Teacher().index(pool.corpus.to_pylist(), show_progress=False)
    queries = pool.queries.to_pylist()
    doc_id = {t: i for i, t in enumerate(pool.corpus.to_pylist())}
    q = np.array([queries.index(a) for a in r.dataset["anchor"] for _ in range(3)])
    d = np.array([doc_id[row[f"negative_{j}"]] for row in r.dataset for j in (1, 2, 3)])
    want = index.run(queries, 1, q, d, show_progress=False).pair_scores.reshape(-1, 3)
    np.testing.assert_allclose(np.array(r.dataset["scores"])[:, 1:], want, rtol=1e-5)
    assert r.config["score_teachers"]["bm25"]["type"] == "bm25"
    # Read back from disk, the pool holds no teacher: a clear error, until the teacher is given again.
    pool.save(tmp_path / "pool")
    with pytest.raises(ValueError, match="pass it to CandidatePool.load"):
        CandidatePool.load(tmp_path / "pool").select(**kw, show_progress=False)
    again = CandidatePool.load(tmp_path / "pool", teachers=["bm25"]).select(**kw, show_progress=False)
    assert again["scores"] == r.dataset["scores"]
    with pytest.raises(ValueError, match="is a random teacher; the pool's 'bm25' was built with a bm25 teacher"):
        CandidatePool.load(tmp_path / "pool", teachers=[RandomTeacher(name="bm25")])


def test_score_teachers_needs_output_scores_and_known_teachers():
    with pytest.raises(ValueError, match="needs output_scores=True"):
        two_teacher_pool().select(teacher="a", score_teachers=["b"])
    with pytest.raises(ValueError, match="not in this pool"):
        two_teacher_pool().select(teacher="a", output_scores=True, score_teachers=["c"], show_progress=False)


def test_relabeled_positives_get_every_score_teachers_soft_label(tmp_path):
    # A judge relabels some of BM25's top candidates as positives. Selected with BM25, their soft labels under the
    # random teacher (which mostly never ranked them) are scored by the random teacher in memory: none is NaN, and
    # each equals the teacher's own score of that (anchor, passage) pair.
    from st_hardneg.relabel import ARHN
    from tests.relabel.test_mining_config_relabel import OverlapJudge

    pairs, corpus = load_default()
    random_teacher = RandomTeacher(seed=5)
    pool = CandidatePool.build(pairs, ["bm25", random_teacher], corpus=corpus, depth=20, seed=3, show_progress=False)
    pool.relabel(
        ARHN(OverlapJudge(), mode="relabel", candidates=5, teacher="bm25", cache_folder=tmp_path), show_progress=False
    )
    kw = dict(teacher="bm25", method="naive-topk", num_negatives=2, output_scores=True, show_progress=False)
    queries, docs = pool.queries.to_pylist(), pool.corpus.to_pylist()
    doc_id = {t: i for i, t in enumerate(docs)}

    def random_scores(anchor, passages):
        q = np.full(len(passages), queries.index(anchor))
        return random_teacher.score_pairs(docs, queries, q, np.array([doc_id[p] for p in passages]))

    listed = pool.select(**kw, output_format="labeled-list", relabeled_output="list", score_teachers=["bm25", "random"],
                         return_statistics=True)  # fmt: skip
    assert listed.statistics.relabeled_in_lists > 0
    rows = listed.dataset.to_list()
    for row in rows:
        assert not np.isnan(row["scores_random"]).any() and not np.isnan(row["scores_bm25"]).any()
        np.testing.assert_allclose(row["scores_random"], random_scores(row["anchor"], row["positive"]), rtol=1e-5)
    assert listed.statistics.pairs_scored_on_demand["random"] > 0
    # extra rows: each added row's positive is a relabeled passage; its random-teacher score is filled too
    extra_rows = pool.select(
        **kw, output_format="n-tuple", relabeled_output="rows", score_teachers=["random"], return_statistics=True
    )
    assert extra_rows.statistics.relabeled_rows > 0
    for row in extra_rows.dataset.to_list():
        passages = [row["positive"], row["negative_1"], row["negative_2"]]
        np.testing.assert_allclose(row["scores"], random_scores(row["anchor"], passages), rtol=1e-5)
