"""Top-k search over an embedded corpus: exact and chunked (default), or faiss.

Exact search never forms the full queries x corpus matrix: queries go in chunks of ``query_chunk_size`` and the
corpus in chunks of ``corpus_chunk_size``, each block keeping its top-k, merged into a running top-k. Peak memory is
about ``query_chunk_size * corpus_chunk_size`` floats. The faiss backend (``faiss-cpu``; ``faiss-gpu`` is used when
GPUs are visible) performs the same inner-product search with an exact ``IndexFlatIP`` and gives the same ranking.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from st_hardneg.teachers.base import sort_candidates
from st_hardneg.teachers.settings import check_backend

logger = logging.getLogger(__name__)

Backend = Literal["exact", "faiss", "faiss-cpu", "faiss-gpu"]


def search_topk(
    queries: np.ndarray,
    corpus: np.ndarray,
    k: int,
    *,
    backend: Backend = "exact",
    query_chunk_size: int = 1024,
    corpus_chunk_size: int = 65536,
    show_progress: bool = False,
    device: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Inner-product top-k with the chosen backend (the one place a backend name is dispatched); ``device`` is the
    torch device of exact search (faiss picks its own)."""
    check_backend(backend)
    if backend == "exact":
        return exact_topk(
            queries,
            corpus,
            k,
            query_chunk_size=query_chunk_size,
            corpus_chunk_size=corpus_chunk_size,
            show_progress=show_progress,
            device=device,
        )
    return faiss_topk(queries, corpus, k, backend=backend, show_progress=show_progress)


def exact_topk(
    queries: np.ndarray,
    corpus: np.ndarray,
    k: int,
    *,
    query_chunk_size: int = 1024,
    corpus_chunk_size: int = 65536,
    show_progress: bool = False,
    device: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Inner-product top-k of each query row against the corpus rows (on ``device``, default the CPU).

    Returns:
        ``(indices int64 [q, min(k, n)], scores float32 [q, min(k, n)])``, highest score first.
    """
    n = corpus.shape[0]
    k = min(k, n)
    out_i = np.empty((queries.shape[0], k), dtype=np.int64)
    out_s = np.empty((queries.shape[0], k), dtype=np.float32)
    if k == 0:
        return out_i, out_s
    for qs in tqdm(
        range(0, queries.shape[0], query_chunk_size), desc="Searching", disable=not show_progress, unit="chunk"
    ):
        q = torch.from_numpy(np.ascontiguousarray(queries[qs : qs + query_chunk_size], dtype=np.float32)).to(device)
        best_i = np.empty((q.shape[0], 0), dtype=np.int64)
        best_s = np.empty((q.shape[0], 0), dtype=np.float32)
        for cs in range(0, n, corpus_chunk_size):
            c = torch.from_numpy(np.ascontiguousarray(corpus[cs : cs + corpus_chunk_size], dtype=np.float32)).to(device)
            s, i = torch.topk(q @ c.T, min(k, c.shape[0]), dim=1)
            # Merge with the running top-k, ties broken by corpus index so results never depend on chunking.
            best_i, best_s = sort_candidates(
                np.concatenate([best_i, i.cpu().numpy() + cs], axis=1),
                np.concatenate([best_s, s.cpu().numpy()], axis=1),
            )
            best_i, best_s = best_i[:, :k], best_s[:, :k]
        out_i[qs : qs + q.shape[0]], out_s[qs : qs + q.shape[0]] = best_i, best_s
    return out_i, out_s


def faiss_topk(
    queries: np.ndarray,
    corpus: np.ndarray,
    k: int,
    *,
    backend: Backend = "faiss",
    show_progress: bool = False,
    query_chunk_size: int = 16384,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top-k with faiss (``IndexFlatIP``).

    ``backend="faiss"`` uses the GPUs when faiss sees any and the CPU otherwise, and logs which; ``"faiss-gpu"``
    insists on a GPU and raises when moving the index there fails (never a silent fallback); ``"faiss-cpu"`` stays
    on the CPU.
    """
    try:
        import faiss
    except ImportError as exc:
        raise ImportError('The faiss backend needs faiss: pip install "st-hardneg[faiss]"') from exc
    corpus = np.ascontiguousarray(corpus, dtype=np.float32)
    index = faiss.IndexFlatIP(corpus.shape[1])
    gpus = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
    if backend == "faiss-gpu" and gpus == 0:
        raise RuntimeError("backend='faiss-gpu' but faiss sees no GPU (is faiss-gpu installed and CUDA visible?)")
    if backend in ("faiss", "faiss-gpu") and gpus > 0:
        index = faiss.index_cpu_to_all_gpus(index)  # raises on failure; no silent CPU fallback
        logger.info("faiss search on %d GPU(s)", gpus)
    else:
        logger.info("faiss search on the CPU")
    index.add(corpus)
    k = min(k, corpus.shape[0])
    out_i = np.empty((queries.shape[0], k), dtype=np.int64)
    out_s = np.empty((queries.shape[0], k), dtype=np.float32)
    for qs in tqdm(range(0, queries.shape[0], query_chunk_size), desc="Searching (faiss)", disable=not show_progress):
        q = np.ascontiguousarray(queries[qs : qs + query_chunk_size], dtype=np.float32)
        s, i = index.search(q, k)
        out_i[qs : qs + len(q)], out_s[qs : qs + len(q)] = sort_candidates(i, s)
    return out_i, out_s
