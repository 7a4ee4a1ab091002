"""Sharded builds on the local engine: the same pool as the in-process build, resumed after a kill, refused on other
inputs, failing shards named with their range, half-written shards never read."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from st_hardneg import CandidatePool
from st_hardneg.atomic import TMP_MARKER
from st_hardneg.engines import ShardError
from st_hardneg.teachers import BM25Teacher, DenseTeacher
from tests.conftest import REPO_ROOT
from tests.engines.conftest import DEPTH, MINILM, SHARDS, assert_same_pool


def manifest(work: Path) -> dict:
    return json.loads((work / "manifest.json").read_text())


def done_keys(work: Path) -> set[str]:
    return {k for k, e in manifest(work)["shards"].items() if e["status"] == "done"}


class FlakyBM25(BM25Teacher):
    """BM25 whose ranking fails for the anchor shards that contain ``bad`` anchors: always (``times=None``) or the first
    ``times`` times; it records the first anchor of every shard it ranks. Same identity as ``BM25Teacher()``."""

    def __init__(self, bad: set[str], times: int | None = None) -> None:
        super().__init__()
        self.bad, self.times, self.failures, self.ranked = bad, times, 0, []

    def index(self, corpus, show_progress=True):
        inner, teacher = super().index(corpus, show_progress), self

        class Index(type(inner)):
            def __init__(self):
                self.__dict__.update(inner.__dict__)

            def run(self, queries, k, pair_queries, pair_docs, show_progress=True):
                teacher.ranked.append(queries[0])
                if teacher.bad & set(queries) and (teacher.times is None or teacher.failures < teacher.times):
                    teacher.failures += 1
                    raise RuntimeError("the index server went away")
                return super().run(queries, k, pair_queries, pair_docs, show_progress)

        return Index()


def test_sharded_bm25_build_is_the_in_process_pool(default_data, reference_pools, tmp_path):
    pairs, corpus = default_data
    pool = CandidatePool.build(
        pairs, "bm25", corpus=corpus, depth=DEPTH, work_dir=tmp_path / "w", show_progress=False, **SHARDS
    )
    assert_same_pool(reference_pools("bm25"), pool, exact=True)  # one index, global document frequencies
    assert (tmp_path / "w" / "pool" / "pool.json").is_file()
    assert isinstance(pool.teachers["bm25"].candidates, np.memmap)  # loaded memory-mapped, not in memory
    # the pool in the work folder is an ordinary saved pool
    assert_same_pool(pool, CandidatePool.load(tmp_path / "w" / "pool", dataset=pairs, corpus=corpus), exact=True)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["exact", "faiss"])
def test_sharded_dense_build_is_the_in_process_pool(
    default_data, reference_pools, minilm, tmp_path, monkeypatch, backend
):
    if backend == "faiss":
        pytest.importorskip("faiss")
    pairs, corpus = default_data
    pool = CandidatePool.build(
        pairs,
        DenseTeacher(minilm, backend=backend),
        corpus=corpus,
        depth=DEPTH,
        work_dir=tmp_path / "w",
        show_progress=False,
        **SHARDS,
    )
    assert_same_pool(reference_pools(backend), pool)
    # 4 document shards x 4 anchor shards were searched, then merged per anchor shard and their blocks deleted
    work = tmp_path / "w"
    keys = done_keys(work)
    assert sum(k.startswith("teacher_0/documents/") for k in keys) == 4
    assert sum(k.startswith("teacher_0/parts/") for k in keys) == 4
    assert not list((work / "teacher_0" / "search").iterdir())
    # killed while joining the shards into the pool: the next run only joins them, without loading the model
    m = manifest(work)
    del m["shards"]["pool"]
    (work / "manifest.json").write_text(json.dumps(m))
    (work / "pool" / "pool.json").unlink()
    import st_hardneg.teachers.dense as dense

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded although every shard was done")

    monkeypatch.setattr(dense, "load_sentence_transformer", no_model)
    again = CandidatePool.build(
        pairs, DenseTeacher(MINILM, backend=backend), corpus=corpus, depth=DEPTH, work_dir=work, show_progress=False,
        **SHARDS,
    )  # fmt: skip
    assert_same_pool(pool, again, exact=True)


def test_a_multi_teacher_pool_is_sharded_too(default_data, tmp_path):
    pairs, corpus = default_data
    teachers = ["bm25", BM25Teacher(k1=1.2, b=0.5, name="bm25-short")]
    want = CandidatePool.build(pairs, teachers, corpus=corpus, depth=DEPTH, show_progress=False)
    got = CandidatePool.build(
        pairs, teachers, corpus=corpus, depth=DEPTH, work_dir=tmp_path / "w", show_progress=False, **SHARDS
    )
    for name in want.teachers:
        np.testing.assert_array_equal(got.teachers[name].candidates, want.teachers[name].candidates)
        np.testing.assert_array_equal(got.teachers[name].scores, want.teachers[name].scores)
    a = want.select(teacher="bm25-short", num_negatives=2, show_progress=False)
    assert got.select(teacher="bm25-short", num_negatives=2, show_progress=False).to_dict() == a.to_dict()


def test_a_complete_build_is_loaded_without_running_the_teacher(default_data, tmp_path):
    pairs, corpus = default_data
    kw = dict(corpus=corpus, depth=DEPTH, work_dir=tmp_path / "w", show_progress=False, **SHARDS)
    first = CandidatePool.build(pairs, "bm25", **kw)
    teacher = FlakyBM25(bad=set())
    again = CandidatePool.build(pairs, teacher, **kw)
    assert teacher.ranked == []  # nothing ranked: the finished pool is loaded
    assert_same_pool(first, again, exact=True)


def test_other_inputs_or_settings_are_refused_and_restart_starts_clean(default_data, reference_pools, tmp_path):
    pairs, corpus = default_data
    kw = dict(corpus=corpus, work_dir=tmp_path / "w", show_progress=False, **SHARDS)
    CandidatePool.build(pairs, "bm25", depth=DEPTH, **kw)
    with pytest.raises(ValueError, match=r"inputs\.dataset_fingerprint: .* there, .* now") as err:
        CandidatePool.build(pairs.select(range(60)), "bm25", depth=DEPTH, **kw)
    assert "restart=True (--restart)" in str(err.value)
    with pytest.raises(ValueError, match=r"pool_settings\.depth: 20 there, 10 now"):
        CandidatePool.build(pairs, "bm25", depth=10, **kw)
    with pytest.raises(ValueError, match=r"teachers\.0\.k1: 1\.5 there, 1\.2 now"):
        CandidatePool.build(pairs, BM25Teacher(k1=1.2), depth=DEPTH, **kw)
    with pytest.raises(ValueError, match=r"shards\.anchor_shard_size: 16 there, 8 now"):
        CandidatePool.build(pairs, "bm25", depth=DEPTH, **{**kw, "anchor_shard_size": 8})
    pool = CandidatePool.build(pairs, "bm25", depth=DEPTH, restart=True, **kw)
    assert_same_pool(reference_pools("bm25"), pool, exact=True)
    assert len(CandidatePool.build(pairs.select(range(60)), "bm25", depth=DEPTH, restart=True, **kw)) == 60


def test_a_failing_shard_is_retried_then_named_with_its_range(default_data, reference_pools, tmp_path):
    pairs, corpus = default_data
    kw = dict(corpus=corpus, depth=DEPTH, work_dir=tmp_path / "w", show_progress=False, **SHARDS)
    queries = list(dict.fromkeys(pairs["anchor"]))
    # the anchors of the second shard (16-31) make it fail every time
    teacher = FlakyBM25(bad={queries[20]})
    with pytest.raises(ShardError) as err:
        CandidatePool.build(pairs, teacher, max_retries=2, **kw)
    assert str(err.value).startswith("shard teacher_0/parts/a00001 (anchors 16-31) failed 3 times")
    assert "the index server went away" in str(err.value)
    assert teacher.failures == 3
    assert done_keys(tmp_path / "w") == {"inputs", "teacher_0/parts/a00000"}  # the finished shard is kept
    # the next run redoes only what is missing; a failure that passes on retry does not stop the build
    teacher = FlakyBM25(bad={queries[40]}, times=1)
    pool = CandidatePool.build(pairs, teacher, **kw)
    assert teacher.ranked == [queries[16], queries[32], queries[32], queries[48]]
    assert_same_pool(reference_pools("bm25"), pool, exact=True)


def test_half_written_stray_and_truncated_shards_are_never_read(default_data, reference_pools, tmp_path):
    pairs, corpus = default_data
    work = tmp_path / "w"
    kw = dict(corpus=corpus, depth=DEPTH, work_dir=work, show_progress=False, **SHARDS)
    queries = list(dict.fromkeys(pairs["anchor"]))
    with pytest.raises(ShardError):
        CandidatePool.build(pairs, FlakyBM25(bad={queries[40]}), max_retries=0, **kw)
    parts = work / "teacher_0" / "parts"
    assert sorted(p.name for p in parts.iterdir()) == ["a00000.npz", "a00001.npz"]
    # a kill while writing leaves a temporary; a recorded shard can still be damaged on disk; and a complete-looking
    # file under a final name that the manifest does not list (left by hand, or by another program) is not trusted
    (parts / f"a00002{TMP_MARKER}0badf00d.npz").write_bytes(b"PK\x03\x04 half a zip")
    (parts / "a00001.npz").write_bytes((parts / "a00001.npz").read_bytes()[:100])
    (parts / "a00003.npz").write_bytes((parts / "a00000.npz").read_bytes())
    teacher = FlakyBM25(bad=set())
    pool = CandidatePool.build(pairs, teacher, **kw)
    assert teacher.ranked == [queries[16], queries[32], queries[48]]  # all but the intact, recorded shard a00000
    assert_same_pool(reference_pools("bm25"), pool, exact=True)
    assert not list(work.rglob(f"*{TMP_MARKER}*"))


_BUILD_SCRIPT = """
import sys
from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.teachers import DenseTeacher

pairs, corpus = load_default()
engine = {"engine": "ray", "ray_address": sys.argv[2]} if len(sys.argv) > 2 else {}
CandidatePool.build(pairs, DenseTeacher(%r), corpus=corpus, depth=%d, work_dir=sys.argv[1], show_progress=False,
                    anchor_shard_size=8, corpus_shard_size=24, **engine)
"""

#: Shard sizes of the kill tests: 7 anchor shards and 7 document shards, 49 search blocks.
KILL_SHARDS = {"anchor_shard_size": 8, "corpus_shard_size": 24}


def build_and_kill(work: Path, script: Path, when, *extra: str, timeout: float = 600) -> set[str]:
    """Run the build script in a subprocess and SIGKILL it as soon as ``when(done shard keys)`` holds; return the
    shards recorded at that moment."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, str(script), str(work), *extra], env=env, cwd=REPO_ROOT)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if (work / "manifest.json").exists():
                keys = done_keys(work)
                if when(keys):
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    return keys
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    pytest.fail(f"the build ended (exit {proc.returncode}) or timed out before reaching the point to kill it at")


def kill_twice_then_finish(work: Path, tmp_path: Path, *extra: str) -> dict[str, int]:
    """Kill a build while it encodes, resume it and kill it while it searches; return the modification times of the
    embedding shards finished before the first kill."""
    script = tmp_path / "build.py"
    script.write_text(_BUILD_SCRIPT % (MINILM, DEPTH))
    first = build_and_kill(work, script, lambda keys: sum("/documents/" in k for k in keys) >= 3, *extra)
    assert not any("/search/" in k for k in first)
    kept = {k: (work / k).with_suffix(".npy").stat().st_mtime_ns for k in first if "/documents/" in k}
    second = build_and_kill(work, script, lambda keys: any("/search/" in k or "/parts/" in k for k in keys), *extra)
    assert "pool" not in second and first < second
    return kept


@pytest.mark.slow
def test_a_build_killed_twice_resumes_to_the_pool_of_an_uninterrupted_build(default_data, minilm, tmp_path):
    pairs, corpus = default_data
    work = tmp_path / "killed"
    kept = kill_twice_then_finish(work, tmp_path)
    kw = dict(corpus=corpus, depth=DEPTH, show_progress=False, **KILL_SHARDS)
    resumed = CandidatePool.build(pairs, DenseTeacher(minilm), work_dir=work, **kw)
    # the shards finished before the kills were not encoded again
    assert kept == {k: (work / k).with_suffix(".npy").stat().st_mtime_ns for k in kept}
    uninterrupted = CandidatePool.build(pairs, DenseTeacher(minilm), work_dir=tmp_path / "straight", **kw)
    assert_same_pool(uninterrupted, resumed)


class HashEncoder:
    """A stand-in SentenceTransformer: each text encodes to a fixed random unit vector (seeded by its hash)."""

    similarity_fn_name = "cosine"
    prompts: dict = {}

    def encode_document(self, texts, **kwargs):
        import hashlib

        out = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(16).astype(np.float32)
            out.append(v / np.linalg.norm(v))
        return np.stack(out)

    encode_query = encode_document


@pytest.mark.parametrize(("anchor_shard_size", "corpus_shard_size"), [(1, 17), (5, 1), (7, 13), (100, 100)])
def test_any_shard_sizes_give_the_in_process_pool_small_corpus(tmp_path, anchor_shard_size, corpus_shard_size):
    """40 documents: the fill reserve comes from keyed permutations of the whole corpus (the small-corpus branch of
    random_documents); anchors with one to three positives; every stage of the dense path."""
    from datasets import Dataset

    g = np.random.default_rng(0)
    anchors = [f"anchor {i}" for i in range(24)] + [f"anchor {i}" for i in range(0, 24, 3)] + ["anchor 0"]
    positives = [f"document {i}" for i in g.integers(0, 40, len(anchors))]
    pairs = Dataset.from_dict({"anchor": anchors, "positive": positives})
    corpus = [f"document {i}" for i in range(40)]
    kw = dict(corpus=corpus, depth=6, num_random=8, seed=3, show_progress=False)
    want = CandidatePool.build(pairs, DenseTeacher(HashEncoder()), **kw)
    got = CandidatePool.build(
        pairs,
        DenseTeacher(HashEncoder()),
        work_dir=tmp_path / "w",
        anchor_shard_size=anchor_shard_size,
        corpus_shard_size=corpus_shard_size,
        **kw,
    )
    assert_same_pool(want, got)
