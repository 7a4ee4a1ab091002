"""Mining SciFact's train split (../shared/data/scifact; skipped when absent) with every method.

BM25 is the teacher here (no encoding, seconds); every kept negative's score is recomputed independently with a
fresh bm25s index and checked against its method's bound.
"""

import numpy as np
import pytest

from st_hardneg import CandidatePool, NaiveTopK, TopKAbs, TopKMarginPos, TopKPercPos, TopKShifted
from st_hardneg.data import load_pairs

pytestmark = [pytest.mark.scifact, pytest.mark.slow]


@pytest.fixture(scope="module")
def scifact_pool(scifact_dir):
    pairs, corpus = load_pairs(scifact_dir, split="train")
    return CandidatePool.build(pairs, "bm25", corpus=corpus, depth=50, seed=0, show_progress=False)


@pytest.fixture(scope="module")
def independent_bm25(scifact_pool):
    import bm25s
    from bm25s.tokenization import Tokenizer

    tok = Tokenizer(stopwords="en")
    retriever = bm25s.BM25()
    retriever.index(tok.tokenize(scifact_pool.corpus.to_pylist(), show_progress=False), show_progress=False)
    doc_id = {t: i for i, t in enumerate(scifact_pool.corpus.to_pylist())}

    def score(query, docs):
        ids = tok.tokenize([query], update_vocab=False, show_progress=False)[0]
        return retriever.get_scores(list(map(int, ids)))[[doc_id[d] for d in docs]]

    return score


@pytest.mark.parametrize(
    "method", [NaiveTopK(), TopKShifted(10), TopKAbs(20.0), TopKMarginPos(3.0), TopKPercPos(0.95)], ids=str
)
def test_every_kept_negative_obeys_its_methods_bound(scifact_pool, independent_bm25, method):
    res = scifact_pool.select(
        method,
        num_negatives=4,
        output_format="n-tuple",
        output_scores=True,
        seed=0,
        show_progress=False,
        return_statistics=True,
    )
    ds, st = res.dataset, res.statistics
    assert st.rows_in == 732
    assert st.rows_out + st.rows_dropped == 732
    assert len(ds) == st.rows_out > 600
    check = range(0, len(ds), 7)  # a seventh of the rows, every score recomputed
    for i in check:
        row = ds[i]
        negs = [row[f"negative_{j}"] for j in range(1, 5)]
        scores = independent_bm25(row["anchor"], [row["positive"], *negs])
        np.testing.assert_allclose(scores, row["scores"], rtol=1e-4, atol=1e-4)
        pos, neg = scores[0], scores[1:]
        limit = method.threshold(np.array([pos]))
        if limit is not None:
            assert (neg <= limit[0] + 1e-4).all(), (i, method, pos, neg)
    if isinstance(method, TopKShifted):
        tc = scifact_pool.teachers["bm25"]
        # none of the 10 best-ranked candidates of an anchor is ever used
        top10 = {(int(q), int(d)) for q in range(len(tc.candidates)) for d in tc.candidates[q, :10]}
        corpus_id = {t: i for i, t in enumerate(scifact_pool.corpus.to_pylist())}
        query_id = {t: i for i, t in enumerate(scifact_pool.queries.to_pylist())}
        for row in ds:
            for j in range(1, 5):
                assert (query_id[row["anchor"]], corpus_id[row[f"negative_{j}"]]) not in top10
