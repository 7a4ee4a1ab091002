"""A pool's judgments as data: per anchor and judged passage, the snippet, the rank and the label.

One row per (anchor, passage) a relabeling run looked at: each anchor's judged candidates and its labelled
positives (whose rank is the reference). Outcomes are stored as small integer codes; :meth:`Judgments.to_dataset`
gives them as readable text with the query and passage texts.

The label of a candidate follows ARHN (the first abstract of the seed 003): "Passages ranked above the original
positive are relabeled to additional positives. Among passages ranked below the positive, ARHN excludes any that
contain an answer snippet from the negative set." With several labelled positives, the reference is the one ranked
lowest (a candidate the judge ranks above any labelled positive is relabeled), as ``positive_score="min"`` compares
with the lowest positive score. The three modes are the paper's three configurations:

- ``"relabel"``: ranked above the positive -> ``relabeled``; everything else stays a negative;
- ``"filter"``: ranked below the positive with an answer snippet -> ``filtered``; passages ranked above it stay
  negatives (relabeling is what the paper ablates here);
- ``"both"``: both rules.

A candidate whose decision needs a reply that is missing (an unparseable or failed ranking, a passage the ranking
left out, an unreadable stage-1 reply) is labelled ``unparseable`` or ``failed`` and selected as if never judged.
Labels can be recomputed for another mode (:meth:`Judgments.labels`) when the replies it needs were asked.

Examples:
    >>> import numpy as np
    >>> j = Judgments.from_columns(
    ...     query=[0, 0, 0, 0], document=[9, 1, 2, 3], is_positive=[True, False, False, False],
    ...     rank=[1, 0, 2, 3], rank_status=["ranked"] * 4,
    ...     answer=["not asked", "answer", "answer", "no answer"], snippet=[None, "x", "y", None], mode="both")
    >>> [LABELS[c] for c in j.labels("both")]
    ['positive', 'relabeled', 'filtered', 'negative']
    >>> [LABELS[c] for c in j.labels("relabel")]
    ['positive', 'relabeled', 'negative', 'negative']
    >>> [LABELS[c] for c in j.labels("filter")]
    ['positive', 'negative', 'filtered', 'negative']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from st_hardneg.relabel.settings import ARHN_MODES
from st_hardneg.relabel.statistics import RelabelStatistics

__all__ = ["ANSWER_CODES", "LABELS", "RANK_CODES", "JudgmentLookup", "Judgments"]

#: Labels of judged passages (the codes are their positions).
LABELS: tuple[str, ...] = ("negative", "relabeled", "filtered", "unparseable", "failed", "positive")
NEGATIVE, RELABELED, FILTERED, UNPARSEABLE, FAILED, POSITIVE = range(6)
#: Stage-1 outcome of a passage.
ANSWER_CODES: tuple[str, ...] = ("not asked", "answer", "no answer", "unparseable", "failed")
A_NOT_ASKED, A_ANSWER, A_NO_ANSWER, A_UNPARSEABLE, A_FAILED = range(5)
#: Stage-2 outcome of a passage: ranked, left out of a readable ranking, in an unreadable or failed ranking.
RANK_CODES: tuple[str, ...] = ("ranked", "unranked", "unparseable", "failed")
R_RANKED, R_UNRANKED, R_UNPARSEABLE, R_FAILED = range(4)

_COLUMNS = ("query", "document", "is_positive", "position", "rank", "positive_rank", "rank_status", "answer")
_DTYPES = {
    "query": np.int32,
    "document": np.int32,
    "is_positive": np.bool_,
    "position": np.int16,
    "rank": np.int16,
    "positive_rank": np.int16,
    "rank_status": np.int8,
    "answer": np.int8,
}


@dataclass
class Judgments:
    """The judgments of a pool (see the module docstring).

    Attributes:
        query: ``[n]`` pool query index.
        document: ``[n]`` pool corpus index.
        is_positive: ``[n]`` whether the passage is one of the anchor's labelled positives.
        position: ``[n]`` the candidate's place in the teacher's ranking (0 = hardest), -1 for positives.
        rank: ``[n]`` its place in the judge's ranking (0 = most direct answer), -1 when unknown.
        positive_rank: ``[n]`` the anchor's reference rank (its lowest-ranked positive), -1 when unknown.
        rank_status / answer: ``[n]`` codes of :data:`RANK_CODES` / :data:`ANSWER_CODES`.
        snippet: Arrow strings, the stage-1 answer snippet (null when none).
        mode: the ARHN mode the run was made with (the default mode of selections).
        config: the run's provenance: method, settings, judge (with its prompts), teacher.
        statistics: the run's :class:`~st_hardneg.relabel.RelabelStatistics`.
    """

    query: np.ndarray
    document: np.ndarray
    is_positive: np.ndarray
    position: np.ndarray
    rank: np.ndarray
    positive_rank: np.ndarray
    rank_status: np.ndarray
    answer: np.ndarray
    snippet: pa.Array
    mode: str
    config: dict[str, Any] = field(default_factory=dict)
    statistics: RelabelStatistics = field(default_factory=RelabelStatistics)

    @classmethod
    def from_columns(
        cls,
        *,
        query: Sequence[int],
        document: Sequence[int],
        is_positive: Sequence[bool],
        rank: Sequence[int],
        rank_status: Sequence[str],
        answer: Sequence[str],
        snippet: Sequence[str | None],
        mode: str,
        position: Sequence[int] | None = None,
        config: dict[str, Any] | None = None,
    ) -> Judgments:
        """Judgments from plain lists (statuses as text); the reference rank is computed per anchor."""
        q = np.asarray(query, dtype=np.int32)
        pos = np.asarray(is_positive, dtype=bool)
        r = np.asarray(rank, dtype=np.int16)
        rs = np.array([RANK_CODES.index(s) for s in rank_status], dtype=np.int8)
        ref = reference_ranks(q, pos, r, rs)
        return cls(
            query=q,
            document=np.asarray(document, dtype=np.int32),
            is_positive=pos,
            position=np.asarray(position if position is not None else np.where(pos, -1, 0), dtype=np.int16),
            rank=r,
            positive_rank=ref,
            rank_status=rs,
            answer=np.array([ANSWER_CODES.index(a) for a in answer], dtype=np.int8),
            snippet=pa.array(list(snippet), type=pa.large_string()),
            mode=mode,
            config=dict(config or {}),
        )

    def __len__(self) -> int:
        return len(self.query)

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes these judgments can decide: all three when stage 1 was asked, else ``relabel`` only."""
        candidates = ~self.is_positive
        if candidates.any() and (self.answer[candidates] == A_NOT_ASKED).any():
            return ("relabel",)
        return ARHN_MODES

    def labels(self, mode: str | None = None) -> np.ndarray:
        """The label code (:data:`LABELS`) of every row under ``mode`` (default: the run's)."""
        mode = mode or self.mode
        if mode not in self.modes:
            raise ValueError(
                f"these judgments cannot decide mode={mode!r}: the run used mode={self.mode!r}, which did not ask "
                f"for answer snippets (stage 1); they decide {list(self.modes)}. Relabel with mode='filter' or 'both'"
            )
        return decide(self.rank, self.positive_rank, self.rank_status, self.answer, self.is_positive, mode)

    def counts(self, mode: str | None = None) -> dict[str, int]:
        """How many judged candidates (positives left out) have each label under ``mode``."""
        labels = self.labels(mode)[~self.is_positive]
        found = np.bincount(labels, minlength=len(LABELS))
        return {name: int(found[i]) for i, name in enumerate(LABELS) if name != "positive"}

    def lookup(self, corpus_size: int, mode: str | None = None, *, judged_teacher: bool = False) -> JudgmentLookup:
        """A vectorised (query, document) -> label lookup for selection.

        Args:
            judged_teacher: the lookup will be given the judged teacher's candidates, in its order: only the columns
                that were judged (its top ``candidates``) are looked up.
        """
        return JudgmentLookup(
            self.query, self.document, self.labels(mode), corpus_size, self.position, judged_teacher=judged_teacher
        )

    # ---------------------------------------------------------------- persistence and inspection
    def to_table(self) -> pa.Table:
        columns = {name: pa.array(getattr(self, name)) for name in _COLUMNS}
        return pa.table({**columns, "snippet": self.snippet})

    @classmethod
    def from_table(
        cls, table: pa.Table, *, mode: str, config: dict[str, Any], statistics: dict[str, Any] | None
    ) -> Judgments:
        arrays = {name: table.column(name).to_numpy().astype(_DTYPES[name], copy=False) for name in _COLUMNS}
        return cls(
            **arrays,
            snippet=table.column("snippet").combine_chunks(),
            mode=mode,
            config=config,
            statistics=RelabelStatistics.from_dict(statistics) if statistics else RelabelStatistics(mode=mode),
        )

    def to_dataset(self, pool: Any, mode: str | None = None) -> Any:
        """The judgments as a :class:`datasets.Dataset` with texts: query, passage, positive, position, rank,
        positive_rank, rank_status, answer, snippet, label (under ``mode``, default the run's)."""
        from datasets import Dataset

        labels = self.labels(mode)
        return Dataset.from_dict(
            {
                "query": pc.take(pool.queries, pa.array(self.query)).to_pylist(),
                "passage": pc.take(pool.corpus, pa.array(self.document)).to_pylist(),
                "is_positive": self.is_positive.tolist(),
                "position": self.position.tolist(),
                "rank": self.rank.tolist(),
                "positive_rank": self.positive_rank.tolist(),
                "rank_status": [RANK_CODES[c] for c in self.rank_status],
                "answer": [ANSWER_CODES[c] for c in self.answer],
                "snippet": self.snippet.to_pylist(),
                "label": [LABELS[c] for c in labels],
            }
        )

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return f"Judgments(mode={self.mode!r}, rows={len(self)}, {counts})"


def reference_ranks(query: np.ndarray, is_positive: np.ndarray, rank: np.ndarray, rank_status: np.ndarray):
    """Per row, the rank of its anchor's lowest-ranked positive (-1 when any positive's rank is unknown)."""
    n_q = int(query.max()) + 1 if len(query) else 0
    lowest = np.full(n_q, -1, dtype=np.int64)
    unknown = np.zeros(n_q, dtype=bool)
    pos = is_positive
    np.maximum.at(lowest, query[pos], rank[pos].astype(np.int64))
    np.logical_or.at(unknown, query[pos], (rank[pos] < 0) | (rank_status[pos] != R_RANKED))
    has_positive = np.zeros(n_q, dtype=bool)
    has_positive[query[pos]] = True
    ref = np.where(unknown | ~has_positive, -1, lowest)
    return ref[query].astype(np.int16)


def decide(
    rank: np.ndarray,
    positive_rank: np.ndarray,
    rank_status: np.ndarray,
    answer: np.ndarray,
    is_positive: np.ndarray,
    mode: str,
) -> np.ndarray:
    """ARHN's rule (module docstring), vectorised: the label code of every row under ``mode``."""
    known = (rank_status == R_RANKED) & (rank >= 0) & (positive_rank >= 0)
    above = known & (rank < positive_rank)
    below = known & (rank > positive_rank)
    # Without a known rank (the ranking failed, was unreadable, left the passage or a positive out): undecided.
    rank_missing = np.where(rank_status == R_FAILED, FAILED, UNPARSEABLE).astype(np.int8)
    label = np.full(len(rank), NEGATIVE, dtype=np.int8)
    if mode in ("relabel", "both"):
        label[above] = RELABELED
    if mode in ("filter", "both"):
        label[below & (answer == A_ANSWER)] = FILTERED
        label[below & (answer == A_UNPARSEABLE)] = UNPARSEABLE
        label[below & (answer == A_FAILED)] = FAILED
    if mode in ("relabel", "both"):
        label[~known] = rank_missing[~known]
    else:  # filter: a passage the judge does not answer from stays a negative wherever it ranks
        undecided = ~known & (answer != A_NO_ANSWER)
        failed = (rank_status == R_FAILED) | (answer == A_FAILED)
        label[undecided] = np.where(failed, FAILED, UNPARSEABLE)[undecided]
    label[is_positive] = POSITIVE
    return label


class JudgmentLookup:
    """Labels of (query, document) pairs, looked up in bulk (sorted keys and ``searchsorted``)."""

    def __init__(
        self,
        query: np.ndarray,
        document: np.ndarray,
        labels: np.ndarray,
        corpus_size: int,
        position: np.ndarray,
        *,
        judged_teacher: bool = False,
    ) -> None:
        candidate = labels != POSITIVE
        judged_positions = position[candidate]
        #: Candidate columns that can hold a judged passage (all of them unless these are the judged teacher's).
        self.columns = int(judged_positions.max(initial=-1)) + 1 if judged_teacher else None
        keys = query[candidate].astype(np.int64) * np.int64(corpus_size) + document[candidate].astype(np.int64)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.labels = labels[candidate][order]
        self.corpus_size = corpus_size
        self._query = query[candidate]
        self._document = document[candidate]
        self._position = position[candidate]
        self._all_labels = labels[candidate]

    def __call__(self, q: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """``[rows, depth]`` label codes of ``cand`` for the rows' queries ``q``; -1 where not judged."""
        out = np.full(cand.shape, -1, dtype=np.int8)
        if len(self.keys) == 0:
            return out
        part = cand if self.columns is None else cand[:, : self.columns]
        keys = q.astype(np.int64)[:, None] * np.int64(self.corpus_size) + part.astype(np.int64)
        at = np.clip(np.searchsorted(self.keys, keys), 0, len(self.keys) - 1)
        found = (self.keys[at] == keys) & (part >= 0)
        out[:, : part.shape[1]] = np.where(found, self.labels[at], -1)
        return out

    def relabeled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The relabeled (query, document) pairs and their place in the judged teacher's ranking, by query, in the
        teacher's order within a query."""
        mask = self._all_labels == RELABELED
        q, d, p = self._query[mask], self._document[mask], self._position[mask]
        order = np.lexsort((p, q))
        return q[order].astype(np.int64), d[order].astype(np.int64), p[order].astype(np.int64)
