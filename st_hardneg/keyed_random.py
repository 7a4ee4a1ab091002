"""Random draws keyed by seed and content, not by position in a stream.

Every random choice st-hardneg makes (which negatives a sampler draws, which random documents fill a short row) is a
pure function of the seed, the anchor (and positive) text and the document, computed with a counter-based hash
(SplitMix64 finalizer over 64-bit keys). The same inputs and seed therefore give identical rows whatever the batch
size of ``dataset.map``, the order of the rows, or the entry point (``mine_hard_negatives``, ``CandidatePool.select``,
``HardNegativeMiner``, the command), and everything stays vectorised.

Examples:
    >>> keys = text_keys(["what is a cell?", "what is a cell?", "why is the sky blue?"])
    >>> bool(keys[0] == keys[1]), bool(keys[0] == keys[2])
    (True, False)
    >>> u = uniform(combine(keys[:, None], np.arange(4)[None, :]))
    >>> u.shape, bool(((u > 0) & (u < 1)).all()), bool((u[0] == u[1]).all())
    ((3, 4), True, True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

__all__ = ["combine", "gumbel", "salt", "text_keys", "uniform"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: a bijection of uint64 with good avalanche (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = np.asarray(x, dtype=np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def text_keys(texts: Iterable[str]) -> np.ndarray:
    """A stable 64-bit key per text (BLAKE2b of its UTF-8 bytes), independent of Python's hash seed."""
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little") for t in texts),
        dtype=np.uint64,
    )


def salt(name: str) -> np.uint64:
    """A constant key for one kind of draw, so different draws from the same seed are independent."""
    return np.uint64(text_keys([name])[0])


def combine(*parts: np.ndarray | int) -> np.ndarray:
    """Hash several keys (broadcast together) into one uint64 key array; the order of the parts matters."""
    key = _mix(np.asarray(parts[0]).astype(np.uint64))
    for part in parts[1:]:
        key = _mix(key ^ np.asarray(part).astype(np.uint64))
    return key


def uniform(keys: np.ndarray) -> np.ndarray:
    """A float64 in the open interval (0, 1) per key."""
    bits = _mix(keys) >> np.uint64(11)
    return (bits.astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def gumbel(keys: np.ndarray) -> np.ndarray:
    """A standard Gumbel draw per key (``-log(-log(u))``)."""
    return -np.log(-np.log(uniform(keys)))
