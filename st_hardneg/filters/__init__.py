"""Mining methods: which ranked candidates may become negatives (NV-Retriever, section 3.1)."""

from st_hardneg.filters.methods import (
    METHODS,
    MiningMethod,
    NaiveTopK,
    TopKAbs,
    TopKMarginPos,
    TopKPercPos,
    TopKShifted,
    get_method,
)

__all__ = [
    "METHODS",
    "MiningMethod",
    "NaiveTopK",
    "TopKAbs",
    "TopKMarginPos",
    "TopKPercPos",
    "TopKShifted",
    "get_method",
]
