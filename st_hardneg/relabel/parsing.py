"""Reading LLM replies into :class:`~st_hardneg.relabel.Answer` and :class:`~st_hardneg.relabel.Ranking`.

Models wrap their replies in many ways (quotes, Markdown, a "Sure, here is..." preamble, ``<think>`` blocks of
reasoning models). The readers below accept those, and return ``"unparseable"`` rather than guessing: an unreadable
reply leaves the candidate as it was (ARHN never turns it into a positive or removes it).

Examples:
    >>> parse_answer('ANSWER: "Paris is the capital of France."').snippet
    'Paris is the capital of France.'
    >>> parse_answer("No answer.").status
    'no answer'
    >>> parse_answer("The weather is nice today").status
    'unparseable'
    >>> parse_ranking("[3] > [1] > [2]", 3).order
    (2, 0, 1)
    >>> parse_ranking("Ranking: 2 > 1", 3).order  # bare numbers, a passage left out
    (1, 0)
    >>> parse_ranking("I cannot rank these.", 3).status
    'unparseable'
"""

from __future__ import annotations

import re

from st_hardneg.relabel.judges.base import Answer, Ranking

__all__ = ["parse_answer", "parse_ranking"]

_THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)
_NO_ANSWER = re.compile(r"^\W*(no[\s_-]*answer|none|n/a)\W*$", re.I)
_NO_ANSWER_START = re.compile(r"^\W*no[\s_-]*answer\b", re.I)
_ANSWER = re.compile(r"^\W*(?:final\s+)?answer\s*[:\-]\s*(.*)$", re.I | re.S)
_BRACKETED = re.compile(r"\[(\d+)\]")
_BARE = re.compile(r"(?<![\w.])(\d+)(?![\w.])")


def _clean(text: str) -> str:
    text = _THINK.sub("", text)
    text = re.sub(r"```\w*", "", text)
    return text.strip()


def parse_answer(text: str | None) -> Answer:
    """A stage-1 reply: ``ANSWER: <snippet>`` or ``NO ANSWER`` (case, quotes and Markdown ignored).

    The answer line may follow a preamble (the first line starting with "ANSWER:" is read). A reply that says
    neither, or an ``ANSWER:`` with nothing after it, is ``"unparseable"``.
    """
    if not isinstance(text, str):
        return Answer("unparseable", raw=text)
    cleaned = _clean(text)
    if not cleaned:
        return Answer("unparseable", raw=text)
    if _NO_ANSWER.match(cleaned) or _NO_ANSWER_START.match(cleaned):
        return Answer("no answer", raw=text)
    lines = cleaned.splitlines()
    for i, line in enumerate(lines):
        m = _ANSWER.match(line.strip().strip("*_"))
        if m:
            snippet = " ".join([m.group(1), *lines[i + 1 :]]).strip()
            snippet = snippet.strip("*_ ").strip("\"'“”‘’").strip()
            if not snippet:
                return Answer("unparseable", raw=text)
            if _NO_ANSWER.match(snippet):
                return Answer("no answer", raw=text)
            return Answer("answer", snippet=snippet, raw=text)
    if any(_NO_ANSWER.match(line) for line in lines):
        return Answer("no answer", raw=text)
    return Answer("unparseable", raw=text)


def parse_ranking(text: str | None, count: int) -> Ranking:
    """A stage-2 reply: passage identifiers (1-based, as in the prompt) most direct first.

    Bracketed identifiers (``[3] > [1]``) are read when present, bare numbers otherwise. Identifiers outside
    ``1..count`` and repeats are ignored; passages left out keep an unknown rank (:meth:`Ranking.ranks` gives -1).
    A reply with no usable identifier is ``"unparseable"``.
    """
    if not isinstance(text, str):
        return Ranking("unparseable", raw=text)
    cleaned = _clean(text)
    found = _BRACKETED.findall(cleaned) or _BARE.findall(cleaned)
    order: list[int] = []
    seen = set()
    for token in found:
        i = int(token) - 1
        if 0 <= i < count and i not in seen:
            seen.add(i)
            order.append(i)
    if not order:
        return Ranking("unparseable", raw=text)
    return Ranking("ranked", order=tuple(order), raw=text)
