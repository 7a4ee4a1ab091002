"""Search backends: exact search on a torch device (same rows as the brute-force CPU ranking, ties included),
resolution once, and a one-line error for a backend or device that is asked for and missing."""

import numpy as np
import pytest
import torch

from st_hardneg.teachers.base import sort_candidates
from st_hardneg.teachers.search import SearchBackend, block_topk, exact_topk, resolve_backend, search_topk


def numpy_rows(q, c, k):
    """The reference: the full score matrix in numpy, every row sorted by score descending then corpus index."""
    sims = q @ c.T
    idx = np.tile(np.arange(c.shape[0]), (q.shape[0], 1))
    i, s = sort_candidates(idx, sims)
    return i[:, :k], s[:, :k]


def tied_data(seed, nq=37, nc=211, dim=6):
    """Small whole-number embeddings: every score is exact in float32 whatever the summation order, and most
    scores tie with many others (including across the k-th place and across corpus chunks)."""
    g = np.random.default_rng(seed)
    return g.integers(-2, 3, size=(nq, dim)).astype(np.float32), g.integers(-2, 3, size=(nc, dim)).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k,qchunk,cchunk", [(10, 4, 7), (10, 1024, 65536), (25, 5, 30), (100, 8, 64), (300, 16, 50)])
def test_torch_exact_search_gives_the_numpy_rows_with_ties(seed, k, qchunk, cchunk):
    q, c = tied_data(seed)
    want_i, want_s = numpy_rows(q, c, k)
    got_i, got_s = exact_topk(q, c, k, query_chunk_size=qchunk, corpus_chunk_size=cchunk, device="cpu")
    assert got_i.shape == want_i.shape == (len(q), min(k, len(c)))
    assert (got_i == want_i).all()
    assert (got_s == want_s).all()


def test_the_data_really_ties_across_the_kth_place():
    # Guards the test above: with these embeddings, torch.topk alone must face ties at the k-th place.
    q, c = tied_data(0)
    sims = np.sort(q @ c.T, axis=1)[:, ::-1]
    assert ((sims[:, 9] == sims[:, 10]).mean()) > 0.5


def test_block_topk_keeps_the_lowest_columns_among_scores_tied_at_the_kth_place():
    scores = torch.tensor([[1.0, 3.0, 2.0, 2.0, 2.0, 2.0, 0.0]])
    vals, idx = block_topk(scores, 3)
    assert idx.tolist() == [[1, 2, 3]] and vals.tolist() == [[3.0, 2.0, 2.0]]
    vals, idx = block_topk(torch.ones(2, 9), 4)
    assert idx.tolist() == [[0, 1, 2, 3]] * 2


def test_random_float_embeddings_rank_as_numpy():
    g = np.random.default_rng(3)
    q, c = g.normal(size=(40, 32)).astype(np.float32), g.normal(size=(500, 32)).astype(np.float32)
    want_i, want_s = numpy_rows(q, c, 50)
    got_i, got_s = exact_topk(q, c, 50, query_chunk_size=16, corpus_chunk_size=128)
    assert (got_i == want_i).all()
    np.testing.assert_allclose(got_s, want_s, rtol=1e-5, atol=1e-5)


def test_exact_backend_resolves_to_the_given_device():
    assert resolve_backend("exact") == SearchBackend("exact", "exact", "cpu")
    assert resolve_backend("exact", "cpu").describe() == "exact search on cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is visible")
def test_a_cuda_device_without_cuda_is_a_one_line_error():
    with pytest.raises(RuntimeError, match=r"^device 'cuda:0' asked for, but torch sees no CUDA device") as err:
        resolve_backend("exact", "cuda:0")
    assert "\n" not in str(err.value)
    with pytest.raises(RuntimeError, match="sees no CUDA device"):
        exact_topk(np.ones((1, 2), np.float32), np.ones((2, 2), np.float32), 1, device="cuda")


def test_unknown_backend_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"backend must be one of 'exact', 'faiss', 'faiss-cpu', 'faiss-gpu'"):
        resolve_backend("fais")


def test_missing_faiss_is_a_one_line_error_naming_the_extras(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_faiss(name, *args, **kwargs):
        if name == "faiss":
            raise ImportError("No module named 'faiss'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_faiss)
    for backend in ("faiss", "faiss-cpu", "faiss-gpu"):
        with pytest.raises(ImportError) as err:
            resolve_backend(backend)
        message = str(err.value)
        assert message == (
            f'backend={backend!r} needs faiss, which is not installed: pip install "st-hardneg[faiss]" (CPU) or '
            '"st-hardneg[gpu]" (GPU)'
        )


def test_faiss_resolves_to_the_cpu_when_faiss_sees_no_gpu_and_gpu_is_refused():
    faiss = pytest.importorskip("faiss", reason="faiss-cpu not installed")
    if faiss.get_num_gpus() > 0:
        pytest.skip("a GPU is visible")
    assert resolve_backend("faiss").kind == "faiss-cpu"
    assert resolve_backend("faiss-cpu").kind == "faiss-cpu"
    with pytest.raises(RuntimeError, match=r"^backend='faiss-gpu' but faiss sees no GPU") as err:
        resolve_backend("faiss-gpu")
    assert "\n" not in str(err.value)


def test_faiss_rows_equal_exact_rows_on_tie_free_data():
    pytest.importorskip("faiss", reason="faiss-cpu not installed")
    g = np.random.default_rng(4)
    q, c = g.normal(size=(30, 16)).astype(np.float32), g.normal(size=(300, 16)).astype(np.float32)
    a_i, _ = search_topk(q, c, 20, backend="exact")
    b_i, _ = search_topk(q, c, 20, backend=resolve_backend("faiss-cpu"))
    assert (a_i == b_i).all()
