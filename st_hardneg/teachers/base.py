"""The teacher contract: a model that ranks a corpus for each anchor and scores given (anchor, document) pairs.

A :class:`Teacher` is unbound and cheap; :meth:`Teacher.index` binds it to a corpus (encoding it, or building a
BM25 index) and returns a :class:`TeacherIndex`. One :meth:`TeacherIndex.run` call per batch of anchors encodes the
anchors once, searches the corpus and scores the requested pairs (positives, random fill candidates), so nothing is
encoded twice. Candidate pools (:mod:`st_hardneg.pool`) hold the output of one or several teachers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np


class TeacherOutput(NamedTuple):
    """What a teacher returns for a batch of anchors.

    Attributes:
        candidates: int64 ``[queries, k]`` corpus indices, highest score first, ``-1`` where the corpus has fewer
            than ``k`` documents.
        scores: float32 ``[queries, k]`` their scores, ``-inf`` at padding.
        pair_scores: float32 ``[pairs]`` scores of the requested (query, document) pairs.
    """

    candidates: np.ndarray
    scores: np.ndarray
    pair_scores: np.ndarray


class TeacherIndex(ABC):
    """A teacher bound to one corpus."""

    def __init__(self, corpus: Sequence[str]) -> None:
        self.corpus = corpus

    @abstractmethod
    def run(
        self,
        queries: Sequence[str],
        k: int,
        pair_queries: np.ndarray,
        pair_docs: np.ndarray,
        show_progress: bool = True,
    ) -> TeacherOutput:
        """Rank the corpus for each query and score the given pairs.

        Args:
            queries: the anchor texts.
            k: how many candidates per query (padded with ``-1`` past the corpus size).
            pair_queries: int array, positions in ``queries`` of the pairs to score.
            pair_docs: int array, corpus indices of the pairs to score.
            show_progress: tqdm bars on long work.
        """

    def search(
        self, queries: Sequence[str], rows: np.ndarray, k: int, show_progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rank the corpus again for some of ``queries`` only (a deeper search for a few anchors, no pair scores).

        Args:
            queries: every anchor text of the pool, in the order its embeddings (if any) were made for.
            rows: positions in ``queries`` of the anchors to search.
            k: how many candidates per anchor (padded with ``-1`` past the corpus size).
            show_progress: tqdm bars on long work.

        Returns:
            ``(candidates int64 [len(rows), k], scores float32 [len(rows), k])`` as :meth:`run` ranks them.
        """
        empty = np.zeros(0, dtype=np.int64)
        out = self.run([queries[int(i)] for i in rows], k, empty, empty, show_progress=show_progress)
        return out.candidates, out.scores


class Teacher(ABC):
    """A model that mines candidates: dense bi-encoder, BM25, cross-encoder over a first stage."""

    @property
    @abstractmethod
    def name(self) -> str:
        """A short unique name, used as the teacher's key in a pool and in cards."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """JSON-serialisable description of the teacher, for provenance (pool files, dataset cards)."""

    @abstractmethod
    def index(self, corpus: Sequence[str], show_progress: bool = True) -> TeacherIndex:
        """Bind the teacher to ``corpus``."""

    def score_pairs(
        self,
        corpus: Sequence[str],
        queries: Sequence[str],
        pair_queries: np.ndarray,
        pair_docs: np.ndarray,
        show_progress: bool = True,
    ) -> np.ndarray:
        """Scores of given (query, document) pairs outside any ranking: soft labels for negatives another teacher
        chose (``output_scores`` with ``score_teachers``).

        The default binds the teacher to ``corpus`` and runs it (right for any teacher; a teacher that can score
        pairs without the whole corpus overrides it: dense teachers encode only the documents needed, a
        cross-encoder predicts the pairs).

        Args:
            corpus: every document text (the pool's corpus).
            queries: the anchor texts ``pair_queries`` points into.
            pair_queries / pair_docs: int arrays, positions in ``queries`` and ``corpus``.
        """
        index = self.index(corpus, show_progress)
        return index.run(queries, 1, np.asarray(pair_queries), np.asarray(pair_docs), show_progress).pair_scores

    def identity(self) -> dict[str, Any]:
        """What decides this teacher's rankings, known without loading a model: a resumed build
        (:mod:`st_hardneg.engines`) refuses to continue one made with another identity. Default: :meth:`config`."""
        return self.config()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def sort_candidates(indices: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order each row by score descending, ties by corpus index ascending, so every backend ranks alike."""
    by_index = np.argsort(indices, axis=1, kind="stable")
    s = np.take_along_axis(scores, by_index, axis=1)
    by_score = np.argsort(-s, axis=1, kind="stable")
    order = np.take_along_axis(by_index, by_score, axis=1)
    return np.take_along_axis(indices, order, axis=1), np.take_along_axis(scores, order, axis=1)


def pad_topk(indices: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort (:func:`sort_candidates`) and pad ``[q, k']`` results to ``[q, k]`` with index -1 and score -inf."""
    scores = np.where(indices < 0, -np.inf, scores).astype(np.float32)
    indices, scores = sort_candidates(indices, scores)
    q, have = indices.shape
    if have >= k:
        return indices[:, :k].astype(np.int64), scores[:, :k].astype(np.float32)
    pad_i = np.full((q, k - have), -1, dtype=np.int64)
    pad_s = np.full((q, k - have), -np.inf, dtype=np.float32)
    return (
        np.concatenate([indices.astype(np.int64), pad_i], axis=1),
        np.concatenate([scores.astype(np.float32), pad_s], axis=1),
    )
