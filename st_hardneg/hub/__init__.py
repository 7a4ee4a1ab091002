"""Hugging Face Hub: dataset cards recording how a mined set was made."""

from st_hardneg.hub.card import MinedDatasetCard

__all__ = ["MinedDatasetCard"]
