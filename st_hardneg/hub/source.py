"""Where a mined set's pairs came from: :class:`DataSource`, recorded in ``mining_config.json`` and the card.

A source is one of four kinds, and each knows the Python lines that load it again (the card's "Reproduce" snippet):

- ``"default"``: the embedded example, ``st_hardneg.data.load_default()``;
- ``"local"``: a file, saved dataset or BEIR folder, ``st_hardneg.data.load_pairs(path, split=...)``; the path is
  recorded as the user gave it, except that an absolute path keeps only its last part (a card is shared; this
  machine's folders are not its business);
- ``"hub"``: a Hub dataset, ``datasets.load_dataset(id, split=...)``;
- ``"other"``: anything else, described in words (the snippet then asks the reader for the pairs).

The command records the source in the pool's configuration (``pool.config["source"]``), so a set selected later
from a saved pool still names the original dataset and split, not the pool's folder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_SOURCE", "DataSource"]

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_KINDS = ("default", "local", "hub", "other")
_FILE_SUFFIXES = {".jsonl", ".json", ".csv", ".tsv", ".parquet", ".gz", ".txt"}


@dataclass(frozen=True)
class DataSource:
    """The pairs' origin.

    Attributes:
        kind: ``"default"``, ``"local"``, ``"hub"`` or ``"other"``.
        dataset: the Hub id, the path as given, or a description.
        split: the split read (BEIR qrels split, DatasetDict split, Hub split), when one was.
        corpus: the corpus file (local sources) or a description of the documents mined from; ``None`` when the
            corpus came with the source (BEIR, the embedded example) or was the pairs' positives.

    Examples:
        >>> DataSource.of("BeIR/scifact", split="train").kind
        'hub'
        >>> DataSource.of("st-hardneg embedded default").kind
        'default'
        >>> DataSource.of("/home/someone/data/pairs.jsonl").dataset
        'pairs.jsonl'
    """

    kind: str
    dataset: str
    split: str | None = None
    corpus: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"source kind must be one of {_KINDS}, got {self.kind!r}")

    @classmethod
    def of(cls, value: Any, *, split: str | None = None, corpus: str | None = None) -> DataSource:
        """A source from a :class:`DataSource`, its dict, or a string (a Hub id, a path, or words)."""
        if isinstance(value, DataSource):
            return value
        if isinstance(value, Mapping):
            return cls(**{k: value.get(k) for k in ("kind", "dataset", "split", "corpus") if k in value})
        if value is None:
            return cls("other", "a pairs dataset (not recorded)", split, corpus)
        text = str(value)
        if text in (DEFAULT_SOURCE.dataset, "the st-hardneg embedded example"):
            return DEFAULT_SOURCE
        path = Path(text)
        if path.exists() or path.is_absolute() or text.startswith((".", "~")) or path.suffix.lower() in _FILE_SUFFIXES:
            return cls("local", _shareable_path(text), split, _shareable_path(corpus) if corpus else None)
        if _HUB_ID.match(text):
            return cls("hub", text, split, corpus)
        return cls("other", text, split, corpus)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def hub_id(self) -> str | None:
        return self.dataset if self.kind == "hub" else None

    def describe(self) -> str:
        """The source in words, for the card."""
        if self.kind == "default":
            return "the st-hardneg embedded example (63 pairs, 161 passages)"
        split = f", split `{self.split}`" if self.split else ""
        corpus = f", corpus `{self.corpus}`" if self.corpus else ""
        if self.kind == "hub":
            return f"[`{self.dataset}`](https://huggingface.co/datasets/{self.dataset}){split}{corpus}"
        if self.kind == "local":
            return f"`{self.dataset}`{split}{corpus}"
        return f"{self.dataset}{split}{corpus}"

    def loading_code(self, corpus_given: bool) -> tuple[list[str], list[str]]:
        """``(imports, statements)`` of Python that define ``pairs`` and ``corpus`` as they were when mined."""
        if self.kind == "default":
            return ["from st_hardneg.data import load_default"], ["pairs, corpus = load_default()"]
        split = f", split={self.split!r}" if self.split else ""
        if self.kind == "local":
            corpus = f", corpus_path={self.corpus!r}" if self.corpus else ""
            return ["from st_hardneg.data import load_pairs"], [
                f"pairs, corpus = load_pairs({self.dataset!r}{split}{corpus})"
            ]
        corpus_line = (
            f"corpus = ...  # the documents the set was mined from{': ' + self.corpus if self.corpus else ''}"
            if corpus_given
            else "corpus = None  # the set was mined among the pairs' own positives"
        )
        if self.kind == "hub":
            split = split or f", split={'train'!r}"
            return ["from datasets import load_dataset"], [
                f"pairs = load_dataset({self.dataset!r}{split})",
                corpus_line,
            ]
        return [], [f"pairs = ...  # the (anchor, positive) dataset: {self.dataset}", corpus_line]


def _shareable_path(text: str) -> str:
    """The path as given, or only its last part when it is absolute or in a home folder."""
    path = Path(text)
    if path.is_absolute() or text.startswith("~"):
        return path.name
    return text


#: The embedded example (``st_hardneg.data.load_default``).
DEFAULT_SOURCE = DataSource("default", "st-hardneg embedded default")
