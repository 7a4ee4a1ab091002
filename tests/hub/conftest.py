"""Fixtures for the Hub tests: a BM25 pool of the embedded default (seconds, no model), a real all-MiniLM-L6-v2
mining run, and an in-memory Hub (:class:`tests.hub.fake_hub.RecordingHubApi`)."""

from __future__ import annotations

import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.hub.source import DEFAULT_SOURCE
from tests.hub.fake_hub import RecordingHubApi


@pytest.fixture(scope="module")
def default_data():
    return load_default()


@pytest.fixture(scope="module")
def bm25_pool(default_data):
    pairs, corpus = default_data
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=20, seed=3, show_progress=False)
    pool.config["source"] = DEFAULT_SOURCE.to_dict()
    return pool


@pytest.fixture(scope="module")
def minilm_run(default_data, minilm):
    """A real mining run: all-MiniLM-L6-v2 over the embedded default, TopK-PercPos 95% n-tuples, top-1 + sampled."""
    pairs, corpus = default_data
    pool = CandidatePool.build(pairs, minilm, corpus=corpus, depth=30, seed=0, show_progress=False)
    pool.config["source"] = DEFAULT_SOURCE.to_dict()
    selection = pool.select(
        "topk-percpos:0.95",
        num_negatives=3,
        output_format="n-tuple",
        sampling="top1_sampled",
        sample_from=6,
        output_scores=True,
        seed=5,
        show_progress=False,
        return_statistics=True,
    )
    return pool, selection


@pytest.fixture
def hub(tmp_path):
    return RecordingHubApi(tmp_path / "hub")


@pytest.fixture
def no_token(monkeypatch, tmp_path):
    """No Hugging Face token anywhere huggingface_hub looks."""
    import huggingface_hub.constants as constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_OIDC_RESOURCE", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-stored-tokens"))
    from huggingface_hub import get_token

    assert get_token() is None
