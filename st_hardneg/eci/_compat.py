"""The one place that imports sentence-transformers internals whose paths moved between versions."""

from __future__ import annotations

try:  # sentence-transformers >= 6
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator
except ImportError:  # pragma: no cover - sentence-transformers 5.x
    from sentence_transformers.evaluation import SentenceEvaluator as BaseEvaluator

__all__ = ["BaseEvaluator"]
