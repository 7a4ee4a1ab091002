"""Teachers: exact chunked search, faiss, dense scores and prompts, the embedding cache, BM25 by hand."""

import math

import numpy as np
import pytest

from st_hardneg.teachers import BM25Teacher, DenseTeacher
from st_hardneg.teachers.search import exact_topk, faiss_topk


def brute_force(q, c, k):
    sims = q @ c.T
    order = np.lexsort((np.tile(np.arange(c.shape[0]), (q.shape[0], 1)), -sims), axis=1)[:, :k]
    return order, np.take_along_axis(sims, order, axis=1)


def test_chunked_exact_search_equals_brute_force():
    g = np.random.default_rng(0)
    q, c = g.normal(size=(23, 8)).astype(np.float32), g.normal(size=(57, 8)).astype(np.float32)
    idx, sc = exact_topk(q, c, 10, query_chunk_size=4, corpus_chunk_size=7)
    want_i, want_s = brute_force(q, c, 10)
    assert (idx == want_i).all()
    np.testing.assert_allclose(sc, want_s, rtol=1e-5, atol=1e-6)


def test_exact_search_with_k_above_corpus_size():
    c = np.eye(3, dtype=np.float32)
    idx, sc = exact_topk(np.array([[0.0, 1.0, 0.5]], np.float32), c, 10)
    assert idx.tolist() == [[1, 2, 0]] and sc.tolist() == [[1.0, 0.5, 0.0]]


def test_ties_are_broken_by_corpus_index():
    c = np.ones((6, 2), dtype=np.float32)
    idx, _ = exact_topk(np.ones((1, 2), np.float32), c, 4, corpus_chunk_size=2)
    assert idx.tolist() == [[0, 1, 2, 3]]


def test_faiss_gives_the_same_ranking_as_exact():
    pytest.importorskip("faiss", reason="faiss-cpu not installed")
    g = np.random.default_rng(1)
    q, c = g.normal(size=(30, 16)).astype(np.float32), g.normal(size=(200, 16)).astype(np.float32)
    a_i, a_s = exact_topk(q, c, 20)
    b_i, b_s = faiss_topk(q, c, 20, backend="faiss-cpu")
    assert (a_i == b_i).all()
    np.testing.assert_allclose(a_s, b_s, rtol=1e-4, atol=1e-5)


def test_faiss_gpu_without_a_gpu_raises_instead_of_falling_back():
    faiss = pytest.importorskip("faiss", reason="faiss-cpu not installed")
    if faiss.get_num_gpus() > 0:
        pytest.skip("a GPU is visible")
    with pytest.raises(RuntimeError, match="no GPU"):
        faiss_topk(np.ones((1, 2), np.float32), np.ones((2, 2), np.float32), 1, backend="faiss-gpu")


DOCS = [
    "Statins lower LDL cholesterol.",
    "The Eiffel Tower is in Paris.",
    "Cholesterol builds plaque in arteries.",
    "Paris is the capital of France.",
    "Aspirin thins the blood.",
]


def cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_dense_scores_are_the_models_cosine_similarities(minilm):
    index = DenseTeacher(minilm).index(DOCS, show_progress=False)
    out = index.run(["what do statins do"], 3, np.array([0, 0]), np.array([1, 4]), show_progress=False)
    q = minilm.encode("what do statins do")
    d = minilm.encode(DOCS)
    want = sorted(range(5), key=lambda i: -cos(q, d[i]))[:3]
    assert out.candidates[0].tolist() == want
    np.testing.assert_allclose(out.scores[0], [cos(q, d[i]) for i in want], atol=1e-5)
    np.testing.assert_allclose(out.pair_scores, [cos(q, d[1]), cos(q, d[4])], atol=1e-5)


def test_dense_prompts_reach_the_encoder(minilm):
    teacher = DenseTeacher(minilm, query_prompt="query: ", corpus_prompt="passage: ")
    out = teacher.index(DOCS, show_progress=False).run(["statins"], 1, np.array([0]), np.array([2]), False)
    q = minilm.encode("query: statins")
    d = minilm.encode("passage: " + DOCS[2])
    assert out.pair_scores[0] == pytest.approx(cos(q, d), abs=1e-5)
    assert teacher.config()["query_prompt"] == "query: "


def test_embedding_cache_is_keyed_by_prompt_and_avoids_re_encoding(minilm, tmp_path):
    first = DenseTeacher(minilm, cache_folder=tmp_path).encode(DOCS, "document", show_progress=False)
    assert len(list(tmp_path.glob("*.npy"))) == 1
    again = DenseTeacher(_NoEncoding(minilm), cache_folder=tmp_path)  # same weights; a cache hit must not encode
    np.testing.assert_array_equal(again.encode(DOCS, "document", show_progress=False), first)
    DenseTeacher(minilm, corpus_prompt="passage: ", cache_folder=tmp_path).encode(DOCS, "document", False)
    DenseTeacher(minilm, cache_folder=tmp_path).encode(DOCS[:2], "document", False)
    assert len(list(tmp_path.glob("*.npy"))) == 3


class _NoEncoding:
    """The model's weights, prompts and card, without the ability to encode."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)

    def encode_document(self, *args, **kwargs):
        raise AssertionError("encoded although the embeddings were cached")

    encode_query = encode_document


def test_bm25_scores_match_lucene_bm25_by_hand():
    # Lucene BM25 (Lucene >= 8, which drops the constant (k1 + 1) numerator), k1=1.5, b=0.75:
    # idf = ln(1 + (N - df + .5) / (df + .5)), tf part = tf / (tf + k1 * (1 - b + b * dl / avgdl));
    # N = 3, avgdl = (2 + 3 + 1) / 3 = 2.
    corpus = ["apple banana", "apple cherry cherry", "durian"]
    idf_cherry = math.log(1 + 2.5 / 1.5)
    idf_apple = math.log(1 + 1.5 / 2.5)

    def tf(tf, dl):
        return tf / (tf + 1.5 * (0.25 + 0.75 * dl / 2))

    index = BM25Teacher().index(corpus, show_progress=False)
    out = index.run(["cherry", "apple"], 3, np.array([1, 1, 0]), np.array([0, 1, 2]), show_progress=False)
    assert out.candidates.tolist() == [[1, -1, -1], [0, 1, -1]]  # no shared term: not a candidate
    np.testing.assert_allclose(out.scores[0, :1], [idf_cherry * tf(2, 3)], rtol=1e-5)
    np.testing.assert_allclose(out.scores[1, :2], [idf_apple * tf(1, 2), idf_apple * tf(1, 3)], rtol=1e-5)
    np.testing.assert_allclose(out.pair_scores, [idf_apple * tf(1, 2), idf_apple * tf(1, 3), 0.0], rtol=1e-5)


# ------------------------------------------------------------------------------------------- random teacher
def test_random_teacher_scores_are_keyed_by_seed_anchor_and_document_text():
    from st_hardneg.teachers import RandomTeacher

    docs = [f"document {i}" for i in range(50)]
    out = (
        RandomTeacher(seed=3)
        .index(docs, show_progress=False)
        .run(["a", "b"], 10, np.array([0, 1]), np.array([7, 7]), show_progress=False)
    )
    assert (np.diff(out.scores, axis=1) <= 0).all() and ((out.scores > 0) & (out.scores < 1)).all()
    # The same scores whatever the corpus order, the batch of anchors or the way they are asked for.
    shuffled = docs[::-1]
    again = (
        RandomTeacher(seed=3)
        .index(shuffled, show_progress=False)
        .run(["b"], 10, np.array([0]), np.array([shuffled.index("document 7")]), show_progress=False)
    )
    assert [shuffled[i] for i in again.candidates[0]] == [docs[i] for i in out.candidates[1]]
    assert again.pair_scores[0] == out.pair_scores[1] != out.pair_scores[0]
    pairs = RandomTeacher(seed=3).score_pairs(docs, ["a", "b"], np.array([0, 1]), np.array([7, 7]))
    np.testing.assert_array_equal(pairs, out.pair_scores)
    other = RandomTeacher(seed=4).index(docs, show_progress=False).run(["a"], 10, np.zeros(0, int), np.zeros(0, int))
    assert other.candidates[0].tolist() != out.candidates[0].tolist()


def test_random_teacher_ranks_uniformly_and_is_a_pool_teacher():
    from st_hardneg import CandidatePool
    from st_hardneg.data import load_default

    pairs, corpus = load_default()
    pool = CandidatePool.build(pairs, "random", corpus=corpus, depth=20, seed=0, show_progress=False)
    tc = pool.teachers["random"]
    # Scores uniform on (0, 1): the positives' mean near .5; each anchor's top 20 of ~160 near the top.
    assert abs(float(np.mean(tc.positive_scores)) - 0.5) < 0.1
    assert float(tc.scores[:, -1].mean()) > 0.8
    counts = np.bincount(tc.candidates.ravel(), minlength=len(pool.corpus))
    assert counts.max() < 0.5 * len(pool.queries)  # no document is everyone's candidate
    assert pool.config["teachers"]["random"] == {"type": "random", "name": "random", "seed": 0}
