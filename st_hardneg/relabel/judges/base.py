"""The judge contract of ARHN's two stages (the first abstract of the seed 003: answer-centric relabeling).

A judge answers two kinds of batched question, and nothing else:

- stage 1, :meth:`Judge.answer`: for each (query, passage), a passage-grounded answer snippet, or "no answer";
- stage 2, :meth:`Judge.rank`: for each query and its list of passages, an order by how directly each passage
  answers the query, most direct first.

Replies are data (:class:`Answer`, :class:`Ranking`), never exceptions: a reply that could not be read is
``"unparseable"``, a request that failed (after the judge's own retries) is ``"failed"``. A judge never decides what
becomes a positive or a negative; :class:`~st_hardneg.relabel.ARHN` does, from the replies.

:meth:`Judge.config` is the judge's provenance (recorded in pools, ``mining.json`` and dataset cards) and
:meth:`Judge.fingerprint` is what the judgment cache keys on: everything that changes a reply (model, prompts,
generation settings), nothing that does not (a server's address, concurrency, timeouts).
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ANSWER_STATUSES", "RANK_STATUSES", "Answer", "Judge", "Ranking"]

#: Stage 1 outcomes: a snippet, "no answer", a reply that could not be read, a request that failed.
ANSWER_STATUSES: tuple[str, ...] = ("answer", "no answer", "unparseable", "failed")
#: Stage 2 outcomes.
RANK_STATUSES: tuple[str, ...] = ("ranked", "unparseable", "failed")


@dataclass(frozen=True)
class Answer:
    """A stage-1 reply for one (query, passage).

    Attributes:
        status: one of :data:`ANSWER_STATUSES`.
        snippet: the answer snippet when ``status == "answer"`` (``None`` for judges that give no text, such as
            :class:`~st_hardneg.relabel.CrossEncoderJudge`).
        raw: what the judge returned (the model's text, or a score), kept for inspection.
        error: why the request failed, when it did.

    Examples:
        >>> Answer("answer", snippet="Paris").answers
        True
        >>> Answer.from_dict(Answer("failed", error="HTTP 503").to_dict())
        Answer(status='failed', snippet=None, raw=None, error='HTTP 503')
    """

    status: str
    snippet: str | None = None
    raw: Any = None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.status not in ANSWER_STATUSES:
            raise ValueError(f"status must be one of {ANSWER_STATUSES}, got {self.status!r}")

    @property
    def answers(self) -> bool:
        return self.status == "answer"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Answer:
        return cls(**d)


@dataclass(frozen=True)
class Ranking:
    """A stage-2 reply for one query and its passages.

    Attributes:
        status: one of :data:`RANK_STATUSES`.
        order: passage positions (0-based, as given to :meth:`Judge.rank`), most direct answer first. It may leave
            passages out (the judge did not rank them): their rank is unknown.
        raw: what the judge returned.
        error: why the request failed, when it did.

    Examples:
        >>> Ranking("ranked", order=(2, 0)).ranks(3)
        [1, -1, 0]
    """

    status: str
    order: tuple[int, ...] | None = None
    raw: Any = None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.status not in RANK_STATUSES:
            raise ValueError(f"status must be one of {RANK_STATUSES}, got {self.status!r}")
        if self.order is not None:
            object.__setattr__(self, "order", tuple(int(i) for i in self.order))

    def ranks(self, n: int) -> list[int]:
        """The rank of each of ``n`` passages (0 = most direct), ``-1`` where the ranking leaves it out."""
        out = [-1] * n
        for rank, position in enumerate(self.order or ()):
            if 0 <= position < n and out[position] < 0:
                out[position] = rank
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["order"] = list(self.order) if self.order is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Ranking:
        return cls(**d)


class Judge(abc.ABC):
    """A relevance judge for ARHN: answers (stage 1) and listwise rankings (stage 2), both batched.

    Subclass it to plug in another model or service: implement :meth:`answer`, :meth:`rank` and :meth:`config`;
    override :meth:`check` to verify, before the first request, that the judge can work (a server is up, a model is
    served). Implementations return one reply per input, in order, and turn every error of a single request into a
    ``"failed"`` reply rather than raising.
    """

    #: Whether :meth:`answer` returns text snippets (LLM judges) or only a yes/no signal (score-based judges).
    gives_snippets: bool = True

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """A short name for logs and cards (e.g. the model's name)."""

    @abc.abstractmethod
    def answer(self, queries: Sequence[str], passages: Sequence[str]) -> list[Answer]:
        """Stage 1 for each pair ``(queries[i], passages[i])``: an answer snippet, or "no answer"."""

    @abc.abstractmethod
    def rank(
        self,
        queries: Sequence[str],
        passage_lists: Sequence[Sequence[str]],
        positives: Sequence[Sequence[int]] | None = None,
    ) -> list[Ranking]:
        """Stage 2 for each query: its passages ordered by how directly they answer it, most direct first.

        Args:
            queries: one query per request.
            passage_lists: the passages of each request; :attr:`Ranking.order` indexes into them.
            positives: where the labelled positives are in each list. LLM judges must not show this to the model (it
                would bias the ranking); score-based judges may use it (the margin of
                :class:`~st_hardneg.relabel.CrossEncoderJudge`).
        """

    @abc.abstractmethod
    def config(self) -> dict[str, Any]:
        """JSON-ready provenance: the judge's type, model and every setting that shapes its replies."""

    def fingerprint(self) -> str:
        """What the judgment cache keys on (default: a digest of :meth:`config`)."""
        return hashlib.sha256(json.dumps(self.config(), sort_keys=True, default=str).encode()).hexdigest()[:24]

    def check(self) -> None:  # noqa: B027 - optional hook, nothing to check by default
        """Raise a ``ValueError`` (or ``ImportError``) when the judge cannot work, before any question is asked."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
