"""Mining methods: which ranked candidates may become negatives (NV-Retriever, section 3.1)."""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "METHODS": "st_hardneg.filters.methods",
        "MiningMethod": "st_hardneg.filters.methods",
        "NaiveTopK": "st_hardneg.filters.methods",
        "TopKAbs": "st_hardneg.filters.methods",
        "TopKMarginPos": "st_hardneg.filters.methods",
        "TopKPercPos": "st_hardneg.filters.methods",
        "Auto": "st_hardneg.filters.methods",
        "TopKShifted": "st_hardneg.filters.methods",
        "get_method": "st_hardneg.filters.methods",
    },
)
