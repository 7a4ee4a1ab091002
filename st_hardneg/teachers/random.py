"""A teacher that ranks the corpus at random: NV-Retriever's "random" teacher (Table 1), as a baseline or an
ensemble member.

Every (anchor, document) pair gets a score in (0, 1) that is a pure function of the teacher's seed, the anchor's
text and the document's text (:mod:`st_hardneg.keyed_random`), so the ranking does not depend on the batch, on the
order of the corpus or on the entry point, like every other draw of st-hardneg. Scores carry no relevance: select
from this teacher with ``NaiveTopK`` (the paper's random negatives); a positive-aware method would compare random
numbers (the positive's score is as random as the candidates').
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from st_hardneg.keyed_random import combine, salt, text_keys, uniform
from st_hardneg.teachers.base import Teacher, TeacherIndex, TeacherOutput, pad_topk

__all__ = ["RandomTeacher"]

_SALT = salt("st-hardneg random teacher")
#: Query x document cells hashed at once (memory: about 8 bytes x 3 per cell).
_BLOCK_CELLS = 1 << 22


class RandomTeacher(Teacher):
    """Random negatives as a teacher, seeded and keyed by the anchor's and the document's texts.

    Args:
        seed: seeds the scores (independent of the pool's seed, recorded in the teacher's configuration).
        name: the teacher's key in a pool; default ``"random"``.

    Examples:
        >>> teacher = RandomTeacher(seed=0)
        >>> index = teacher.index(["a", "b", "c", "d"], show_progress=False)
        >>> out = index.run(["q"], 2, np.array([0]), np.array([3]), show_progress=False)
        >>> out.candidates.shape, bool((out.scores[0, 0] >= out.scores[0, 1]))
        ((1, 2), True)
        >>> again = RandomTeacher(seed=0).index(["d", "c", "b", "a"], show_progress=False)
        >>> float(again.run(["q"], 1, np.array([0]), np.array([0]), False).pair_scores[0]) == float(out.pair_scores[0])
        True
    """

    def __init__(self, *, seed: int = 0, name: str = "random") -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"RandomTeacher needs a whole number seed >= 0, got {seed!r}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"RandomTeacher needs a non-empty name, got {name!r}")
        self.seed = int(seed)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def config(self) -> dict[str, Any]:
        return {"type": "random", "name": self.name, "seed": self.seed}

    def index(self, corpus: Sequence[str], show_progress: bool = True) -> RandomIndex:
        return RandomIndex(corpus, text_keys(corpus), self.seed)

    def score_pairs(self, corpus, queries, pair_queries, pair_docs, show_progress=True) -> np.ndarray:
        qk = text_keys([queries[i] for i in np.asarray(pair_queries)])
        dk = text_keys([corpus[i] for i in np.asarray(pair_docs)])
        return _scores(qk, dk, self.seed)


def _scores(query_keys: np.ndarray, doc_keys: np.ndarray, seed: int) -> np.ndarray:
    """The score of each (query key, document key) pair, broadcast together: uniform in (0, 1)."""
    return uniform(combine(query_keys, doc_keys, np.uint64(seed), _SALT)).astype(np.float32)


class RandomIndex(TeacherIndex):
    def __init__(self, corpus: Sequence[str], doc_keys: np.ndarray, seed: int) -> None:
        super().__init__(corpus)
        self.doc_keys = doc_keys
        self.seed = seed

    def run(self, queries, k, pair_queries, pair_docs, show_progress=True) -> TeacherOutput:
        qk = text_keys(queries)
        n = len(self.doc_keys)
        kk = min(k, n)
        out_i = np.empty((len(qk), kk), dtype=np.int64)
        out_s = np.empty((len(qk), kk), dtype=np.float32)
        step = max(1, _BLOCK_CELLS // max(n, 1))
        for start in tqdm(range(0, len(qk), step), desc="Random scores", disable=not show_progress or len(qk) <= step):
            s = _scores(qk[start : start + step, None], self.doc_keys[None, :], self.seed)
            top = np.argpartition(-s, kk - 1, axis=1)[:, :kk] if kk < n else np.tile(np.arange(n), (len(s), 1))
            out_i[start : start + step] = top
            out_s[start : start + step] = np.take_along_axis(s, top, axis=1)
        idx, sc = pad_topk(out_i, out_s, k)
        pair_q, pair_d = np.asarray(pair_queries, np.int64), np.asarray(pair_docs, np.int64)
        pair = _scores(qk[pair_q], self.doc_keys[pair_d], self.seed)
        return TeacherOutput(idx, sc, pair)
