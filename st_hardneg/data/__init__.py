"""Loading pairs and corpora: files, saved datasets, BEIR folders and the shipped default dataset."""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BEIRData": "st_hardneg.data.beir",
        "load_beir": "st_hardneg.data.beir",
        "document_text": "st_hardneg.data.corpus",
        "load_corpus": "st_hardneg.data.corpus",
        "load_default": "st_hardneg.data.default",
        "LoadedData": "st_hardneg.data.loading",
        "load_pairs": "st_hardneg.data.loading",
    },
)
