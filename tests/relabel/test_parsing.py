"""Reading LLM replies (answers and rankings) and checking prompt templates."""

from __future__ import annotations

import pytest

from st_hardneg.relabel import Prompts
from st_hardneg.relabel.parsing import parse_answer, parse_ranking


@pytest.mark.parametrize(
    "reply, status, snippet",
    [
        ("ANSWER: Paris is the capital.", "answer", "Paris is the capital."),
        ('answer: "Paris is the capital."', "answer", "Paris is the capital."),
        ("**Answer:** Paris", "answer", "Paris"),
        ("Sure! Here is my judgment.\nANSWER: Paris", "answer", "Paris"),
        ("<think>The passage mentions Paris.</think>\nANSWER: Paris", "answer", "Paris"),
        ("```\nANSWER: Paris\n```", "answer", "Paris"),
        ("NO ANSWER", "no answer", None),
        ("No answer.", "no answer", None),
        ("NO_ANSWER", "no answer", None),
        ("Answer: no answer", "no answer", None),
        ("The passage does not say.\nNO ANSWER", "no answer", None),
        ("ANSWER:", "unparseable", None),
        ("", "unparseable", None),
        ("Paris, I think", "unparseable", None),
        ("<think>unfinished reasoning", "unparseable", None),
        (None, "unparseable", None),
    ],
)
def test_answers(reply, status, snippet):
    parsed = parse_answer(reply)
    assert (parsed.status, parsed.snippet) == (status, snippet)
    assert parsed.raw == reply


@pytest.mark.parametrize(
    "reply, order",
    [
        ("[2] > [1] > [3]", (1, 0, 2)),
        ("Ranking: [3] > [3] > [1]", (2, 0)),  # a repeat is ignored
        ("[9] > [2] > [1]", (1, 0)),  # out of range is ignored
        ("2 > 3 > 1", (1, 2, 0)),  # bare numbers when there are no brackets
        ("<think>maybe [1] first</think>[3] > [2]", (2, 1)),
        ("1.5 and v2 and 3", (2,)),  # decimals and words with digits are not identifiers
    ],
)
def test_rankings(reply, order):
    parsed = parse_ranking(reply, 3)
    assert parsed.status == "ranked" and parsed.order == order


@pytest.mark.parametrize("reply", ["", "I cannot rank these passages.", "[0] > [7]", None])
def test_unreadable_rankings(reply):
    assert parse_ranking(reply, 3).status == "unparseable"


def test_a_partial_ranking_leaves_the_rest_unknown():
    assert parse_ranking("[3] > [1]", 4).ranks(4) == [1, -1, 0, -1]


def test_default_prompts_follow_the_two_stages_and_render():
    p = Prompts()
    answer = p.answer_messages("what is a cell?", "A cell is   the unit of life.")
    assert [m["role"] for m in answer] == ["system", "user"]
    assert "what is a cell?" in answer[1]["content"] and "NO ANSWER" in answer[1]["content"]
    rank = p.rank_messages("what is a cell?", ["first\npassage", "second"])[1]["content"]
    assert "[1] first passage\n[2] second" in rank and "2 passages" in rank


def test_prompts_are_replaceable_and_checked(tmp_path):
    custom = Prompts(system="", answer="Q: {query}\nP: {passage}\nReply YES or NO ANSWER.", rank="{query}: {passages}")
    assert custom.answer_messages("q", "p") == [{"role": "user", "content": "Q: q\nP: p\nReply YES or NO ANSWER."}]
    with pytest.raises(ValueError, match=r"must contain \{passages\}"):
        Prompts(rank="Rank for {query}")
    with pytest.raises(ValueError, match=r"uses \{question\}"):
        Prompts(answer="{question} {query} {passage}")
    with pytest.raises(ValueError, match="not a valid template"):
        Prompts(answer="{query} {passage} {")
    assert (
        Prompts(answer='JSON {{"answer": ...}} for {query} / {passage}')
        .answer_messages("q", "p")[1]["content"]
        .startswith('JSON {"answer": ...}')
    )
    from st_hardneg.relabel.prompts import read_prompt

    (tmp_path / "answer.txt").write_text("From a file: {query} {passage}")
    assert read_prompt(f"@{tmp_path / 'answer.txt'}") == "From a file: {query} {passage}"
    with pytest.raises(ValueError, match="does not exist"):
        read_prompt(f"@{tmp_path / 'missing.txt'}")
