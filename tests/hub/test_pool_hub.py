"""Candidate pools on the Hub: push, card, from_hub (format version checked first, only the pool's files
downloaded, never a pickle), and selecting from the downloaded pool gives the same rows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from huggingface_hub import DatasetCard

from st_hardneg import CandidatePool
from st_hardneg.hub import save_pool_for_hub
from st_hardneg.hub.source import DataSource
from st_hardneg.pool.storage import FORMAT_VERSION
from st_hardneg.teachers import BM25Teacher


@pytest.fixture(scope="module")
def two_teacher_pool(default_data):
    pairs, corpus = default_data
    teachers = [BM25Teacher(), BM25Teacher(k1=0.9, b=0.4, name="bm25-short")]
    pool = CandidatePool.build(pairs, teachers, corpus=corpus, depth=15, seed=2, show_progress=False)
    pool.config["source"] = DataSource.of("BeIR/scifact", split="train").to_dict()
    return pool


def _rows(pool, teacher):
    return pool.select("topk-marginpos:0.3", num_negatives=2, teacher=teacher, show_progress=False).to_list()


def test_a_pushed_pool_comes_back_and_selects_the_same_rows(two_teacher_pool, hub, tmp_path):
    two_teacher_pool.push_to_hub("user/pool", api=hub, private=True)
    (commit,) = hub.commits
    files = save_pool_for_hub(two_teacher_pool, tmp_path / "local", repo_id="user/pool")
    assert sorted(commit.added) == files
    assert {"pool.json", "queries.arrow", "corpus.arrow", "rows.npz", "teacher_1/scores.npy"} <= set(files)

    pool = CandidatePool.from_hub("user/pool", api=hub)
    assert list(pool.teachers) == ["bm25", "bm25-short"]
    for teacher in pool.teachers:
        assert _rows(pool, teacher) == _rows(two_teacher_pool, teacher)
    assert pool.config["source"]["dataset"] == "BeIR/scifact"


def test_the_pool_card_shows_the_build_configuration_and_per_teacher_statistics(two_teacher_pool, hub):
    two_teacher_pool.push_to_hub("user/pool", api=hub)
    card = DatasetCard(hub.files("user/pool")["README.md"].decode())
    meta = card.data.to_dict()
    assert meta["viewer"] is False and meta["st_hardneg"]["kind"] == "candidate-pool"
    assert meta["st_hardneg"]["format_version"] == FORMAT_VERSION and meta["source_datasets"] == ["BeIR/scifact"]
    assert meta["st_hardneg"]["config"]["settings"]["depth"] == 15
    for name, t in two_teacher_pool.statistics.teachers.items():
        row = (
            f"| `{name}` | {t.queries} | {t.depth} | {t.candidates} | {t.padded_slots} | "
            f"{t.positives_among_retrieved} | {t.positive_scores.mean:.4f}, {t.positive_scores.median:.4f} |"
        )
        assert row in card.text
    assert "BM25 (bm25s, lucene, k1=0.9, b=0.4" in card.text
    assert "| Candidates per anchor (depth) | 15," in card.text and "| Split | `train` |" in card.text
    assert 'pool = CandidatePool.from_hub("user/pool")' in card.text


def test_no_pickle_is_pushed_or_downloaded(two_teacher_pool, hub):
    two_teacher_pool.push_to_hub("user/pool", api=hub)
    for name in hub.files("user/pool"):
        path = hub.root / "repos" / "user/pool" / name
        if name.endswith(".npy"):
            assert np.load(path, allow_pickle=False).dtype != object
        elif name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as npz:
                assert all(npz[k].dtype != object for k in npz.files)
        else:
            assert name.endswith((".json", ".arrow", ".md", ".gitattributes")), name
    hub.put("user/pool", "extra/evil.pkl", b"\x80\x04not a pool file")
    CandidatePool.from_hub("user/pool", api=hub)
    downloaded = [p.name for p in (hub.root / "snapshots").rglob("*") if p.is_file()]
    assert "evil.pkl" not in downloaded and "scores.npy" in downloaded


def test_a_pool_in_a_format_this_version_cannot_read_is_refused_before_the_arrays_download(two_teacher_pool, hub):
    two_teacher_pool.push_to_hub("user/pool", api=hub)
    meta = json.loads(hub.files("user/pool")["pool.json"])
    meta.update(format_version=99, st_hardneg_version="9.0.0")
    hub.put("user/pool", "pool.json", json.dumps(meta).encode())
    with pytest.raises(ValueError, match=r"format 99 \(written by st-hardneg 9.0.0\).*upgrade st-hardneg"):
        CandidatePool.from_hub("user/pool", api=hub)
    downloaded = [p.name for p in (hub.root / "snapshots").rglob("*") if p.is_file()]
    assert downloaded == ["pool.json"]


def test_from_hub_reads_a_local_folder_and_checks_the_dataset(two_teacher_pool, default_data, tmp_path):
    pairs, corpus = default_data
    save_pool_for_hub(two_teacher_pool, tmp_path / "pool")
    pool = CandidatePool.from_hub(tmp_path / "pool", dataset=pairs, corpus=corpus)
    assert _rows(pool, "bm25") == _rows(two_teacher_pool, "bm25")
    with pytest.raises(ValueError, match="built on another dataset"):
        CandidatePool.from_hub(tmp_path / "pool", dataset=pairs.select(range(10)))


def test_a_re_pushed_pool_leaves_no_stale_teacher_files(two_teacher_pool, default_data, hub):
    two_teacher_pool.push_to_hub("user/pool", api=hub)
    pairs, corpus = default_data
    CandidatePool.build(pairs, "bm25", corpus=corpus, depth=5, show_progress=False).push_to_hub("user/pool", api=hub)
    assert not any(name.startswith("teacher_1/") for name in hub.files("user/pool"))
    assert list(CandidatePool.from_hub("user/pool", api=hub).teachers) == ["bm25"]
    # a mined set's repository is not a pool's: refused without overwrite
    hub.put("user/set", "README.md", b"---\nst_hardneg:\n  kind: mined-dataset\n  files: [README.md]\n---\n")
    with pytest.raises(FileExistsError, match="holds an st-hardneg mined-dataset"):
        two_teacher_pool.push_to_hub("user/set", api=hub)


def test_pushing_a_pool_without_a_token_fails_first(two_teacher_pool, no_token):
    with pytest.raises(ValueError, match="needs a token"):
        two_teacher_pool.push_to_hub("user/pool")
