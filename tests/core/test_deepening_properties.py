"""Property test of ``on_short="deepen"`` (hypothesis): with the "top" sampler and no ``max_depth``, every row gets the
first ``num_negatives`` documents of its anchor's whole ranking that survive the method (and ``min_score``), however
shallow the pool; a row is dropped exactly when the whole corpus has fewer. The reference ranks the corpus here, by
score then document id, from a random score table on a dyadic grid (exact in float32 and float64, many ties), never
by calling the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from st_hardneg import CandidatePool
from tests.core.matrix_teacher import MatrixTeacher

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

METHODS = ["naive-topk", "topk-shifted:1", "topk-abs:0.25", "topk-abs:0", "topk-marginpos:0"]
METHODS += ["topk-marginpos:0.125", "topk-percpos:0.5", "topk-percpos:0.75", "topk-percpos:1"]


@st.composite
def cases(draw: Any) -> dict:
    n_docs = draw(st.integers(4, 20))
    n_queries = draw(st.integers(1, 5))
    grid = st.integers(-16, 16).map(lambda i: i / 16)
    table, rows = {}, []
    for q in range(n_queries):
        table[f"q{q}"] = {f"d{d}": draw(grid) for d in range(n_docs)}
        positives = draw(st.lists(st.integers(0, n_docs - 1), min_size=1, max_size=2, unique=True))
        rows += [(f"q{q}", f"d{p}") for p in positives]
    rows = draw(st.permutations(rows))
    return {
        "n_docs": n_docs,
        "table": table,
        "rows": rows,
        "depth": draw(st.integers(2, 5)),
        "method": draw(st.sampled_from(METHODS)),
        "num_negatives": draw(st.integers(1, 3)),
        "min_score": draw(st.none() | grid),
        "positive_score": draw(st.sampled_from(["row", "min"])),
    }


def reference(case: dict) -> list[dict]:
    """The expected n-tuple rows, from the whole ranking of each anchor."""
    table, rows, k = case["table"], case["rows"], case["num_negatives"]
    name, _, value = case["method"].partition(":")
    positives: dict[str, set[str]] = {}
    for anchor, positive in rows:
        positives.setdefault(anchor, set()).add(positive)
    out = []
    for anchor, positive in rows:
        own = table[anchor][positive]
        p = own if case["positive_score"] == "row" else min(table[anchor][d] for d in positives[anchor])
        ranked = sorted(
            (d for d in table[anchor] if d not in positives[anchor]), key=lambda d: (-table[anchor][d], int(d[1:]))
        )
        if name == "topk-shifted":
            ranked = ranked[int(value) :]
        bound = {
            "naive-topk": None,
            "topk-shifted": None,
            "topk-abs": float(value or 0),
            "topk-marginpos": p - float(value or 0),
            "topk-percpos": p - abs(p) * (1 - float(value or 1)),
        }[name]
        survivors = [
            d
            for d in ranked
            if (bound is None or table[anchor][d] <= bound)
            and (case["min_score"] is None or table[anchor][d] >= case["min_score"])
        ]
        if len(survivors) >= k:
            row = {"anchor": anchor, "positive": positive}
            row.update({f"negative_{j + 1}": survivors[j] for j in range(k)})
            out.append(row)
    return out


@settings(deadline=None, max_examples=120, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_deepened_rows_are_the_first_survivors_of_the_whole_ranking(case):
    name, _, value = case["method"].partition(":")
    # settings that no candidate can satisfy are refused up front (tested elsewhere)
    assume(not (name == "topk-abs" and case["min_score"] is not None and case["min_score"] > float(value)))
    docs = [f"d{d}" for d in range(case["n_docs"])]
    pairs = {"anchor": [a for a, _ in case["rows"]], "positive": [p for _, p in case["rows"]]}
    teacher = MatrixTeacher(case["table"])
    pool = CandidatePool.build(pairs, teacher, corpus=docs, depth=case["depth"], num_random=4, show_progress=False)
    result = pool.select(
        case["method"],
        num_negatives=case["num_negatives"],
        output_format="n-tuple",
        on_short="deepen",
        min_score=case["min_score"],
        positive_score=case["positive_score"],
        show_progress=False,
        return_statistics=True,
    )
    assert result.dataset.to_list() == reference(case)
    # every document within the bound is a survivor somewhere in the ranking: nothing is left to fill with
    assert result.statistics.rows_filled == 0
    depths = {int(d) for d in result.statistics.deepened_depths}
    assert all(d > case["depth"] and d <= case["n_docs"] for d in depths)
