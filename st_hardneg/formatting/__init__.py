"""Formatters: selected negatives as sentence-transformers datasets (triplet, n-tuple, labeled-pair/list)."""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "OUTPUT_FORMATS": "st_hardneg.formatting.formatters",
        "Selected": "st_hardneg.formatting.formatters",
        "format_dataset": "st_hardneg.formatting.formatters",
    },
)
