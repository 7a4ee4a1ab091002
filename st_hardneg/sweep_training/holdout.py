"""Holding out anchors of the user's own pairs as a retrieval dev set over the pool's corpus.

The split is by anchor: every row of a held-out anchor leaves the training sets, and the held-out anchor keeps all
its positives as relevant documents. Which anchors are held out depends only on their texts and the seed (a keyed
hash of each text), not on the order of the rows.

Examples:
    >>> train, held_out = holdout_split(["a", "b", "c", "d", "b"], 0.5, seed=0)
    >>> sorted(train + held_out), len(held_out)
    (['a', 'b', 'c', 'd'], 2)
    >>> set(holdout_split(["a", "b", "c", "d"], 0.5, seed=0)[1]) == set(holdout_split(["d", "c", "b", "a"], 0.5, 0)[1])
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from st_hardneg.sweep_training.settings import check_holdout

__all__ = ["HeldOut", "heldout_set", "holdout_split", "remove_heldout"]


def holdout_split(anchors: Sequence[str], holdout: float | int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Split the distinct ``anchors`` into ``(train, held_out)``, each in first-seen order.

    Args:
        anchors: anchor texts (repeats allowed: an anchor is one unit, whatever its number of rows).
        holdout: a share of the distinct anchors in (0, 1) (rounded, at least 1), or a whole number of anchors.
        seed: which anchors: the ones with the lowest keyed hash ``blake2b(seed, text)``.
    """
    check_holdout(holdout)
    distinct = list(dict.fromkeys(anchors))
    n = len(distinct)
    count = holdout if isinstance(holdout, int) else max(1, round(holdout * n))
    if n < 2 or count >= n:
        raise ValueError(
            f"holdout={holdout!r} holds out {count} of {n} distinct anchors; at least one must stay to train on"
        )
    keys = [hashlib.blake2b(f"{seed}\0{text}".encode(), digest_size=8).digest() for text in distinct]
    chosen = set(np.argsort(np.array(keys, dtype=object), kind="stable")[:count].tolist())
    train = [a for i, a in enumerate(distinct) if i not in chosen]
    held_out = [a for i, a in enumerate(distinct) if i in chosen]
    return train, held_out


@dataclass(frozen=True)
class HeldOut:
    """The held-out anchors as an information-retrieval dev set, in the form
    ``sentence_transformers``' ``InformationRetrievalEvaluator`` takes.

    Attributes:
        queries: ``{query id: anchor text}`` of the held-out anchors.
        corpus: ``{document id: text}``, the whole corpus searched (the pool's).
        relevant_docs: ``{query id: {document id, ...}}``: every positive of each held-out anchor.
        anchors: the held-out anchor texts (kept out of every training set).
        train_anchors: how many distinct anchors remain to train on.
        holdout / seed: how the split was made.
    """

    queries: dict[str, str]
    corpus: dict[str, str]
    relevant_docs: dict[str, set[str]]
    anchors: frozenset[str]
    train_anchors: int
    holdout: float | int
    seed: int

    def fingerprint(self) -> str:
        """A hash of the queries, the corpus and the relevant documents (what the scores were measured on)."""
        h = hashlib.sha256()
        for part in (self.queries, self.corpus, {q: sorted(d) for q, d in self.relevant_docs.items()}):
            h.update(json.dumps(part, sort_keys=True, ensure_ascii=False).encode())
        return h.hexdigest()[:16]


def heldout_set(
    anchors: Sequence[str],
    positives: Sequence[Sequence[int]],
    corpus: Sequence[str],
    holdout: float | int,
    seed: int = 0,
) -> HeldOut:
    """The held-out anchors of distinct ``anchors`` with their ``positives`` (indices into ``corpus``).

    Args:
        anchors: distinct anchor texts.
        positives: for each anchor, the corpus indices of all its positives.
        corpus: every document text searched (document id ``str(index)``).
        holdout / seed: as for :func:`holdout_split`.
    """
    if len(anchors) != len(positives):
        raise ValueError(f"anchors and positives differ in length: {len(anchors)} and {len(positives)}")
    if len(set(anchors)) != len(anchors):
        raise ValueError("anchors must be distinct (one entry per anchor, with all its positives)")
    train, held_out = holdout_split(anchors, holdout, seed)
    index = {a: i for i, a in enumerate(anchors)}
    queries, relevant = {}, {}
    for text in held_out:
        i = index[text]
        docs = {str(int(d)) for d in positives[i]}
        if not docs:
            raise ValueError(f"anchor {i} has no positive: a held-out anchor needs one to be scored")
        queries[f"q{i}"] = text
        relevant[f"q{i}"] = docs
    return HeldOut(
        queries=queries,
        corpus={str(i): text for i, text in enumerate(corpus)},
        relevant_docs=relevant,
        anchors=frozenset(held_out),
        train_anchors=len(train),
        holdout=holdout,
        seed=seed,
    )


def remove_heldout(dataset: Any, anchors: Collection[str], anchor_column: str = "anchor") -> tuple[Any, int]:
    """``dataset`` without the rows whose anchor is held out, and how many rows were removed."""
    if anchor_column not in dataset.column_names:
        raise ValueError(f"the training set has no {anchor_column!r} column (columns: {dataset.column_names})")
    anchors = frozenset(anchors)
    keep = [i for i, a in enumerate(dataset[anchor_column]) if a not in anchors]
    removed = len(dataset) - len(keep)
    return (dataset.select(keep) if removed else dataset), removed
