"""Judges for ARHN: the :class:`Judge` contract and its implementations (names load on first use)."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Answer": "st_hardneg.relabel.judges.base",
    "Judge": "st_hardneg.relabel.judges.base",
    "Ranking": "st_hardneg.relabel.judges.base",
    "ChatJudge": "st_hardneg.relabel.judges.chat",
    "Failure": "st_hardneg.relabel.judges.chat",
    "CrossEncoderJudge": "st_hardneg.relabel.judges.cross_encoder",
    "OpenAIJudge": "st_hardneg.relabel.judges.openai",
    "TransformersJudge": "st_hardneg.relabel.judges.transformers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
