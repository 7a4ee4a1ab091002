"""The prompts of the LLM judges: replaceable templates for ARHN's two stages.

The defaults follow the two stages of ARHN (the first abstract of the seed 003: "for each query-passage pair, ARHN
prompts the LLM to generate a passage-grounded answer snippet or to indicate that the passage does not support an
answer"; then "an LLM-based listwise ranking over the candidate set to order passages by direct answerability to
the query"). The abstract does not print its prompts; these are written for this project. The listwise prompt uses
the bracketed identifiers and the ``[2] > [1] > [3]`` reply format of RankGPT (Sun et al., 2023), which open
instruct models follow well.

Templates are ``str.format`` strings: the answer prompt takes ``{query}`` and ``{passage}``, the ranking prompt
``{query}``, ``{passages}`` (the numbered list) and optionally ``{count}``. Write literal braces as ``{{`` and ``}}``.
A template is checked when the settings are made, before any question is asked.

Examples:
    >>> p = Prompts()
    >>> print(p.render_passages(["Paris is the capital.", "Lyon is a city."]))
    [1] Paris is the capital.
    [2] Lyon is a city.
    >>> Prompts(answer="Question: {query}")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: answer prompt must contain {passage}; ...
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from st_hardneg.settings.base import Settings, option

__all__ = ["DEFAULT_ANSWER_PROMPT", "DEFAULT_RANK_PROMPT", "DEFAULT_SYSTEM_PROMPT", "Prompts", "read_prompt"]

DEFAULT_SYSTEM_PROMPT = (
    "You judge whether passages answer questions. Base every judgment only on the passage text you are given."
)

DEFAULT_ANSWER_PROMPT = """Question: {query}

Passage: {passage}

Does this passage answer the question? If it does, reply with "ANSWER: " followed by the shortest part of the \
passage that answers the question, copied from the passage. If it does not, reply exactly "NO ANSWER". Reply with \
nothing else."""

DEFAULT_RANK_PROMPT = """Below are {count} passages, each with an identifier in brackets. Rank them by how directly \
they answer this question: {query}

{passages}

Order all {count} passages from the one that answers the question most directly to the one that answers it least. \
Reply only with the identifiers in that order, most direct first, in this form: [2] > [1] > [3]. Do not explain."""

#: Placeholders of each template: (required, optional).
_FIELDS = {
    "answer": ({"query", "passage"}, set()),
    "rank": ({"query", "passages"}, {"count"}),
    "system": (set(), set()),
}


def read_prompt(text: str) -> str:
    """A prompt from the command line: ``@FILE`` reads the file, anything else is the template itself."""
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise ValueError(f"prompt file {path} does not exist")
        return path.read_text()
    return text


@dataclass(frozen=True)
class Prompts(Settings):
    """The templates an LLM judge fills in (defaults: ARHN's two stages).

    See :mod:`st_hardneg.relabel.prompts` for the placeholders each template takes.
    """

    system: str = option(
        DEFAULT_SYSTEM_PROMPT,
        "system message of every request",
        parse=read_prompt,
        cli_name="system-prompt",
        metavar="TEXT|@FILE",
    )
    answer: str = option(
        DEFAULT_ANSWER_PROMPT,
        "stage-1 template with {query} and {passage} (default: ARHN's answer-snippet prompt)",
        parse=read_prompt,
        cli_name="answer-prompt",
        metavar="TEXT|@FILE",
    )
    rank: str = option(
        DEFAULT_RANK_PROMPT,
        "stage-2 template with {query}, {passages} and optionally {count} (default: ARHN's listwise prompt)",
        parse=read_prompt,
        cli_name="rank-prompt",
        metavar="TEXT|@FILE",
    )

    def __post_init__(self) -> None:
        for name, (required, optional) in _FIELDS.items():
            template = getattr(self, name)
            if not isinstance(template, str):
                raise TypeError(f"{name} prompt must be a string, got {type(template).__name__}")
            try:
                used = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
            except ValueError as err:
                message = f"{name} prompt is not a valid template ({err}); write literal braces as {{{{ }}}}"
                raise ValueError(message) from None
            missing, unknown = required - used, used - required - optional
            if missing:
                raise ValueError(
                    f"{name} prompt must contain {', '.join('{' + m + '}' for m in sorted(missing))}; "
                    "write literal braces as {{ }}"
                )
            if unknown:
                allowed = ", ".join("{" + f + "}" for f in sorted(required | optional)) or "no placeholders"
                raise ValueError(
                    f"{name} prompt uses {', '.join('{' + u + '}' for u in sorted(unknown))}; it takes {allowed} "
                    "(write literal braces as {{ }})"
                )

    def answer_messages(self, query: str, passage: str) -> list[dict[str, str]]:
        """The chat messages of a stage-1 request."""
        return self._messages(self.answer.format(query=query, passage=passage))

    def rank_messages(self, query: str, passages: Sequence[str]) -> list[dict[str, str]]:
        """The chat messages of a stage-2 request (passages numbered from 1)."""
        return self._messages(
            self.rank.format(query=query, passages=self.render_passages(passages), count=len(passages))
        )

    @staticmethod
    def render_passages(passages: Sequence[str]) -> str:
        return "\n".join(f"[{i + 1}] {' '.join(p.split())}" for i, p in enumerate(passages))

    def _messages(self, user: str) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.system}] if self.system else []
        return [*messages, {"role": "user", "content": user}]
