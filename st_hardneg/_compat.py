"""The one place that imports sentence-transformers internals whose paths moved between versions (v5.4, v6).

Each name is imported on first use, so ``import st_hardneg`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator
    from sentence_transformers.base.modules.transformer import Transformer
    from sentence_transformers.sentence_transformer.modules.pooling import Pooling

__all__ = ["BaseEvaluator", "Pooling", "Transformer"]

# name -> (path in sentence-transformers >= 6, path in 5.x)
_PATHS = {
    "BaseEvaluator": (
        "sentence_transformers.base.evaluation.evaluator:BaseEvaluator",
        "sentence_transformers.evaluation:SentenceEvaluator",
    ),
    "Transformer": (
        "sentence_transformers.base.modules.transformer:Transformer",
        "sentence_transformers.models:Transformer",
    ),
    "Pooling": (
        "sentence_transformers.sentence_transformer.modules.pooling:Pooling",
        "sentence_transformers.models:Pooling",
    ),
}


def __getattr__(name: str) -> Any:
    if name not in _PATHS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for path in _PATHS[name]:
        module, _, attr = path.partition(":")
        try:
            value = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        globals()[name] = value
        return value
    raise ImportError(f"sentence-transformers has no {name} at {' or '.join(_PATHS[name])}")
