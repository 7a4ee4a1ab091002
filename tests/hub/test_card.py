"""Dataset cards rendered from a selection: metadata round trip and the figures in the body."""

import pytest
from huggingface_hub import DatasetCard

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.hub import MinedDatasetCard


@pytest.fixture(scope="module")
def pool_and_selection():
    pairs, corpus = load_default()
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=20, seed=0, show_progress=False)
    sel = pool.select(
        "topk-marginpos:0.5",
        num_negatives=3,
        sampling="sampled",
        sample_from=5,
        temperature=0.5,
        seed=7,
        show_progress=False,
        return_statistics=True,
    )
    return pool, sel


def test_card_metadata_carries_the_configuration_and_round_trips(pool_and_selection, tmp_path):
    pool, sel = pool_and_selection
    card = MinedDatasetCard.from_selection(sel, pool, source="unit test pairs", license="apache-2.0")
    card.save(tmp_path / "README.md")
    loaded = DatasetCard.load(tmp_path / "README.md")
    meta = loaded.data.to_dict()["st_hardneg"]
    settings = meta["selection"]["settings"]
    assert settings["method"] == {"name": "topk-marginpos", "margin": 0.5}
    assert (settings["sampling"], settings["sample_from"], settings["weighting"], settings["temperature"]) == (
        "sampled",
        5,
        "softmax",
        0.5,
    )
    assert settings["seed"] == 7
    assert meta["statistics"]["rows_dropped"] == sel.statistics.rows_dropped
    assert meta["pool"]["teachers"]["bm25"]["type"] == "bm25"
    assert "histogram" not in str(meta)
    assert loaded.data.to_dict()["tags"] == ["sentence-transformers", "hard-negatives", "st-hardneg", "topk-marginpos"]


def test_card_body_renders_the_method_and_the_statistics(pool_and_selection):
    pool, sel = pool_and_selection
    text = MinedDatasetCard.from_selection(sel, pool).text
    st = sel.statistics
    assert "TopK-MarginPos (NV-Retriever Eq. 1): negatives scoring at most the positive score - 0.5" in text
    assert "drawn from the top 5 survivors (softmax over scores, temperature 0.5)" in text
    assert f"| Removed by the mining method | {st.removed_by_method} |" in text
    assert f"| Rows dropped | {st.rows_dropped} |" in text
    assert f"| negative | {st.negative_scores.count} | {st.negative_scores.mean:.4f} |" in text
    assert 'pool.select("topk-marginpos:0.5", num_negatives=3, sampling="sampled"' in text
    assert f"{pool.statistics.queries} distinct anchors" in text
