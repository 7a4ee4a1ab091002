"""docs/real_data.md runs as written, and its counts add up: a set made with the issue-18 options is mined again
from its mining_config.json."""

import re

import numpy as np

from st_hardneg import CandidatePool, TopKPercPos
from st_hardneg.data import load_default
from tests.conftest import REPO_ROOT


def test_the_real_data_page_runs_and_reproduces_its_set(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "docs" / "real_data.md").read_text(), flags=re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    scope = {"__name__": "__doc__"}
    exec(compile(blocks[0], "docs/real_data.md", "exec"), scope)
    st, pool = scope["st"], scope["pool"]
    assert pool.statistics.rows_excluded == 2 and st.rows_in == 61
    # every candidate slot is counted once: under one rule, or as a survivor
    removed = st.removed_by_rank + st.removed_by_method + st.removed_above_max_score + st.removed_below_min_score
    assert st.candidates_considered == removed + st.survivors
    # the window removes the first 3 ranks of every row, counted after the near copies of the positive (within
    # .01 of its score) left the candidates
    tc = pool.teacher_candidates(None)
    cand, scores = tc.candidates[pool.row_query], tc.scores[pool.row_query]
    near = (cand >= 0) & (abs(scores - tc.positive_scores[:, None]) <= 0.01)
    left = (cand >= 0).sum(axis=1) - near.sum(axis=1)
    assert st.removed_near_duplicate == int(near.sum())
    assert st.removed_by_rank == int(np.minimum(left, 3).sum())
    card = (tmp_path / "mined" / "README.md").read_text()
    assert "Outside the rank window" in card and "Removed above the maximum score" in card
    assert "Evaluation anchors excluded" in card


def test_the_window_and_the_band_keep_what_the_method_alone_keeps_inside_them():
    # by hand, from the method alone: the negatives with the new rules are the method's survivors at rank >= 3 with
    # a score <= 3, in rank order
    pairs, corpus = load_default()
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=30, show_progress=False)
    tc = pool.teacher_candidates(None)
    ruled = pool.select(TopKPercPos(0.95), num_negatives=2, range_min=3, max_score=3.0, on_short="keep",
                        output_format="labeled-list", show_progress=False, return_statistics=True)  # fmt: skip
    limit = 0.95 * tc.positive_scores
    corpus_texts = pool.corpus.to_pylist()
    expected = []
    for r, q in enumerate(pool.row_query):
        keep = [
            corpus_texts[d]
            for j, (d, s) in enumerate(zip(tc.candidates[q], tc.scores[q]))
            if d >= 0 and j >= 3 and s <= limit[r] and s <= 3.0
        ][:2]
        if keep:
            expected.append(keep)
    assert [row[1:] for row in ruled.dataset["positive"]] == expected
