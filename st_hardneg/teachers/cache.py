"""On-disk cache of embeddings, keyed by the model, the prompt and the texts.

The key covers everything that changes an embedding: the model (its name and a fingerprint of its weights, so a
fine-tuned checkpoint under the same name is not confused with its base), the prompt text actually prepended, the
normalisation, and the exact list of texts. Embeddings are stored as ``.npy`` and opened memory-mapped; long
encodes are checkpointed in chunks (:meth:`EmbeddingCache.get_or_compute`), so a killed encode resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from st_hardneg.atomic import atomic_path, write_npy, write_text

logger = logging.getLogger(__name__)


def texts_digest(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def model_fingerprint(model: Any) -> str:
    """Name plus a cheap fingerprint of the weights (first and last parameter tensors)."""
    name = getattr(getattr(model, "model_card_data", None), "base_model", None) or ""
    try:
        name = name or model[0].auto_model.config._name_or_path
    except Exception:  # noqa: BLE001 - any module layout; the weights below still identify the model
        pass
    h = hashlib.sha256(str(name).encode())
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    for p in params[:1] + params[-1:]:
        h.update(str(tuple(p.shape)).encode())
        h.update(p.detach().flatten()[:4096].float().cpu().numpy().tobytes())
    h.update(str(len(params)).encode())
    return h.hexdigest()[:16]


class EmbeddingCache:
    """A folder of cached embedding matrices, one ``<key>.npy`` per (model, prompt, texts), opened memory-mapped.

    Long encodes are checkpointed: with ``num_rows`` and ``chunk_size``, :meth:`get_or_compute` encodes the texts in
    chunks, each saved atomically (:mod:`st_hardneg.atomic`) under ``<key>.chunks/`` as soon as it is done; a run
    killed midway resumes from the finished chunks, and the chunks are joined into ``<key>.npy`` at the end.

    Examples:
        >>> import tempfile
        >>> cache = EmbeddingCache(tempfile.mkdtemp())
        >>> calls = []
        >>> def encode(start, stop):
        ...     calls.append((start, stop))
        ...     return np.arange(start, stop, dtype=np.float32)[:, None]
        >>> cache.get_or_compute("k", encode, num_rows=5, chunk_size=2).ravel().tolist()
        [0.0, 1.0, 2.0, 3.0, 4.0]
        >>> calls
        [(0, 2), (2, 4), (4, 5)]
        >>> cache.get_or_compute("k", encode, num_rows=5, chunk_size=2).shape, len(calls)  # cached: no new call
        ((5, 1), 3)
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @staticmethod
    def key(**parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]

    def path(self, key: str) -> Path:
        """Where the complete embeddings of ``key`` are stored."""
        return self.folder / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The complete cached matrix under ``key`` (memory-mapped), or None; never computes."""
        path = self.path(key)
        return np.load(path, mmap_mode="r") if path.exists() else None

    def get_or_compute(
        self,
        key: str,
        compute: Callable[..., np.ndarray],
        *,
        num_rows: int | None = None,
        chunk_size: int | None = None,
        show_progress: bool = False,
    ) -> np.ndarray:
        """The cached embeddings of ``key``, computing what is missing.

        Args:
            compute: without ``num_rows``, ``compute()`` returns every embedding; with it, ``compute(start, stop)``
                returns the embeddings of rows ``[start, stop)``.
            num_rows / chunk_size: encode in chunks of ``chunk_size`` rows, each checkpointed.
            show_progress: one bar over the chunks (rows/s) when there are several.
        """
        path = self.path(key)
        if path.exists():
            logger.info("Loading cached embeddings %s", path)
            return np.load(path, mmap_mode="r")
        if num_rows is None:
            emb = np.asarray(compute(), dtype=np.float32)
            write_npy(path, emb)
            return emb
        chunk_size = chunk_size or max(num_rows, 1)
        if num_rows <= chunk_size:
            emb = np.asarray(compute(0, num_rows), dtype=np.float32)
            write_npy(path, emb)
            return emb
        return self._chunked(key, compute, num_rows, chunk_size, show_progress)

    def _chunked(
        self, key: str, compute: Callable[[int, int], np.ndarray], num_rows: int, chunk_size: int, show_progress: bool
    ) -> np.ndarray:
        from tqdm.auto import tqdm

        folder = self.folder / f"{key}.chunks"
        meta = {"rows": num_rows, "chunk_size": chunk_size}
        meta_path = folder / "chunks.json"
        if folder.is_dir() and (not meta_path.exists() or json.loads(meta_path.read_text()) != meta):
            logger.info("Discarding the chunks in %s: they were written with other chunk boundaries", folder)
            for old in folder.glob("*.npy"):
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        if not meta_path.exists():
            write_text(meta_path, json.dumps(meta))
        bounds = [(s, min(s + chunk_size, num_rows)) for s in range(0, num_rows, chunk_size)]
        files = [folder / f"{s:012d}-{e:012d}.npy" for s, e in bounds]
        done = [f.exists() and _rows_in(f) == e - s for f, (s, e) in zip(files, bounds)]
        if any(done):
            logger.info("Resuming the encode of %s: %d of %d chunks already done", key, sum(done), len(files))
        bar = tqdm(
            total=num_rows,
            initial=sum(e - s for d, (s, e) in zip(done, bounds) if d),
            desc="Encoding (checkpointed)",
            unit="text",
            disable=not show_progress,
        )
        with bar:
            for f, (s, e), ok in zip(files, bounds, done):
                if not ok:
                    write_npy(f, np.asarray(compute(s, e), dtype=np.float32))
                    bar.update(e - s)
        first = np.load(files[0], mmap_mode="r")
        with atomic_path(self.path(key)) as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(num_rows, *first.shape[1:]))
            for f, (s, e) in zip(files, bounds):
                chunk = np.load(f, mmap_mode="r")
                if chunk.shape[1:] != first.shape[1:]:
                    raise ValueError(f"Cached chunk {f} has shape {chunk.shape}, the first chunk {first.shape}")
                out[s:e] = chunk
            out.flush()
            del out
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        return np.load(self.path(key), mmap_mode="r")


def _rows_in(path: Path) -> int:
    """Rows of a complete ``.npy`` file, or -1 when it cannot be read."""
    try:
        return int(np.load(path, mmap_mode="r").shape[0])
    except (OSError, ValueError):
        return -1
