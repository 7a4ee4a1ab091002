"""The default dataset shipped with the package."""

from __future__ import annotations

from collections import Counter

from st_hardneg.data import load_default


def test_default_dataset() -> None:
    loaded = load_default()
    assert loaded.pairs.column_names == ["anchor", "positive"]
    assert len(loaded.pairs) > 50
    corpus = loaded.corpus
    assert corpus is not None and len(corpus) >= 140
    assert len(set(corpus)) == len(corpus)
    assert set(loaded.pairs["positive"]) <= set(corpus)
    assert len(corpus) - len(set(loaded.pairs["positive"])) >= 80  # distractors
    assert max(Counter(loaded.pairs["anchor"]).values()) == 2
    assert all(len(text.split()) <= 60 for text in corpus)
