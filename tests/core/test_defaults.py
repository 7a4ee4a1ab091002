"""On pairs with about one positive per anchor (the embedded set: 63 pairs, 56 anchors) the defaults are
sentence-transformers' ``mine_hard_negatives`` defaults on every entry point: ``method="auto"`` resolves to Naive
Top-K; 3 negatives, triplets, top sampling (benchmarks/REPORT.md section 8: they trained the better student on such
data). With those defaults, ``st_hardneg.mine_hard_negatives`` gives the negatives
``sentence_transformers.util.mine_hard_negatives`` gives. Several positives per anchor:
tests/core/test_auto_method.py."""

from __future__ import annotations

import json

import pytest

from st_hardneg import CandidatePool, HardNegativeMiner, NaiveTopK, mine_hard_negatives
from st_hardneg.cli import main
from st_hardneg.data import load_default

DEFAULTS = {"method": NaiveTopK(), "num_negatives": 3, "output_format": "triplet", "sampling": "top"}


@pytest.fixture(scope="module")
def default_data():
    return load_default()


def assert_defaults(settings):
    assert {name: getattr(settings, name) for name in DEFAULTS} == DEFAULTS
    assert settings.on_short == "keep"  # a triplet row short of negatives gives fewer triplets, counted


def test_every_entry_point_defaults_to_sentence_transformers_defaults(default_data, tmp_path):
    pairs, corpus = default_data
    selection = mine_hard_negatives(pairs, "bm25", corpus=corpus, show_progress=False, return_statistics=True)
    assert_defaults(selection.settings)
    assert selection.dataset.column_names == ["anchor", "positive", "negative"]

    assert_defaults(HardNegativeMiner("bm25", corpus, positives=pairs).settings)

    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, show_progress=False)
    picked = pool.select(show_progress=False, return_statistics=True)
    assert_defaults(picked.settings)
    assert picked.dataset.to_list() == selection.dataset.to_list()
    # nothing silently dropped: every row gives 3 triplets, or fewer counted as kept short (BM25 matches few words)
    stats = picked.statistics
    assert stats.rows_dropped == 0
    assert len(picked.dataset) == 3 * len(pairs) - sum(3 - n for n in _negatives_per_row(picked))
    assert stats.rows_kept_short == sum(n < 3 for n in _negatives_per_row(picked))

    assert main(["--quiet", "--teacher", "bm25", "--output", str(tmp_path / "mined")]) == 0
    report = json.loads((tmp_path / "mined" / "mining.json").read_text())
    written = report["selection"]["settings"]
    assert written["method"] == {"name": "naive-topk"}
    assert (written["num_negatives"], written["output_format"], written["sampling"]) == (3, "triplet", "top")


def _negatives_per_row(selection):
    """How many triplets each input row gave, from the output itself (rows keep the input's order)."""
    counts: dict[tuple[str, str], int] = {}
    for row in selection.dataset:
        key = (row["anchor"], row["positive"])
        counts[key] = counts.get(key, 0) + 1
    return list(counts.values())


@pytest.mark.slow
def test_the_defaults_give_sentence_transformers_negatives(default_data, minilm):
    """Same negatives as sentence-transformers' defaults on the embedded set with all-MiniLM-L6-v2.

    sentence-transformers treats a repeated anchor as one query with several positives and excludes all of them
    from its negatives, as st-hardneg does; it writes one triplet per (anchor, positive, negative), a repeated
    identical pair once. So the sets of (anchor, positive, negative) triplets are compared.
    """
    from sentence_transformers.util import mine_hard_negatives as st_mine_hard_negatives

    pairs, corpus = default_data
    ours = mine_hard_negatives(pairs, minilm, corpus=corpus, show_progress=False)
    theirs = st_mine_hard_negatives(pairs, minilm, corpus=corpus, verbose=False)
    assert theirs.column_names == ours.column_names == ["anchor", "positive", "negative"]
    as_set = lambda ds: {(r["anchor"], r["positive"], r["negative"]) for r in ds}  # noqa: E731
    expected = as_set(theirs)
    # worked out independently: every distinct (anchor, positive) pair has 3 negatives in a 161-passage corpus
    distinct_pairs = set(zip(pairs["anchor"], pairs["positive"]))
    assert len(expected) == 3 * len(distinct_pairs)
    assert as_set(ours) == expected
