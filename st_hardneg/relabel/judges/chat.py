"""LLM judges: chat prompts in, text out, read by :mod:`st_hardneg.relabel.parsing`.

:class:`ChatJudge` implements both stages of the :class:`~st_hardneg.relabel.judges.base.Judge` contract for any
model that continues a chat: it renders the :class:`~st_hardneg.relabel.prompts.Prompts`, hands the conversations
to :meth:`ChatJudge.generate` (the one method a backend implements: a local causal LM, an OpenAI-compatible server)
and parses the replies. A generation that raised becomes a ``"failed"`` reply; text that cannot be read becomes
``"unparseable"``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from st_hardneg.relabel.judges.base import Answer, Judge, Ranking
from st_hardneg.relabel.parsing import parse_answer, parse_ranking
from st_hardneg.relabel.prompts import Prompts
from st_hardneg.relabel.settings import ChatSettings

__all__ = ["ChatJudge", "Failure"]

Conversation = list[dict[str, str]]


class Failure:
    """A generation that did not produce text (an exception after retries), with the reason."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Failure({self.reason!r})"


class ChatJudge(Judge):
    """A judge that asks a chat model, with replaceable prompts.

    Args:
        prompts: the templates (default: ARHN's two stages).
        chat: generation settings (temperature, reply length, passage cut).
    """

    def __init__(self, prompts: Prompts | None = None, chat: ChatSettings | None = None) -> None:
        if prompts is not None and not isinstance(prompts, Prompts):
            raise TypeError(f"prompts must be Prompts, got {type(prompts).__name__}")
        self.prompts = prompts or Prompts()
        self.chat = ChatSettings.from_kwargs(chat)

    @abc.abstractmethod
    def generate(self, conversations: Sequence[Conversation]) -> list[str | Failure]:
        """One reply per conversation, in order: the model's text, or a :class:`Failure`."""

    def answer(self, queries: Sequence[str], passages: Sequence[str]) -> list[Answer]:
        conversations = [self.prompts.answer_messages(q, self._cut(p)) for q, p in zip(queries, passages)]
        return [
            Answer("failed", error=r.reason) if isinstance(r, Failure) else parse_answer(r)
            for r in self.generate(conversations)
        ]

    def rank(
        self,
        queries: Sequence[str],
        passage_lists: Sequence[Sequence[str]],
        positives: Sequence[Sequence[int]] | None = None,
    ) -> list[Ranking]:
        # ``positives`` is never shown to the model: the ranking must not know which passage is labelled.
        conversations = [
            self.prompts.rank_messages(q, [self._cut(p) for p in ps]) for q, ps in zip(queries, passage_lists)
        ]
        replies = self.generate(conversations)
        return [
            Ranking("failed", error=r.reason) if isinstance(r, Failure) else parse_ranking(r, len(ps))
            for r, ps in zip(replies, passage_lists)
        ]

    def _cut(self, passage: str) -> str:
        limit = self.chat.max_passage_words
        if limit is None:
            return passage
        words = passage.split()
        return passage if len(words) <= limit else " ".join(words[:limit])

    def chat_config(self) -> dict[str, Any]:
        """The prompts and generation settings, for :meth:`config`."""
        return {"prompts": self.prompts.to_dict(), **self.chat.to_dict()}
