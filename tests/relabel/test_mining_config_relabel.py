"""A set selected from a relabeled pool records its judging in ``mining_config.json``, and mining it again with a
judge gives the same rows (the judge's model cannot be rebuilt from a record, so it is passed in)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.hub import MiningConfig
from st_hardneg.relabel import ARHN
from st_hardneg.relabel.judges.base import Judge
from st_hardneg.relabel.parsing import parse_answer, parse_ranking


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3}


class OverlapJudge(Judge):
    """A deterministic stand-in for an LLM: a passage answers when it shares two long words with the query, and
    the ranking orders passages by shared words (ties by position)."""

    @property
    def name(self) -> str:
        return "overlap"

    def config(self):
        return {"type": "overlap", "model": "word-overlap"}

    def answer(self, queries: Sequence[str], passages: Sequence[str]):
        return [
            parse_answer(f"ANSWER: {p[:40]}" if len(words(q) & words(p)) >= 2 else "NO ANSWER")
            for q, p in zip(queries, passages)
        ]

    def rank(self, queries, passage_lists, positives=None):
        out = []
        for q, ps in zip(queries, passage_lists):
            order = sorted(range(len(ps)), key=lambda i: (-len(words(q) & words(ps[i])), i))
            out.append(parse_ranking(" > ".join(f"[{i + 1}]" for i in order), len(ps)))
        return out


def test_a_relabeled_set_is_recorded_and_mined_again_with_a_judge(tmp_path):
    pairs, corpus = load_default()
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=20, seed=3, show_progress=False)
    judgments = pool.relabel(ARHN(OverlapJudge(), candidates=5, cache_folder=tmp_path / "a"), show_progress=False)
    assert judgments.statistics.to_dict()  # the judge did something to record
    selection = pool.select("topk-percpos:0.95", num_negatives=2, show_progress=False, return_statistics=True)
    config = MiningConfig.from_dict(MiningConfig.from_selection(selection, source="default").to_dict())
    assert config.relabel["judge"] == {"type": "overlap", "model": "word-overlap"}
    assert config.relabel["settings"]["candidates"] == 5
    with pytest.raises(ValueError, match="relabeled by ARHN .* pass judge="):
        config.mine(pairs, corpus=corpus, show_progress=False)
    again = config.mine(pairs, corpus=corpus, judge=OverlapJudge(), show_progress=False, return_statistics=True)
    assert again.dataset.to_list() == selection.dataset.to_list()
    assert selection.statistics.excluded_filtered + selection.statistics.excluded_relabeled > 0
    assert again.statistics.excluded_filtered == selection.statistics.excluded_filtered
