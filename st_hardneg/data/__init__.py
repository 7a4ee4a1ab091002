"""Loading pairs and corpora: files, saved datasets, BEIR folders and the shipped default dataset."""

from __future__ import annotations

from st_hardneg.data.beir import BEIRData, load_beir
from st_hardneg.data.corpus import document_text, load_corpus
from st_hardneg.data.default import load_default
from st_hardneg.data.loading import LoadedData, load_pairs

__all__ = ["BEIRData", "LoadedData", "document_text", "load_beir", "load_corpus", "load_default", "load_pairs"]
