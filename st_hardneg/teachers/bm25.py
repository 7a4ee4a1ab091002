"""BM25 teacher through `bm25s <https://github.com/xhluca/bm25s>`_: lexical mining with no model at all.

Documents that share no term with the anchor score 0 under BM25 and are not candidates (they pad the candidate
list instead); they remain available as random fill negatives.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from st_hardneg.teachers.base import Teacher, TeacherIndex, TeacherOutput, pad_topk

logger = logging.getLogger(__name__)

#: Documents tokenized at a time.
_CHUNK = 65536


class BM25Teacher(Teacher):
    """Mine with BM25 (bm25s).

    Args:
        k1, b, delta: BM25 parameters.
        method: the bm25s variant: ``"lucene"`` (default), ``"robertson"``, ``"atire"``, ``"bm25l"``,
            ``"bm25+"``.
        stopwords: a language name for bm25s' stopword lists (``"en"``), a list of words, or None.
        stemmer: a callable stemming one word (e.g. ``Stemmer.Stemmer("english").stemWord``), or None.
        name: the teacher's key in a pool; default ``"bm25"``.

    Examples:
        >>> teacher = BM25Teacher()
        >>> index = teacher.index(["cats purr", "dogs bark", "cats and dogs"], show_progress=False)
        >>> out = index.run(["cats"], k=3, pair_queries=np.array([0]), pair_docs=np.array([1]), show_progress=False)
        >>> out.candidates.tolist(), float(out.pair_scores[0])
        ([[0, 2, -1]], 0.0)
    """

    def __init__(
        self,
        *,
        k1: float = 1.5,
        b: float = 0.75,
        delta: float = 0.5,
        method: str = "lucene",
        stopwords: str | list[str] | None = "en",
        stemmer: Any = None,
        name: str = "bm25",
    ) -> None:
        self.k1, self.b, self.delta, self.method = k1, b, delta, method
        self.stopwords, self.stemmer = stopwords, stemmer
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def config(self) -> dict[str, Any]:
        return {
            "type": "bm25",
            "name": self.name,
            "library": "bm25s",
            "k1": self.k1,
            "b": self.b,
            "delta": self.delta,
            "method": self.method,
            "stopwords": self.stopwords,
            "stemmer": None if self.stemmer is None else getattr(self.stemmer, "__qualname__", str(self.stemmer)),
        }

    def index(self, corpus: Sequence[str], show_progress: bool = True) -> BM25Index:
        try:
            import bm25s
            from bm25s.tokenization import Tokenizer
        except ImportError as exc:
            raise ImportError('The BM25 teacher needs bm25s: pip install "st-hardneg[bm25]"') from exc
        tokenizer = Tokenizer(stopwords=self.stopwords or [], stemmer=self.stemmer)
        # bm25s tokenizes lists of strings: a chunk at a time (the vocabulary grows chunk by chunk), so a large
        # corpus (an Arrow one) is never one list of every text; the token ids themselves are lists bm25s indexes
        ids: list[list[int]] = []
        for start in tqdm(range(0, len(corpus), _CHUNK), desc="BM25 tokenize", disable=not show_progress):
            part = list(corpus[start : start + _CHUNK])
            ids.extend(tokenizer.tokenize(part, update_vocab=True, return_as="ids", show_progress=False))
        retriever = bm25s.BM25(k1=self.k1, b=self.b, delta=self.delta, method=self.method)
        retriever.index(ids, show_progress=show_progress)
        return BM25Index(corpus, tokenizer, retriever)


class BM25Index(TeacherIndex):
    def __init__(self, corpus: Sequence[str], tokenizer: Any, retriever: Any) -> None:
        super().__init__(corpus)
        self.tokenizer = tokenizer
        self.retriever = retriever

    def run(self, queries, k, pair_queries, pair_docs, show_progress=True) -> TeacherOutput:
        tokens = self.tokenizer.tokenize(
            list(queries), update_vocab=False, return_as="ids", show_progress=show_progress
        )
        n = len(self.corpus)
        docs, scores = self.retriever.retrieve(tokens, k=min(k, n), show_progress=show_progress)
        docs = np.asarray(docs, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float32)
        no_match = scores <= 0
        docs[no_match] = -1
        scores[no_match] = -np.inf
        idx, sc = pad_topk(docs, scores, k)

        pair = np.zeros(len(pair_queries), dtype=np.float32)
        order = np.argsort(pair_queries, kind="stable")
        bounds = np.flatnonzero(np.diff(pair_queries[order])) + 1
        for group in tqdm(
            np.split(order, bounds), desc="BM25 pair scores", disable=not show_progress or not len(order)
        ):
            if len(group) == 0:
                continue
            all_scores = self.retriever.get_scores(list(map(int, tokens[int(pair_queries[group[0]])])))
            pair[group] = all_scores[pair_docs[group]]
        return TeacherOutput(idx, sc, pair)
