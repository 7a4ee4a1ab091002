"""Texts held in Arrow (a memory-mapped ``datasets.Dataset`` column), read as a sequence of strings in chunks.

:class:`ArrowTexts` is what a corpus given as a ``datasets.Dataset`` becomes: ``len``, one text by position, a
slice as a list (only that slice is turned into Python strings), and iteration chunk by chunk. The teachers, the
fingerprints and the sharded build read it through these, so no list of every text is made where it can be avoided.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import pyarrow as pa

__all__ = ["CHUNK", "ArrowTexts", "iter_chunks"]

#: Texts turned into Python strings at a time when an Arrow corpus is read whole (iteration, checks, tokenizing).
CHUNK = 65536


class ArrowTexts(Sequence[str]):
    """A read-only sequence of the strings of an Arrow string array (chunked or not), read ``CHUNK`` at a time.

    Examples:
        >>> texts = ArrowTexts(pa.chunked_array([["a", "b"], ["c"]]))
        >>> len(texts), texts[2], texts[1:3], list(texts)
        (3, 'c', ['b', 'c'], ['a', 'b', 'c'])
    """

    def __init__(self, arrow: pa.Array | pa.ChunkedArray) -> None:
        self.arrow = arrow

    def __len__(self) -> int:
        return len(self.arrow)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            part = self.arrow.slice(start, max(stop - start, 0)).to_pylist()
            return part[::step] if step != 1 else part
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.arrow[index].as_py()

    def __iter__(self) -> Iterator[str]:
        for chunk in iter_chunks(self.arrow):
            yield from chunk.to_pylist()

    def __repr__(self) -> str:
        return f"ArrowTexts({len(self)} texts)"


def iter_chunks(arrow: pa.Array | pa.ChunkedArray, size: int | None = None) -> Iterator[pa.Array]:
    """Slices of at most ``size`` (default :data:`CHUNK`) entries, in order."""
    size = size or CHUNK
    for start in range(0, len(arrow), size):
        part = arrow.slice(start, size)
        yield part.combine_chunks() if isinstance(part, pa.ChunkedArray) else part


def as_arrow(texts: Sequence[str]) -> pa.Array | pa.ChunkedArray:
    """The Arrow array of ``texts``: its own for :class:`ArrowTexts`, else a new large_string array."""
    return texts.arrow if isinstance(texts, ArrowTexts) else pa.array(texts, type=pa.large_string())
