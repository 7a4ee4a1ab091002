"""Shards of a build: ranges of documents or anchors, the units of work run on them, and the error a shard raises
when it keeps failing.

Examples:
    >>> [s.describe() for s in shard_ranges(5, 2, "documents")]
    ['documents 0-1', 'documents 2-3', 'documents 4-4']
    >>> shard_ranges(5, 2, "anchors")[2].name
    'a00002'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["WAIT", "Shard", "ShardError", "Task", "shard_ranges"]


@dataclass(frozen=True)
class Shard:
    """Rows ``[start, stop)`` of the documents or of the anchors."""

    kind: str  # "documents" or "anchors"
    index: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        return f"{self.kind[0]}{self.index:05d}"

    @property
    def rows(self) -> int:
        return self.stop - self.start

    def describe(self) -> str:
        """The input range, as error messages and the manifest name it (inclusive bounds)."""
        return f"{self.kind} {self.start}-{self.stop - 1}"


def shard_ranges(n: int, size: int, kind: str) -> list[Shard]:
    """``n`` rows cut into shards of ``size`` (the last one shorter)."""
    return [Shard(kind, i, start, min(start + size, n)) for i, start in enumerate(range(0, n, size))]


@dataclass
class Task:
    """One unit of work: ``fn(*args, **kwargs)`` run by an engine, which writes ``outputs`` and returns a small dict.

    Attributes:
        key: its entry in the work folder's manifest (``teacher_0/search/a00001-d00003``).
        stage: what it does ("encode", "search", "merge", "rank").
        rows: rows it processes, for the rows/s figure.
        inputs: its input range in words, named by :class:`ShardError`.
    """

    key: str
    stage: str
    rows: int
    inputs: str
    fn: Callable[..., dict[str, Any]]
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    outputs: tuple[Path, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)


#: Returned by a schedule when nothing can start until a running task finishes.
WAIT = object()


class ShardError(RuntimeError):
    """A shard failed on every attempt; the message names the shard, its input range and the last error."""

    def __init__(self, key: str, inputs: str, attempts: int, error: BaseException | str) -> None:
        self.key, self.inputs, self.attempts = key, inputs, attempts
        detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        super().__init__(
            f"shard {key} ({inputs}) failed {attempts} time{'s' if attempts != 1 else ''}; last error: {detail}. "
            "Finished shards are kept: run the same build again to retry from here"
        )
