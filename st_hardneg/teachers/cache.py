"""On-disk cache of embeddings, keyed by the model, the prompt and the texts.

The key covers everything that changes an embedding: the model (its name and a fingerprint of its weights, so a
fine-tuned checkpoint under the same name is not confused with its base), the prompt text actually prepended, the
normalisation, and the exact list of texts. Embeddings are stored as ``.npy`` and opened memory-mapped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

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
    """A folder of cached embedding matrices."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def key(self, **parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]

    def get(self, key: str) -> np.ndarray | None:
        """The cached matrix under ``key`` (memory-mapped), or None."""
        path = self.folder / f"{key}.npy"
        return np.load(path, mmap_mode="r") if path.exists() else None

    def get_or_compute(self, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        path = self.folder / f"{key}.npy"
        if path.exists():
            logger.info("Loading cached embeddings %s", path)
            return np.load(path, mmap_mode="r")
        emb = np.asarray(compute(), dtype=np.float32)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, emb)
        tmp.replace(path)
        return emb
