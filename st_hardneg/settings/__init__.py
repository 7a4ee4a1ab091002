"""Settings: one frozen, validated dataclass per configurable part, the single source of every default.

- :class:`PoolSettings`: how a candidate pool is built (depth, fill reserve, seed, columns).
- :class:`SelectionSettings`: how negatives are selected from it (method, sampler, format, short rows, seed).
- :class:`DenseSettings`: how a dense teacher encodes and searches (prompts, batch size, backend, cache).
- :class:`EngineSettings`: where a pool is built (this process or Ray) and the work folder that makes it resumable.
- :class:`~st_hardneg.eci.ECISettings` (in :mod:`st_hardneg.eci`): how ECI is computed.

The public functions take these fields as keyword arguments, or a settings object, or both (keywords override);
the ``st-hardneg`` command's options are generated from the same fields. Names load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Settings": "st_hardneg.settings.base",
    "option": "st_hardneg.settings.base",
    "DenseSettings": "st_hardneg.settings.dense",
    "EngineSettings": "st_hardneg.settings.engine",
    "PoolSettings": "st_hardneg.settings.pool",
    "SelectionSettings": "st_hardneg.settings.selection",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
