"""The one place that imports sentence-transformers internals (their paths moved in v5.4 and v6)."""

from __future__ import annotations

try:  # sentence-transformers >= 6
    from sentence_transformers.base.modules.transformer import Transformer
    from sentence_transformers.sentence_transformer.modules.pooling import Pooling
except ImportError:  # pragma: no cover - sentence-transformers 5.x
    from sentence_transformers.models import Pooling, Transformer

__all__ = ["Pooling", "Transformer"]
