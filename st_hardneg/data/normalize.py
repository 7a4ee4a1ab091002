"""The one text normalisation st-hardneg compares texts by, where two texts should count as the same passage or
question: lowercase (``str.casefold``), punctuation removed (every Unicode punctuation character), whitespace
collapsed to single spaces and stripped. The leakage guard (``exclude=``) and the duplicate-of-the-positive rule
share it.

Examples:
    >>> normalize_text("  What is  the Capital\\tof France? ")
    'what is the capital of france'
    >>> normalize_text("Don't panic!") == normalize_text("dont PANIC")
    True
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["normalize_text", "normalize_texts"]


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[int, None]:
    """``str.translate`` table deleting every Unicode punctuation character (categories P*)."""
    return {c: None for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("P")}


def normalize_text(text: str) -> str:
    """``text`` lowercased, without punctuation, with whitespace collapsed (see the module's text)."""
    return " ".join(text.casefold().translate(_punctuation_table()).split())


def normalize_texts(texts: Iterable[str]) -> list[str]:
    """:func:`normalize_text` of each text."""
    table = _punctuation_table()
    return [" ".join(t.casefold().translate(table).split()) for t in texts]
