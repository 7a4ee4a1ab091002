"""The Ray engine on a local Ray cluster (``ray.init(num_cpus=2)``, shared by this module's tests): the same pool as the
in-process build (MiniLM with exact and faiss search, BM25), a driver killed mid-build resumes, failed tasks are
retried by Ray and a shard that keeps failing is named with its range."""

from __future__ import annotations

from pathlib import Path

import pytest

from st_hardneg import CandidatePool
from st_hardneg.engines import ShardError
from st_hardneg.teachers import BM25Teacher, DenseTeacher
from st_hardneg.teachers.bm25 import BM25Index
from tests.engines.conftest import DEPTH, MINILM, SHARDS, assert_same_pool
from tests.engines.test_local import KILL_SHARDS, done_keys, kill_twice_then_finish

ray = pytest.importorskip("ray", reason='pip install "st-hardneg[ray]"')

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster for the module (starting Ray takes a while on two cores); its address."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def ray_build(pairs, teacher, corpus, work: Path, **kwargs) -> CandidatePool:
    kw = {"depth": DEPTH, "show_progress": False, **SHARDS, **kwargs}
    return CandidatePool.build(pairs, teacher, corpus=corpus, engine="ray", work_dir=work, **kw)


@pytest.mark.parametrize("backend", ["exact", "faiss"])
def test_ray_build_is_the_in_process_pool(cluster, default_data, reference_pools, tmp_path, backend):
    if backend == "faiss":
        pytest.importorskip("faiss")
    pairs, corpus = default_data
    # by name: every Ray Data actor loads the model itself, once
    pool = ray_build(pairs, DenseTeacher(MINILM, backend=backend), corpus, tmp_path / "w")
    assert_same_pool(reference_pools(backend), pool)
    keys = done_keys(tmp_path / "w")
    assert sum("/documents/" in k for k in keys) == 4 and sum("/parts/" in k for k in keys) == 4


def test_ray_bm25_build_is_the_in_process_pool(cluster, default_data, reference_pools, tmp_path):
    pairs, corpus = default_data
    pool = ray_build(pairs, "bm25", corpus, tmp_path / "w")
    assert_same_pool(reference_pools("bm25"), pool, exact=True)  # the driver's index: global document frequencies


def test_a_killed_ray_driver_resumes_to_the_in_process_pool(cluster, default_data, reference_pools, tmp_path):
    pairs, corpus = default_data
    work = tmp_path / "killed"
    kept = kill_twice_then_finish(work, tmp_path, cluster)  # the killed builds joined this cluster by its address
    pool = ray_build(pairs, DenseTeacher(MINILM), corpus, work, **KILL_SHARDS)
    assert kept == {k: (work / k).with_suffix(".npy").stat().st_mtime_ns for k in kept}
    assert_same_pool(reference_pools("exact"), pool)


def failing_bm25(bad: str, log: Path, *, flaky: bool) -> BM25Teacher:
    """BM25 whose ranking of the shard holding anchor ``bad`` raises: once (``flaky``, an ``OSError``) or always (a
    ``RuntimeError``). Every attempt appends the shard's first anchor to ``log`` (tasks run in other processes)."""

    class FailingBM25(BM25Teacher):
        def index(self, corpus, show_progress=True):
            inner = BM25Teacher.index(self, corpus, show_progress)

            class Index(BM25Index):
                def __init__(self):
                    self.__dict__.update(inner.__dict__)

                def run(self, queries, k, pair_queries, pair_docs, show_progress=True):
                    with open(log, "a") as f:
                        f.write(queries[0] + "\n")
                    if bad in queries:
                        marker = log.with_suffix(".failed")
                        if not (flaky and marker.exists()):
                            marker.touch()
                            raise (OSError if flaky else RuntimeError)("the index server went away")
                    return BM25Index.run(self, queries, k, pair_queries, pair_docs, show_progress)

            return Index()

    return FailingBM25()


def test_ray_retries_a_failed_task_and_names_a_shard_that_keeps_failing(
    cluster, default_data, reference_pools, tmp_path
):
    pairs, corpus = default_data
    queries = list(dict.fromkeys(pairs["anchor"]))
    log = tmp_path / "attempts.log"
    with pytest.raises(ShardError) as err:
        ray_build(pairs, failing_bm25(queries[20], log, flaky=False), corpus, tmp_path / "w", max_retries=1)
    assert str(err.value).startswith("shard teacher_0/parts/a00001 (anchors 16-31) failed 2 times")
    assert "the index server went away" in str(err.value)
    assert log.read_text().splitlines().count(queries[16]) == 2  # the first attempt and Ray's one retry
    # which anchor shards the failed build finished depends on scheduling (a loaded machine may finish none)
    finished = {int(k.rsplit("/a", 1)[1]) for k in done_keys(tmp_path / "w") if k.startswith("teacher_0/parts/")}
    assert 1 not in finished
    # the same shard, now failing once: Ray retries it and the build completes, redoing only unfinished shards
    log = tmp_path / "attempts-flaky.log"
    pool = ray_build(pairs, failing_bm25(queries[20], log, flaky=True), corpus, tmp_path / "w", max_retries=1)
    attempts = log.read_text().splitlines()
    assert attempts.count(queries[16]) == 2  # the failed attempt and Ray's retry
    redone = {i for i in range(0, len(queries), 16) if queries[i] in attempts}
    assert redone == {i for i in range(0, len(queries), 16) if i // 16 not in finished}
    assert_same_pool(reference_pools("bm25"), pool, exact=True)
