"""The small default dataset shipped with the package, for trying the tools without any data of one's own.

It is synthetic and written by the project: 63 (anchor, positive) pairs of short factual questions over eight
topics (astronomy, cell biology, cooking chemistry, computer networks, medicine, geology, music theory,
economics), seven of whose 56 questions have two positives, and a 161-passage corpus holding every positive
plus distractors written to be hard: near-paraphrases of answers (false-negative candidates), same-topic
passages stating other facts, and some off-topic passages.
"""

from __future__ import annotations

import json
import logging
from importlib.resources import files
from typing import TYPE_CHECKING

import datasets

from st_hardneg.data.loading import ANCHOR, POSITIVE, LoadedData

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+
    from importlib.resources.abc import Traversable

logger = logging.getLogger(__name__)

_PACKAGE = "st_hardneg.data"
_FOLDER = "default"


def load_default() -> LoadedData:
    """Loads the default dataset shipped in ``st_hardneg/data/default/``.

    Returns:
        The pairs (columns ``"anchor"`` and ``"positive"``, one row per positive) and the corpus texts.
    """
    folder = files(_PACKAGE).joinpath(_FOLDER)
    records = [json.loads(line) for line in _read_lines(folder.joinpath("pairs.jsonl"))]
    pairs = datasets.Dataset.from_dict(
        {ANCHOR: [record[ANCHOR] for record in records], POSITIVE: [record[POSITIVE] for record in records]}
    )
    corpus = [json.loads(line)["text"] for line in _read_lines(folder.joinpath("corpus.jsonl"))]
    logger.info("Loaded the default dataset: %d pairs and %d corpus documents", len(pairs), len(corpus))
    return LoadedData(pairs=pairs, corpus=corpus)


def _read_lines(resource: Traversable) -> list[str]:
    return [line for line in resource.read_text(encoding="utf-8").splitlines() if line.strip()]
