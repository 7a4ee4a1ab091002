"""Top-k search over an embedded corpus: exact and chunked (default), or faiss.

The backend is resolved once (:func:`resolve_backend`, as bm25s resolves its own): ``"exact"`` runs on a torch
device (the teacher's: a GPU when the model is on one), ``"faiss"`` on faiss's GPUs when it sees any and on the CPU
otherwise (logged), ``"faiss-cpu"`` on the CPU and ``"faiss-gpu"`` on the GPUs. A backend asked for and not
available raises a one-line error naming what to install; nothing falls back silently to another backend.

Exact search never forms the full queries x corpus matrix: queries go in chunks of ``query_chunk_size`` and the
corpus in chunks of ``corpus_chunk_size``, each block keeping its top-k, merged into a running top-k on the device.
Peak memory is about ``query_chunk_size * corpus_chunk_size`` floats (plus the corpus, kept on a GPU when it fits).
Every backend breaks ties alike: score descending, then corpus index ascending (:func:`sort_candidates`), also
where tied scores straddle the k-th place, so rows never depend on the chunking or the device's top-k kernel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from st_hardneg.teachers.base import sort_candidates
from st_hardneg.teachers.settings import check_backend

logger = logging.getLogger(__name__)

__all__ = ["SearchBackend", "exact_topk", "faiss_topk", "resolve_backend", "resolve_device", "search_topk"]

Backend = Literal["exact", "faiss", "faiss-cpu", "faiss-gpu"]

#: Share of a GPU's free memory the corpus may take to be kept there for the whole search (else it is streamed).
_CORPUS_ON_DEVICE_SHARE = 0.5


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The torch device of exact search: ``None`` is the CPU; a CUDA device that torch cannot see raises (one line)."""
    dev = torch.device("cpu" if device is None else device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device {str(device)!r} asked for, but torch sees no CUDA device (torch {torch.__version__}; "
                "install a CUDA build of torch, or use device='cpu')"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(f"device {str(device)!r} asked for, but torch sees {torch.cuda.device_count()} GPU(s)")
    return dev


@dataclass(frozen=True)
class SearchBackend:
    """A resolved search backend: ``kind`` is ``"exact"``, ``"faiss-cpu"`` or ``"faiss-gpu"``; ``device`` is the torch
    device of exact search (None for faiss). Picklable, so a Ray task can receive it."""

    requested: str
    kind: str
    device: str | None = None

    def describe(self) -> str:
        return f"exact search on {self.device}" if self.kind == "exact" else f"{self.kind} (IndexFlatIP)"

    def search(
        self,
        queries: np.ndarray,
        corpus: np.ndarray,
        k: int,
        *,
        query_chunk_size: int = 1024,
        corpus_chunk_size: int = 65536,
        show_progress: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "exact":
            return exact_topk(
                queries,
                corpus,
                k,
                query_chunk_size=query_chunk_size,
                corpus_chunk_size=corpus_chunk_size,
                show_progress=show_progress,
                device=self.device,
            )
        return faiss_topk(queries, corpus, k, backend=self.kind, show_progress=show_progress)


def resolve_backend(backend: str, device: str | torch.device | None = None) -> SearchBackend:
    """Resolve a backend name once: what runs, where, or a one-line error when it cannot (never a fallback).

    Examples:
        >>> resolve_backend("exact", "cpu")
        SearchBackend(requested='exact', kind='exact', device='cpu')
    """
    check_backend(backend)
    if backend == "exact":
        return SearchBackend("exact", "exact", str(resolve_device(device)))
    faiss = _import_faiss(backend)
    gpus = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
    if backend == "faiss-gpu" and gpus == 0:
        raise RuntimeError(
            "backend='faiss-gpu' but faiss sees no GPU (faiss-cpu is installed, or CUDA is not visible): "
            'pip install "st-hardneg[gpu]" on a machine with a GPU, or use backend="faiss-cpu"'
        )
    kind = "faiss-gpu" if backend == "faiss-gpu" or (backend == "faiss" and gpus > 0) else "faiss-cpu"
    if backend == "faiss":
        logger.info("backend='faiss': searching with %s", f"faiss on {gpus} GPU(s)" if gpus else "faiss on the CPU")
    return SearchBackend(backend, kind)


def _import_faiss(backend: str):
    try:
        import faiss
    except ImportError as exc:
        raise ImportError(
            f'backend={backend!r} needs faiss, which is not installed: pip install "st-hardneg[faiss]" (CPU) or '
            '"st-hardneg[gpu]" (GPU)'
        ) from exc
    return faiss


def search_topk(
    queries: np.ndarray,
    corpus: np.ndarray,
    k: int,
    *,
    backend: Backend | SearchBackend = "exact",
    query_chunk_size: int = 1024,
    corpus_chunk_size: int = 65536,
    show_progress: bool = False,
    device: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Inner-product top-k with the chosen backend (a name, resolved here with :func:`resolve_backend`, or a resolved
    :class:`SearchBackend`); ``device`` is the torch device of exact search (default the CPU)."""
    resolved = backend if isinstance(backend, SearchBackend) else resolve_backend(backend, device)
    return resolved.search(
        queries,
        corpus,
        k,
        query_chunk_size=query_chunk_size,
        corpus_chunk_size=corpus_chunk_size,
        show_progress=show_progress,
    )


def exact_topk(
    queries: np.ndarray,
    corpus: np.ndarray,
    k: int,
    *,
    query_chunk_size: int = 1024,
    corpus_chunk_size: int = 65536,
    show_progress: bool = False,
    device: str | torch.device | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Inner-product top-k of each query row against the corpus rows, on ``device`` (default the CPU): chunked
    matrix products, ``torch.topk`` per block, the running top-k merged on the device.

    Returns:
        ``(indices int64 [q, min(k, n)], scores float32 [q, min(k, n)])``, highest score first, ties by corpus index.
    """
    dev = resolve_device(device)
    n = corpus.shape[0]
    k = min(k, n)
    out_i = np.empty((queries.shape[0], k), dtype=np.int64)
    out_s = np.empty((queries.shape[0], k), dtype=np.float32)
    if k == 0:
        return out_i, out_s
    chunks = [(cs, min(cs + corpus_chunk_size, n)) for cs in range(0, n, corpus_chunk_size)]
    resident = _corpus_on_device(corpus, chunks, dev)
    for qs in tqdm(
        range(0, queries.shape[0], query_chunk_size), desc="Searching", disable=not show_progress, unit="chunk"
    ):
        q = _to_device(queries[qs : qs + query_chunk_size], dev)
        best_s = torch.empty((q.shape[0], 0), dtype=torch.float32, device=dev)
        best_i = torch.empty((q.shape[0], 0), dtype=torch.int64, device=dev)
        for j, (cs, ce) in enumerate(chunks):
            c = resident[j] if resident is not None else _to_device(corpus[cs:ce], dev)
            s, i = block_topk(q @ c.T, min(k, ce - cs))
            best_s, best_i = order_candidates(torch.cat([best_s, s], dim=1), torch.cat([best_i, i + cs], dim=1))
            best_s, best_i = best_s[:, :k], best_i[:, :k]
        out_i[qs : qs + q.shape[0]] = best_i.cpu().numpy()
        out_s[qs : qs + q.shape[0]] = best_s.cpu().numpy()
    return out_i, out_s


def block_topk(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` best columns of each row by (score descending, column ascending), in that order.

    ``torch.topk`` alone picks arbitrarily among scores tied at the k-th place; rows where the tie straddles the
    k-th place keep the lowest columns among the tied ones instead (rare with real embeddings, so the fix costs little).
    """
    vals, idx = torch.topk(scores, k, dim=1)
    kth = vals[:, -1:]
    above = (scores > kth).sum(dim=1)
    tied = (scores == kth).sum(dim=1)
    straddle = (above + tied > k).nonzero().squeeze(1)
    if len(straddle):
        sub, sub_kth = scores[straddle], kth[straddle]
        room = (k - above[straddle]).unsqueeze(1)
        eq = sub == sub_kth
        keep = (sub > sub_kth) | (eq & (eq.cumsum(dim=1, dtype=torch.int32) <= room))
        cols = keep.nonzero()[:, 1].view(len(straddle), k)  # row-major: each row's k kept columns, ascending
        idx = idx.clone()
        vals = vals.clone()
        idx[straddle] = cols
        vals[straddle] = sub.gather(1, cols)
    return order_candidates(vals, idx)


def order_candidates(scores: torch.Tensor, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Order each row by score descending, ties by index ascending: :func:`sort_candidates` on a torch device."""
    by_index = torch.argsort(indices, dim=1, stable=True)
    indices, scores = indices.gather(1, by_index), scores.gather(1, by_index)
    by_score = torch.argsort(scores, dim=1, descending=True, stable=True)
    return scores.gather(1, by_score), indices.gather(1, by_score)


def _to_device(array: np.ndarray, dev: torch.device) -> torch.Tensor:
    array = np.ascontiguousarray(array, dtype=np.float32)
    if not array.flags.writeable:  # a memory-mapped cache: torch wants a writable buffer (nothing writes to it)
        array = array.copy()
    return torch.from_numpy(array).to(dev)


def _corpus_on_device(corpus: np.ndarray, chunks: list[tuple[int, int]], dev: torch.device) -> list | None:
    """The corpus chunks moved to a GPU once for the whole search when they fit in a share of its free memory (else
    None: each chunk is moved for every query chunk). On the CPU the chunks are views, never copies."""
    if dev.type != "cuda":
        return None
    free, _ = torch.cuda.mem_get_info(dev)
    if corpus.shape[0] * corpus.shape[1] * 4 > _CORPUS_ON_DEVICE_SHARE * free:
        logger.info("The corpus does not fit in half the GPU's free memory: streaming its chunks per query chunk")
        return None
    return [_to_device(corpus[cs:ce], dev) for cs, ce in chunks]


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
    insists on a GPU and raises when faiss sees none or moving the index there fails (never a silent fallback);
    ``"faiss-cpu"`` stays on the CPU.
    """
    faiss = _import_faiss(backend)
    kind = resolve_backend(backend).kind
    corpus = np.ascontiguousarray(corpus, dtype=np.float32)
    index = faiss.IndexFlatIP(corpus.shape[1])
    if kind == "faiss-gpu":
        index = faiss.index_cpu_to_all_gpus(index)  # raises on failure; no silent CPU fallback
    index.add(corpus)
    k = min(k, corpus.shape[0])
    out_i = np.empty((queries.shape[0], k), dtype=np.int64)
    out_s = np.empty((queries.shape[0], k), dtype=np.float32)
    for qs in tqdm(range(0, queries.shape[0], query_chunk_size), desc="Searching (faiss)", disable=not show_progress):
        q = np.ascontiguousarray(queries[qs : qs + query_chunk_size], dtype=np.float32)
        s, i = index.search(q, k)
        out_i[qs : qs + len(q)], out_s[qs : qs + len(q)] = sort_candidates(i, s)
    return out_i, out_s
