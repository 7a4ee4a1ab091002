"""st-hardneg: hard negatives for sentence-transformers, mined with NV-Retriever's positive-aware methods.

Importing the package is cheap: the public names below load their modules on first use.

Examples:
    >>> import st_hardneg
    >>> st_hardneg.TopKPercPos()
    TopKPercPos(percentage=0.95)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "mine_hard_negatives": "st_hardneg.mine",
    "HardNegativeMiner": "st_hardneg.miner",
    "CandidatePool": "st_hardneg.pool",
    "Selection": "st_hardneg.pool",
    "MiningMethod": "st_hardneg.filters",
    "NaiveTopK": "st_hardneg.filters",
    "TopKShifted": "st_hardneg.filters",
    "TopKAbs": "st_hardneg.filters",
    "TopKMarginPos": "st_hardneg.filters",
    "TopKPercPos": "st_hardneg.filters",
    "get_method": "st_hardneg.filters",
    "Sampler": "st_hardneg.sampling",
    "DenseTeacher": "st_hardneg.teachers",
    "BM25Teacher": "st_hardneg.teachers",
    "CrossEncoderTeacher": "st_hardneg.teachers",
    "RandomTeacher": "st_hardneg.teachers",
    "Teacher": "st_hardneg.teachers",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'st_hardneg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
