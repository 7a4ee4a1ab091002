"""A hand-made pool and a scripted judge whose replies are written in the test (no model)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from st_hardneg import CandidatePool
from st_hardneg.pool import PoolStatistics, TeacherCandidates
from st_hardneg.relabel import Answer, Judge, Ranking
from st_hardneg.settings import PoolSettings

NEG = -np.inf
CORPUS = ["p0", "p1", "p2", "p3"] + [f"c{i}" for i in range(8)]  # ids: p0..p3 = 0..3, c0..c7 = 4..11


def c(i: int) -> int:
    return 4 + i


def hand_pool() -> CandidatePool:
    """Three anchors; candidates already without positives, in the teacher's order.

    q0: positives p0 (.85), p1 (.75); candidates c0 .9, c1 .8, c2 .7, c3 .6, c4 .5
    q1: positive p2 (.95);            candidates c1 .9, c5 .7, c6 .6, c0 .5, pad
    q2: positive p3 (.8);             candidates c2 .6, c7 .5, c3 .4, pad, pad
    """
    tc = TeacherCandidates(
        name="hand",
        config={"type": "hand"},
        candidates=np.array(
            [[c(0), c(1), c(2), c(3), c(4)], [c(1), c(5), c(6), c(0), -1], [c(2), c(7), c(3), -1, -1]], dtype=np.int32
        ),
        scores=np.array(
            [[0.9, 0.8, 0.7, 0.6, 0.5], [0.9, 0.7, 0.6, 0.5, NEG], [0.6, 0.5, 0.4, NEG, NEG]], dtype=np.float32
        ),
        positive_scores=np.array([0.85, 0.75, 0.95, 0.8], dtype=np.float32),
        random_candidates=np.full((3, 1), -1, dtype=np.int32),
        random_scores=np.full((3, 1), NEG, dtype=np.float32),
        min_positive_scores=np.array([0.75, 0.95, 0.8], dtype=np.float32),
    )
    return CandidatePool(
        queries=pa.array(["q0", "q1", "q2"], type=pa.large_string()),
        corpus=pa.array(CORPUS, type=pa.large_string()),
        row_query=np.array([0, 0, 1, 2]),
        row_positive=np.array([0, 1, 2, 3]),
        positives_indptr=np.array([0, 2, 3, 4]),
        positives_indices=np.array([0, 1, 2, 3]),
        teachers={"hand": tc},
        config={"settings": PoolSettings(depth=5, anchor_column="anchor", positive_column="positive").to_dict()},
        statistics=PoolStatistics(
            rows=4, queries=3, corpus_size=12, queries_with_several_positives=1, added_positives=0,
            duplicate_corpus_texts=0,
        ),
    )  # fmt: skip


# The judge's replies, by text. Rankings list passages most direct first; a missing entry is left out of the reply.
RANKINGS: dict[str, Any] = {
    "q0": ["c2", "p0", "c0", "p1", "c3", "c1"],  # reference = p1 (the lowest positive), rank 3
    "q1": ["c5", "p2", "c1", "c0"],  # c6 left out
    "q2": "failed",
}
ANSWERS: dict[tuple[str, str], Any] = {
    ("q0", "c0"): "ANSWER: c0 says so",
    ("q0", "c1"): "NO ANSWER",
    ("q0", "c2"): "NO ANSWER",
    ("q0", "c3"): "ANSWER: c3 says so",
    ("q1", "c1"): "blah",  # unreadable
    ("q1", "c5"): "NO ANSWER",
    ("q1", "c6"): "NO ANSWER",
    ("q1", "c0"): "ANSWER: c0 again",
    ("q2", "c2"): "ANSWER: c2 says so",
    ("q2", "c7"): "NO ANSWER",
    ("q2", "c3"): "failed",
}


class ScriptedJudge(Judge):
    """Replies from RANKINGS / ANSWERS, parsed like an LLM's; records every question it is asked."""

    def __init__(self, rankings=RANKINGS, answers=ANSWERS, tag: str = "scripted") -> None:
        self.rankings, self.answers, self.tag = rankings, answers, tag
        self.answer_calls: list[tuple[str, str]] = []
        self.rank_calls: list[tuple[str, tuple[str, ...], tuple[int, ...]]] = []

    @property
    def name(self) -> str:
        return self.tag

    def config(self) -> dict[str, Any]:
        return {"type": "scripted", "model": self.tag}

    def answer(self, queries: Sequence[str], passages: Sequence[str]) -> list[Answer]:
        from st_hardneg.relabel.parsing import parse_answer

        out = []
        for q, p in zip(queries, passages):
            self.answer_calls.append((q, p))
            reply = self.answers[(q, p)]
            out.append(Answer("failed", error="scripted failure") if reply == "failed" else parse_answer(reply))
        return out

    def rank(self, queries, passage_lists, positives=None) -> list[Ranking]:
        from st_hardneg.relabel.parsing import parse_ranking

        out = []
        for i, (q, ps) in enumerate(zip(queries, passage_lists)):
            self.rank_calls.append((q, tuple(ps), tuple(positives[i]) if positives is not None else ()))
            script = self.rankings[q]
            if script == "failed":
                out.append(Ranking("failed", error="scripted failure"))
                continue
            reply = " > ".join(f"[{list(ps).index(t) + 1}]" for t in script)
            out.append(parse_ranking(reply, len(ps)))
        return out


@pytest.fixture
def pool() -> CandidatePool:
    return hand_pool()
