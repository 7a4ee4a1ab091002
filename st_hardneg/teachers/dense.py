"""Dense teacher: a sentence-transformers bi-encoder.

Anchors are encoded with :meth:`SentenceTransformer.encode_query` and documents with ``encode_document`` (so the
model's own "query"/"document" prompts apply), or with the ``query_prompt`` / ``corpus_prompt`` given here (e.g.
``"Instruct: Given a claim, retrieve evidence\\nQuery: "``). Scores follow the model's similarity function: cosine
and dot product search by inner product (exact chunked search, or faiss); other similarity functions use exact
search through ``model.similarity``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from st_hardneg.teachers.base import Teacher, TeacherIndex, TeacherOutput, pad_topk
from st_hardneg.teachers.cache import EmbeddingCache, model_fingerprint, texts_digest
from st_hardneg.teachers.search import Backend, exact_topk, faiss_topk

logger = logging.getLogger(__name__)


class DenseTeacher(Teacher):
    """Mine with a :class:`~sentence_transformers.SentenceTransformer`.

    Args:
        model: a SentenceTransformer, or a name/path to load one.
        query_prompt / query_prompt_name: prompt for anchors (text, or a name from ``model.prompts``).
        corpus_prompt / corpus_prompt_name: prompt for documents.
        batch_size: encoding batch size.
        backend: ``"exact"`` (chunked torch search, default), ``"faiss"`` (GPU when visible), ``"faiss-cpu"`` or
            ``"faiss-gpu"`` (raises without a GPU).
        query_chunk_size / corpus_chunk_size: exact search block; memory is bounded by their product.
        cache_folder: where to cache embeddings (keyed by model, prompt and texts); None disables caching.
        name: the teacher's key in a pool; defaults to the model's name.

    Examples:
        >>> teacher = DenseTeacher(model, query_prompt="query: ", corpus_prompt="passage: ")  # doctest: +SKIP
    """

    def __init__(
        self,
        model: Any,
        *,
        query_prompt: str | None = None,
        query_prompt_name: str | None = None,
        corpus_prompt: str | None = None,
        corpus_prompt_name: str | None = None,
        batch_size: int = 32,
        backend: Backend = "exact",
        query_chunk_size: int = 1024,
        corpus_chunk_size: int = 65536,
        cache_folder: str | Path | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(model, (str, Path)):
            from st_hardneg.teachers.resolve import load_sentence_transformer

            model = load_sentence_transformer(str(model))
        if backend not in ("exact", "faiss", "faiss-cpu", "faiss-gpu"):
            raise ValueError(f"backend must be 'exact', 'faiss', 'faiss-cpu' or 'faiss-gpu', got {backend!r}")
        self.model = model
        self.query_prompt = _resolve_prompt(model, query_prompt, query_prompt_name, "query")
        self.corpus_prompt = _resolve_prompt(model, corpus_prompt, corpus_prompt_name, "document")
        self.batch_size = batch_size
        self.backend = backend
        self.query_chunk_size = query_chunk_size
        self.corpus_chunk_size = corpus_chunk_size
        self.cache = EmbeddingCache(cache_folder) if cache_folder is not None else None
        self.similarity_fn_name = getattr(model, "similarity_fn_name", None) or "cosine"
        self._name = name or _model_name(model)
        # Computed up front so the cache key names the weights the teacher was created with.
        self._fingerprint = model_fingerprint(model) if self.cache is not None else None

    @property
    def name(self) -> str:
        return self._name

    def config(self) -> dict[str, Any]:
        return {
            "type": "dense",
            "name": self.name,
            "model": _model_name(self.model),
            "similarity": self.similarity_fn_name,
            "query_prompt": self.query_prompt,
            "corpus_prompt": self.corpus_prompt,
            "backend": self.backend,
        }

    def encode(self, texts: Sequence[str], role: str, show_progress: bool = True) -> np.ndarray:
        """Embeddings of ``texts`` as anchors (``role="query"``) or documents, from the cache when present."""
        prompt = self.query_prompt if role == "query" else self.corpus_prompt
        normalize = self.similarity_fn_name == "cosine"

        def compute() -> np.ndarray:
            encode = self.model.encode_query if role == "query" else self.model.encode_document
            kwargs: dict[str, Any] = {"prompt": prompt} if prompt is not None else {}
            emb = encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=normalize,
                show_progress_bar=show_progress,
                **kwargs,
            )
            return np.asarray(emb, dtype=np.float32)

        if self.cache is None:
            return compute()
        key = self.cache.key(
            model=self._fingerprint,
            role=role,
            prompt=prompt,
            default_prompt=getattr(self.model, "prompts", {}).get(role),
            normalize=normalize,
            texts=texts_digest(texts),
        )
        return self.cache.get_or_compute(key, compute)

    def index(self, corpus: Sequence[str], show_progress: bool = True) -> DenseIndex:
        return DenseIndex(self, corpus, self.encode(corpus, "document", show_progress))


class DenseIndex(TeacherIndex):
    def __init__(self, teacher: DenseTeacher, corpus: Sequence[str], embeddings: np.ndarray) -> None:
        super().__init__(corpus)
        self.teacher = teacher
        self.embeddings = embeddings

    def run(self, queries, k, pair_queries, pair_docs, show_progress=True) -> TeacherOutput:
        t = self.teacher
        q = t.encode(queries, "query", show_progress)
        if t.similarity_fn_name in ("cosine", "dot"):
            if t.backend == "exact":
                idx, sc = exact_topk(
                    q,
                    self.embeddings,
                    k,
                    query_chunk_size=t.query_chunk_size,
                    corpus_chunk_size=t.corpus_chunk_size,
                    show_progress=show_progress,
                )
            else:
                idx, sc = faiss_topk(q, self.embeddings, k, backend=t.backend, show_progress=show_progress)
            pair = _pairwise_dot(q, self.embeddings, pair_queries, pair_docs)
        else:
            if t.backend != "exact":
                raise ValueError(f"backend={t.backend!r} needs cosine or dot similarity, not {t.similarity_fn_name}")
            idx, sc = self._similarity_topk(q, k)
            pair = np.concatenate(
                [
                    self._similarity_pairs(
                        q[pair_queries[i : i + _PAIR_CHUNK]], self.embeddings[pair_docs[i : i + _PAIR_CHUNK]]
                    )
                    for i in range(0, len(pair_queries), _PAIR_CHUNK)
                ]
                or [np.zeros(0, np.float32)]
            )
        idx, sc = pad_topk(idx, sc, k)
        return TeacherOutput(idx, sc, np.asarray(pair, dtype=np.float32))

    def _similarity_topk(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        t = self.teacher
        k = min(k, len(self.embeddings))
        out_i, out_s = [], []
        for qs in range(0, len(q), t.query_chunk_size):
            block = t.model.similarity(
                torch.from_numpy(np.asarray(q[qs : qs + t.query_chunk_size])),
                torch.from_numpy(np.asarray(self.embeddings)),
            )
            s, i = torch.topk(block, k, dim=1)
            out_i.append(i.numpy())
            out_s.append(s.numpy())
        return np.concatenate(out_i), np.concatenate(out_s)

    def _similarity_pairs(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if len(a) == 0:
            return np.zeros(0, dtype=np.float32)
        return self.teacher.model.similarity_pairwise(torch.from_numpy(a), torch.from_numpy(b)).numpy()


_PAIR_CHUNK = 65536


def _pairwise_dot(q: np.ndarray, d: np.ndarray, qi: np.ndarray, di: np.ndarray) -> np.ndarray:
    """``q[qi[j]] . d[di[j]]`` for every pair, in chunks so memory stays bounded."""
    out = np.empty(len(qi), dtype=np.float32)
    for i in range(0, len(qi), _PAIR_CHUNK):
        out[i : i + _PAIR_CHUNK] = np.einsum("ij,ij->i", q[qi[i : i + _PAIR_CHUNK]], d[di[i : i + _PAIR_CHUNK]])
    return out


def _resolve_prompt(model: Any, prompt: str | None, prompt_name: str | None, role: str) -> str | None:
    if prompt is not None and prompt_name is not None:
        raise ValueError(f"Give the {role} prompt as text or as a name, not both")
    if prompt_name is not None:
        prompts = getattr(model, "prompts", {}) or {}
        if prompt_name not in prompts:
            raise ValueError(f"Prompt name {prompt_name!r} not in the model's prompts {sorted(prompts)}")
        return prompts[prompt_name]
    return prompt


def _model_name(model: Any) -> str:
    card = getattr(model, "model_card_data", None)
    for value in (getattr(card, "base_model", None), getattr(card, "model_name", None)):
        if value:
            return str(value)
    try:
        return str(model[0].auto_model.config._name_or_path)
    except Exception:  # noqa: BLE001
        return type(model).__name__
