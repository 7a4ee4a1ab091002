"""A teacher whose scores are a given table, so tests can work out every expected negative by hand."""

from __future__ import annotations

from typing import Any

import numpy as np

from st_hardneg.teachers.base import Teacher, TeacherIndex, TeacherOutput, pad_topk


class MatrixTeacher(Teacher):
    """Scores ``table[query text][document text]`` (documents missing from a query's row score ``default``).

    Attributes:
        calls: ``(queries, k)`` of every ranking the teacher ran, in order.
        indexed: how many times a corpus was indexed.
    """

    def __init__(self, table: dict[str, dict[str, float]], *, default: float = 0.0, name: str = "matrix") -> None:
        self.table, self.default, self._name = table, default, name
        self.calls: list[tuple[list[str], int]] = []
        self.indexed = 0

    @property
    def name(self) -> str:
        return self._name

    def config(self) -> dict[str, Any]:
        return {"type": "matrix", "name": self._name}

    def index(self, corpus, show_progress: bool = True) -> TeacherIndex:
        self.indexed += 1
        return _MatrixIndex(self, list(corpus))


class _MatrixIndex(TeacherIndex):
    def __init__(self, teacher: MatrixTeacher, corpus: list[str]) -> None:
        super().__init__(corpus)
        self.teacher = teacher

    def scores(self, queries) -> np.ndarray:
        t = self.teacher
        return np.array([[t.table.get(q, {}).get(d, t.default) for d in self.corpus] for q in queries], np.float32)

    def run(self, queries, k, pair_queries, pair_docs, show_progress=True) -> TeacherOutput:
        queries = list(queries)
        self.teacher.calls.append((queries, k))
        s = self.scores(queries)
        order = np.argsort(-s, axis=1, kind="stable")[:, :k]
        idx, sc = pad_topk(order, np.take_along_axis(s, order, axis=1), k)
        pair = s[np.asarray(pair_queries, dtype=np.int64), np.asarray(pair_docs, dtype=np.int64)]
        return TeacherOutput(idx, sc, pair.astype(np.float32))
