"""Formatters: selected negatives as sentence-transformers datasets (triplet, n-tuple, labeled-pair/list)."""

from st_hardneg.formatting.formatters import OUTPUT_FORMATS, Selected, format_dataset

__all__ = ["OUTPUT_FORMATS", "Selected", "format_dataset"]
