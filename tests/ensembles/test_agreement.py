"""Teacher agreement (NV-Retriever Appendix A): Jaccard similarity of the teachers' top-k negatives, per row and
averaged, on hand-made lists and the two-teacher hand pool; with MiniLM and BM25 on SciFact when present."""

import numpy as np
import pytest

from st_hardneg.ensembles.agreement import jaccard
from tests.ensembles.pools import two_teacher_pool


def test_jaccard_of_hand_made_lists():
    a = np.array([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, -1, -1], [7, -1, -1, -1], [-1, -1, -1, -1]])
    b = np.array([[4, 3, 2, 1], [5, 6, 7, 8], [2, 9, -1, -1], [-1, -1, -1, -1], [-1, -1, -1, -1]])
    # identical sets; disjoint; {1,2} vs {2,9}: 1/3; {7} vs {}: 0; both empty: undefined.
    np.testing.assert_allclose(jaccard(a, b), [1.0, 0.0, 1 / 3, 0.0, np.nan])


def test_pool_agreement_per_row_mean_and_table():
    # TopK-PercPos 95%, top-2: q0 a {d2, d3} vs b {d3, d5}: 1/3; q1 a {d3, d6} vs b {d4, d5}: 0.
    agreement = two_teacher_pool().agreement(k=2)
    np.testing.assert_allclose(agreement.per_row[("a", "b")], [1 / 3, 0.0])
    assert agreement.mean("a", "b") == pytest.approx(1 / 6) and agreement.mean("b", "a") == pytest.approx(1 / 6)
    np.testing.assert_allclose(agreement.matrix(), [[1, 1 / 6], [1 / 6, 1]])
    table = agreement.to_markdown()
    assert "| a | - | 0.167 |" in table and "| b | 0.167 | - |" in table and "top-2 (topk-percpos:0.95)" in table
    # The raw top-2 candidates: q0 1/3 as before; q1 a {d3, d6} vs b {d6, d7}: 1/3.
    naive = two_teacher_pool().agreement(k=2, method="naive-topk")
    assert naive.mean("a", "b") == pytest.approx(1 / 3)
    assert naive.to_dict()["pairs"]["a | b"] == {
        "mean": pytest.approx(1 / 3), "rows": 2, "undefined_rows": 0, "identical_rows": 0, "disjoint_rows": 0,
    }  # fmt: skip


def test_agreement_errors():
    pool = two_teacher_pool()
    with pytest.raises(ValueError, match="two or more teachers"):
        pool.agreement(k=2, teachers=["a"])
    with pytest.raises(TypeError, match="takes teachers= and k="):
        pool.agreement(k=2, teacher="a")
    with pytest.raises(ValueError, match="not in this pool"):
        pool.agreement(k=2, teachers=["a", "z"])


@pytest.mark.slow
@pytest.mark.scifact
def test_minilm_and_bm25_on_scifact_agreement_and_an_ensemble(scifact_dir, minilm):
    """SciFact dev pairs over their positives and 1,000 further abstracts (MiniLM at 128 tokens, to keep the
    encoding under a minute): the agreement table, and an intra-sample selection whose negatives come from both."""
    from st_hardneg import CandidatePool
    from st_hardneg.data import load_pairs
    from st_hardneg.teachers import DenseTeacher

    pairs, corpus = load_pairs(scifact_dir, split="dev")
    positives = set(pairs["positive"])
    corpus = list(dict.fromkeys(list(positives) + [t for t in corpus if t not in positives][:1000]))
    minilm.max_seq_length = 128
    try:
        pool = CandidatePool.build(pairs, [DenseTeacher(minilm, name="minilm"), "bm25"], corpus=corpus, depth=30,
                                   seed=0, show_progress=False)  # fmt: skip
    finally:
        minilm.max_seq_length = 256
    agreement = pool.agreement(k=4)
    mean = agreement.mean("minilm", "bm25")
    values = agreement.per_row[("minilm", "bm25")]
    assert len(values) == len(pairs) and 0.0 < mean < 1.0
    # Two real teachers agree partly (the paper: below 0.3 between strong dense models; lexical vs dense lower).
    assert (values == 0).any() and (values > 0).any()
    print(agreement.to_markdown())
    result = pool.select(ensemble="intra_sample", num_negatives=4, output_format="n-tuple", output_teachers=True,
                         output_scores=True, show_progress=False, return_statistics=True)  # fmt: skip
    ds, st = result.dataset, result.statistics
    assert len(ds) == len(pairs) and {"scores_minilm", "scores_bm25", "teachers"} <= set(ds.column_names)
    assert st.negatives_per_teacher["minilm"] > 0 and st.negatives_per_teacher["bm25"] > 0
    # Soft labels of both teachers for every negative, those outside a teacher's pool scored by it on demand.
    assert not np.isnan(np.array(ds["scores_minilm"])).any() and not np.isnan(np.array(ds["scores_bm25"])).any()
    assert st.pairs_scored_on_demand.get("bm25", 0) + st.pairs_scored_on_demand.get("minilm", 0) > 0
