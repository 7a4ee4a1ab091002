"""A sharded, resumable pool build: the same pool as the in-process build, made shard by shard in a work folder.

Stages, per teacher:

1. dense teachers (cosine or dot similarity): every document shard and anchor shard is encoded (one ``.npy`` per
   shard); then every (anchor shard, document shard) block is searched (exact or faiss top-k, plus the scores of the
   anchor shard's positive and fill-reserve pairs whose document is in the block); when all blocks of an anchor shard
   are done they are merged into its pool arrays and deleted;
2. other teachers (BM25, a dense model with another similarity): the teacher indexes the whole corpus in this
   process (for BM25: global document frequencies, so scores equal the in-process build's), then every anchor shard
   is ranked and scored through ``TeacherIndex.run``.

Finally the anchor shards are joined into an ordinary saved pool in ``work_dir/pool`` (:mod:`.assemble`), loaded
memory-mapped. Every shard is written atomically and recorded in the manifest (:mod:`.work_dir`); running the same
build again skips what is recorded, so a killed build resumes and ends with the same pool.

The fill reserve of an anchor depends only on the seed, its text, its positives and the corpus size
(:func:`~st_hardneg.build.building.plan_anchors`), and the merge of per-block top-k uses the in-process tie-break (score
descending, then corpus index), so the pool has the same candidates as ``CandidatePool.build`` without a work folder
(scores equal within float rounding: texts are encoded in other batches, blocks multiplied in other shapes).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from st_hardneg.build.building import AnchorPlan, plan_anchors, pool_config
from st_hardneg.engines.assemble import assemble_teacher
from st_hardneg.engines.local import Engine, LocalEngine
from st_hardneg.engines.progress import ShardProgress
from st_hardneg.engines.settings import EngineSettings
from st_hardneg.engines.shards import WAIT, Shard, Task, shard_ranges
from st_hardneg.engines.tasks import encode_shard, merge_anchor_shard, score_anchor_shard, search_block
from st_hardneg.engines.work_dir import WorkDir
from st_hardneg.keyed_random import text_keys
from st_hardneg.pool.inputs import PairLayout, corpus_fingerprint
from st_hardneg.pool.settings import PoolSettings
from st_hardneg.pool.statistics import PoolStatistics
from st_hardneg.pool.storage import teacher_folder, write_meta, write_rows, write_texts
from st_hardneg.pool.store import PoolStore
from st_hardneg.teachers.base import Teacher

logger = logging.getLogger(__name__)

__all__ = ["build_sharded", "make_engine", "memory_bound"]

_INNER_PRODUCT = ("cosine", "dot")


def memory_bound(
    *,
    anchors: int,
    rows: int,
    dim: int,
    depth: int = 100,
    num_random: int = 16,
    anchor_shard_size: int = 16384,
    corpus_shard_size: int = 262144,
    query_chunk_size: int = 1024,
    corpus_chunk_size: int = 65536,
) -> dict[str, int]:
    """The documented bound on the extra memory (bytes, above the process with its inputs loaded and, for a real
    teacher, the model and one encoding batch) of a sharded build in one process, by part:

    - ``embedding_shards``: one document shard and one anchor shard of float32 embeddings, twice (a shard being
      written while the previous one is in memory; a loaded shard and its search);
    - ``search_block``: the ``query_chunk_size x corpus_chunk_size`` float32 scores of exact search, twice (the
      product and top-k's workspace);
    - ``pool``: 40 bytes per (anchor, candidate or reserve slot) and 16 per row: the pool arrays while they are
      assembled (memory-mapped, 8 bytes per slot) and the score distribution of the statistics (float32 and
      float64 copies of every candidate score); it is also what a selection reads, chunk by chunk, from the
      memory-mapped pool.

    Nothing grows with the corpus size but the shard sizes; ``anchors x depth`` is the pool itself.

    Examples:
        >>> b = memory_bound(anchors=100_000, rows=100_000, dim=384)
        >>> {part: round(size / 2**20) for part, size in b.items()}  # MiB
        {'embedding_shards': 816, 'search_block': 512, 'pool': 444, 'total': 1772}
    """
    parts = {
        "embedding_shards": 2 * 4 * dim * (anchor_shard_size + corpus_shard_size),
        "search_block": 2 * 4 * query_chunk_size * min(corpus_chunk_size, corpus_shard_size),
        "pool": 40 * anchors * (depth + num_random) + 16 * rows,
    }
    parts["total"] = sum(parts.values())
    return parts


def make_engine(settings: EngineSettings) -> Engine:
    """The engine the settings name (Ray is imported, and a cluster started or joined, only for ``engine="ray"``)."""
    if settings.engine == "ray":
        from st_hardneg.engines.ray import RayEngine

        return RayEngine(settings)
    return LocalEngine(retries=settings.max_retries)


def build_sharded(
    layout: PairLayout,
    teachers: Sequence[Teacher],
    settings: PoolSettings,
    engine: EngineSettings,
    *,
    dataset_fingerprint: str,
    corpus_given: bool,
    show_progress: bool = True,
    pool_class: type[PoolStore] = PoolStore,
) -> Any:
    """Build (or resume, or load when complete) the pool of ``layout`` in ``engine.work_dir``; return it loaded
    (as a ``pool_class``: ``CandidatePool.build`` passes itself).

    The work folder is checked (:class:`~st_hardneg.engines.work_dir.WorkDir`) before an engine starts or a model
    loads.
    """
    corpus_fp = corpus_fingerprint(layout.corpus)
    identity = {
        "inputs": {
            "dataset_fingerprint": dataset_fingerprint,
            "corpus_fingerprint": corpus_fp,
            "corpus_given": corpus_given,
            "rows": len(layout.row_query),
            "anchors": len(layout.queries),
            "documents": len(layout.corpus),
        },
        "pool_settings": settings.to_dict(),
        "teachers": [t.identity() for t in teachers],
        "shards": {"anchor_shard_size": engine.anchor_shard_size, "corpus_shard_size": engine.corpus_shard_size},
    }
    assert engine.work_dir is not None
    with WorkDir(engine.work_dir, identity, restart=engine.restart) as work:
        pool_dir = work.path / "pool"
        if work.done("pool"):
            logger.info("The pool in %s is complete; loading it (restart=True builds it again)", pool_dir)
            return pool_class.load(pool_dir)
        runner = make_engine(engine)
        try:
            _Build(layout, list(teachers), settings, engine, work, runner, show_progress).run(
                dataset_fingerprint=dataset_fingerprint, corpus_fingerprint=corpus_fp, corpus_given=corpus_given
            )
        finally:
            runner.close()
    return pool_class.load(pool_dir)


class _Build:
    def __init__(
        self,
        layout: PairLayout,
        teachers: list[Teacher],
        settings: PoolSettings,
        engine_settings: EngineSettings,
        work: WorkDir,
        engine: Engine,
        show_progress: bool,
    ) -> None:
        self.layout, self.teachers, self.settings = layout, teachers, settings
        self.work, self.engine, self.show_progress = work, engine, show_progress
        self.pool_dir = work.path / "pool"
        self.anchors = shard_ranges(len(layout.queries), engine_settings.anchor_shard_size, "anchors")
        self.documents = shard_ranges(len(layout.corpus), engine_settings.corpus_shard_size, "documents")
        self.query_keys = text_keys(layout.queries)
        order = np.argsort(layout.row_query, kind="stable")
        self._row_order = order
        self._row_bounds = np.searchsorted(layout.row_query[order], [s.start for s in self.anchors] + [np.inf])
        # A teacher whose anchor shards are all done is not looked at (its model is not loaded): only assembly is left.
        self.kinds = [self._kind(t) if self._unfinished(i) else "done" for i, t in enumerate(teachers)]
        self.progress: ShardProgress | None = None

    # ------------------------------------------------------------------ helpers
    def _kind(self, teacher: Teacher) -> str:
        """ "dense": sharded encode and block search; "index": the teacher's own index, anchors in shards."""
        from st_hardneg.teachers.dense import DenseTeacher

        if not isinstance(teacher, DenseTeacher):
            return "index"
        if self.engine.name == "local" or teacher.model_loaded:
            if teacher.similarity_fn_name not in _INNER_PRODUCT:
                if self.engine.name != "local":
                    raise ValueError(_not_inner_product(teacher.name, teacher.similarity_fn_name))
                logger.info(
                    "Teacher %s scores with %s similarity: its corpus is indexed whole in this process and its anchors "
                    "are ranked in shards",
                    teacher.name,
                    teacher.similarity_fn_name,
                )
                return "index"
        return "dense"

    def _unfinished(self, i: int) -> bool:
        return not all(self.work.done(self.part_key(i, a)) for a in self.anchors)

    def rows_of(self, shard: Shard) -> np.ndarray:
        lo, hi = self._row_bounds[shard.index], self._row_bounds[shard.index + 1]
        return np.sort(self._row_order[lo:hi])

    def plan(self, shard: Shard) -> AnchorPlan:
        s = self.settings
        return plan_anchors(
            self.layout,
            shard.start,
            shard.stop,
            self.rows_of(shard),
            depth=s.depth,
            num_random=s.num_random,
            seed=s.seed,
            query_keys=self.query_keys,
        )

    def tdir(self, i: int) -> Path:
        return self.work.path / teacher_folder(i)

    def part_key(self, i: int, a: Shard) -> str:
        return f"{teacher_folder(i)}/parts/{a.name}"

    def part_file(self, i: int, a: Shard) -> Path:
        return self.tdir(i) / "parts" / f"{a.name}.npz"

    def encode_key(self, i: int, s: Shard) -> str:
        return f"{teacher_folder(i)}/{s.kind}/{s.name}"

    def encode_file(self, i: int, s: Shard) -> Path:
        return self.tdir(i) / s.kind / f"{s.name}.npy"

    def block_key(self, i: int, a: Shard, d: Shard) -> str:
        return f"{teacher_folder(i)}/search/{a.name}-{d.name}"

    def block_file(self, i: int, a: Shard, d: Shard) -> Path:
        return self.tdir(i) / "search" / f"{a.name}-{d.name}.npz"

    # ------------------------------------------------------------------ the build
    def run(self, *, dataset_fingerprint: str, corpus_fingerprint: str, corpus_given: bool) -> None:
        if not self.work.done("inputs"):
            write_texts(self.pool_dir, self.layout.queries, self.layout.corpus)
            write_rows(
                self.pool_dir,
                self.layout.row_query,
                self.layout.row_positive,
                self.layout.positives_indptr,
                self.layout.positives_indices,
            )
            files = [self.pool_dir / n for n in ("queries.arrow", "corpus.arrow", "rows.npz")]
            self.work.mark_done("inputs", files)
        total, done = self._count()
        logger.info(
            "Sharded build in %s on the %s engine: %d anchor shards x %d document shards, %d of %d units done",
            self.work.path,
            self.engine.name,
            len(self.anchors),
            len(self.documents),
            done,
            total,
        )
        self.progress = ShardProgress(total, done, show=self.show_progress)
        try:
            for i, teacher in enumerate(self.teachers):
                if self.kinds[i] == "dense":
                    self._dense(i, teacher)
                elif self.kinds[i] == "index":
                    self._index(i, teacher)
        finally:
            self.progress.close()
        self._assemble(
            dataset_fingerprint=dataset_fingerprint, corpus_fingerprint=corpus_fingerprint, corpus_given=corpus_given
        )

    def _count(self) -> tuple[int, int]:
        """Units of work in all (encoded shards, searched blocks, merged or scored anchor shards) and those done."""
        total = done = 0
        for i in range(len(self.teachers)):
            parts = [self.work.done(self.part_key(i, a)) for a in self.anchors]
            total += len(self.anchors)
            done += sum(parts)
            if self.kinds[i] != "dense":
                continue
            needed = not all(parts)
            total += len(self.documents)
            done += sum(not needed or self.work.done(self.encode_key(i, d)) for d in self.documents)
            for a, part_done in zip(self.anchors, parts):
                total += 1 + len(self.documents)
                done += part_done or self.work.done(self.encode_key(i, a))
                done += sum(part_done or self.work.done(self.block_key(i, a, d)) for d in self.documents)
        return total, done

    def _record(self, task: Task, result: dict[str, Any], rows: int) -> None:
        info = {k: v for k, v in result.items() if k in ("seconds", "peak_rss_mib")}
        self.work.mark_done(task.key, task.outputs, inputs=task.inputs, **info)
        assert self.progress is not None
        self.progress.update(rows)

    # ------------------------------------------------------------------ dense teachers
    def _dense(self, i: int, teacher: Any) -> None:
        todo = [a for a in self.anchors if not self.work.done(self.part_key(i, a))]
        if not todo:
            return
        jobs = []
        for shard, role, texts in [(d, "document", "corpus.arrow") for d in self.documents] + [
            (a, "query", "queries.arrow") for a in todo
        ]:
            if self.work.done(self.encode_key(i, shard)):
                continue
            out = self.encode_file(i, shard)
            jobs.append(
                Task(
                    key=self.encode_key(i, shard),
                    stage="encode",
                    rows=shard.rows,
                    inputs=shard.describe(),
                    fn=encode_shard,  # called as fn(teacher, *args, expected_weights) by the engine's encoder
                    args=(role, str(self.pool_dir / texts), shard.start, shard.stop, str(out)),
                    outputs=(out,),
                )
            )
        assert self.progress is not None
        if jobs:
            self.progress.begin(f"encode ({teacher.name})", "texts")
            expected = self.work.teacher_info(i).get("weights")
            for task, result in self.engine.encode(teacher, jobs, expected):
                self.work.record_teacher(i, weights=result["weights"], dim=result["dim"], config=result["config"])
                self._record(task, result, task.rows)
        config = self.work.teacher_info(i).get("config") or teacher.config()
        similarity = config.get("similarity")
        if similarity not in _INNER_PRODUCT:
            raise ValueError(_not_inner_product(teacher.name, similarity))
        schedule = _BlockSchedule(self, i, teacher, todo)
        self.progress.begin(f"search ({teacher.name})", "anchors")
        for task, result in self.engine.run(schedule):
            self._record(task, result, task.rows if task.stage == "merge" else 0)
            schedule.done(task)

    # ------------------------------------------------------------------ other teachers
    def _index(self, i: int, teacher: Teacher) -> None:
        todo = [a for a in self.anchors if not self.work.done(self.part_key(i, a))]
        if not todo:
            return
        where = "in this process" if self.engine.name == "local" else f"by {self.engine.name} tasks"
        logger.info(
            "Teacher %s: indexing the whole corpus in this process (global statistics such as BM25's document "
            "frequencies, so scores equal the in-process build's); its %d anchor shards are ranked %s",
            teacher.name,
            len(todo),
            where,
        )
        index = teacher.index(self.layout.corpus, self.show_progress)
        self.work.record_teacher(i, config=teacher.config())
        handle = self.engine.put(index)
        s = self.settings

        def make(a: Shard) -> Task:
            out = self.part_file(i, a)
            return Task(
                key=self.part_key(i, a),
                stage="rank",
                rows=a.rows,
                inputs=a.describe(),
                fn=score_anchor_shard,
                args=(handle, self.layout.queries[a.start : a.stop], self.engine.put(self.plan(a)), out),
                kwargs={"depth": s.depth, "num_random": s.num_random},
                outputs=(out,),
            )

        schedule = _QueueSchedule([lambda a=a: make(a) for a in todo])
        assert self.progress is not None
        self.progress.begin(f"rank ({teacher.name})", "anchors")
        for task, result in self.engine.run(schedule):
            self._record(task, result, task.rows)

    # ------------------------------------------------------------------ the pool
    def _assemble(self, *, dataset_fingerprint: str, corpus_fingerprint: str, corpus_given: bool) -> None:
        s = self.settings
        statistics = PoolStatistics.of_layout(self.layout)
        folders, configs = {}, {}
        for i, teacher in enumerate(self.teachers):
            config = self.work.teacher_info(i).get("config") or teacher.config()
            statistics.teachers[teacher.name] = assemble_teacher(
                self.pool_dir / teacher_folder(i),
                [self.part_file(i, a) for a in self.anchors],
                name=teacher.name,
                num_queries=len(self.layout.queries),
                num_rows=len(self.layout.row_query),
                depth=s.depth,
                num_random=s.num_random,
            )
            folders[teacher.name] = {"folder": teacher_folder(i), "config": config}
            configs[teacher.name] = config
        config = pool_config(
            s,
            configs,
            corpus_given=corpus_given,
            dataset_fingerprint=dataset_fingerprint,
            corpus_fingerprint=corpus_fingerprint,
        )
        write_meta(self.pool_dir, config, folders, statistics.to_dict(), [])
        self.work.mark_done("pool", [self.pool_dir / "pool.json"])
        logger.info("Pool written to %s", self.pool_dir)


class _QueueSchedule:
    """Tasks made one at a time, in order."""

    def __init__(self, makers: list[Callable[[], Task]]) -> None:
        self.makers = deque(makers)

    def next_task(self) -> Task | None:
        return self.makers.popleft()() if self.makers else None


class _BlockSchedule:
    """Search blocks anchor shard by anchor shard; an anchor shard's merge as soon as its last block is done (then its
    block files are deleted), so the blocks on disk stay about ``workers x document shards``."""

    def __init__(self, build: _Build, i: int, teacher: Any, anchors: list[Shard]) -> None:
        self.build, self.i, self.teacher = build, i, teacher
        self.blocks: deque[tuple[Shard, Shard]] = deque()
        self.merges: deque[Shard] = deque()
        self.remaining: dict[int, int] = {}
        self.plans: dict[int, Any] = {}
        work = build.work
        for a in anchors:
            missing = [d for d in build.documents if not work.done(build.block_key(i, a, d))]
            if missing:
                self.remaining[a.index] = len(missing)
                self.blocks.extend((a, d) for d in missing)
            else:
                self.merges.append(a)

    def plan(self, a: Shard) -> Any:
        if a.index not in self.plans:
            self.plans[a.index] = self.build.engine.put(self.build.plan(a))
        return self.plans[a.index]

    def next_task(self) -> Task | object | None:
        b, i = self.build, self.i
        if self.merges:
            a = self.merges.popleft()
            out = b.part_file(i, a)
            return Task(
                key=b.part_key(i, a),
                stage="merge",
                rows=a.rows,
                inputs=a.describe(),
                fn=merge_anchor_shard,
                args=(self.plan(a), [b.block_file(i, a, d) for d in b.documents], out),
                kwargs={"depth": b.settings.depth, "num_random": b.settings.num_random},
                outputs=(out,),
                info={"anchor_shard": a},
            )
        if self.blocks:
            a, d = self.blocks.popleft()
            out = b.block_file(i, a, d)
            s = self.teacher.settings
            return Task(
                key=b.block_key(i, a, d),
                stage="search",
                rows=a.rows,
                inputs=f"{a.describe()} x {d.describe()}",
                fn=search_block,
                args=(b.encode_file(i, a), b.encode_file(i, d), d.start, self.plan(a), out),
                kwargs={
                    "backend": s.backend,
                    "query_chunk_size": s.query_chunk_size,
                    "corpus_chunk_size": s.corpus_chunk_size,
                    "device": b.engine.device,
                },
                outputs=(out,),
                info={"anchor_shard": a},
            )
        return WAIT if self.remaining else None

    def done(self, task: Task) -> None:
        a: Shard = task.info["anchor_shard"]
        b, i = self.build, self.i
        if task.stage == "search":
            self.remaining[a.index] -= 1
            if self.remaining[a.index] == 0:
                del self.remaining[a.index]
                self.merges.append(a)
            return
        # merged: the anchor shard's blocks are no longer needed
        self.plans.pop(a.index, None)
        for d in b.documents:
            b.block_file(i, a, d).unlink(missing_ok=True)
        b.work.forget(*(b.block_key(i, a, d) for d in b.documents))


def _not_inner_product(name: str, similarity: Any) -> str:
    return (
        f"teacher {name!r} scores with {similarity} similarity; the Ray engine searches dense teachers by inner "
        "product (cosine or dot): build this teacher with engine='local'"
    )
