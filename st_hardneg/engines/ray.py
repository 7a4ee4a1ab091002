"""The Ray engine: the shards of a sharded build run on a Ray cluster.

- Encoding uses Ray Data: the shards to encode form a Ray dataset, mapped with ``map_batches`` by a fixed pool of
  actors (``ActorPoolStrategy(size=num_workers)``), each loading the model once and writing the embeddings of its
  shards to the work folder; an actor gets ``num_gpus_per_worker`` GPUs (default: one where the cluster has GPUs,
  none otherwise) and ``cpus_per_worker`` CPUs, and search tasks ask for the same, running on their GPU. A
  shard that raises is retried in its actor ``max_retries`` times; a dead actor is restarted by Ray Data.
- Search, merge and scoring are Ray tasks, at most ``num_workers`` at once, scheduled anchor shard by anchor shard so
  that each shard's blocks are merged (and deleted) as soon as they are all done; Ray retries a task whose worker
  died, and one that raised an ``OSError``, ``RuntimeError`` or ``MemoryError``, ``max_retries`` times.
- Without ``ray_address`` (and without a running Ray), ``ray.init()`` starts a local cluster on this machine
  (``num_workers x cpus_per_worker`` CPUs when ``num_workers`` is given), shut down when the build ends; with an
  address (``"auto"``, ``"ray://head:10001"``) the build joins that cluster. A Ray session already started in this
  process (``ray.init(...)`` before the build) is used as it is.

The work folder must be on storage every node of the cluster reads and writes at the same path (a shared
filesystem): workers read the texts and embeddings from it and write their shards to it.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

from st_hardneg.engines.local import USER_ERRORS, Schedule
from st_hardneg.engines.settings import EngineSettings, ray_install_hint
from st_hardneg.engines.shards import WAIT, ShardError, Task
from st_hardneg.engines.tasks import encode_shard

logger = logging.getLogger(__name__)

__all__ = ["RayEngine"]

#: Exceptions raised inside a task that Ray retries (besides worker deaths, which it always retries).
_RETRIED = [OSError, RuntimeError, MemoryError]


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401 - the [data] extra
    except ImportError as exc:
        raise ImportError(ray_install_hint()) from exc
    return ray


class RayEngine:
    """Runs a sharded build's tasks on Ray (see the module docstring)."""

    name = "ray"

    def __init__(self, settings: EngineSettings) -> None:
        ray = _import_ray()
        self.ray = ray
        self.retries = settings.max_retries
        self.started = False
        if not ray.is_initialized():
            if settings.ray_address:
                ray.init(address=settings.ray_address)
                logger.info("Joined the Ray cluster at %s", settings.ray_address)
            else:
                num_cpus = settings.num_workers * settings.cpus_per_worker if settings.num_workers else None
                ray.init(num_cpus=num_cpus, include_dashboard=False)
                logger.info("Started a local Ray cluster (%s CPUs)", num_cpus or "all")
            self.started = True
        resources = ray.cluster_resources()
        self.threads = settings.cpus_per_worker
        self.workers, self.resources, self.device = worker_resources(settings, resources)
        logger.info(
            "Ray: %d workers with %d CPU(s) and %g GPU(s) each (cluster: %d CPUs, %g GPUs)",
            self.workers,
            settings.cpus_per_worker,
            self.resources["num_gpus"],
            int(resources.get("CPU", 1)),
            resources.get("GPU", 0),
        )
        self._remote = ray.remote(_run_task)

    def put(self, obj: Any) -> Any:
        return self.ray.put(obj)

    def task_options(self) -> dict[str, Any]:
        """The Ray options of every search, merge and scoring task: the worker's resources and the retries."""
        return dict(self.resources, max_retries=self.retries, retry_exceptions=_RETRIED)

    def run(self, schedule: Schedule) -> Iterator[tuple[Task, dict[str, Any]]]:
        ray = self.ray
        options = self.task_options()
        in_flight: dict[Any, Task] = {}
        try:
            while True:
                task: Any = None
                while len(in_flight) < self.workers:
                    task = schedule.next_task()
                    if task is None or task is WAIT:
                        break
                    ref = self._remote.options(name=task.key, **options).remote(
                        task.fn, self.threads, *task.args, **task.kwargs
                    )
                    in_flight[ref] = task
                if not in_flight:
                    if task is WAIT:  # pragma: no cover - a schedule only waits for running tasks
                        raise RuntimeError("the schedule waits for a running task, but none is running")
                    return
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                done = in_flight.pop(ready[0])
                try:
                    result = ray.get(ready[0])
                except ray.exceptions.RayError as err:
                    cause = getattr(err, "cause", None) or err
                    if isinstance(cause, USER_ERRORS):
                        raise type(cause)(f"shard {done.key} ({done.inputs}): {cause}") from err
                    raise ShardError(done.key, done.inputs, self.retries + 1, cause) from err
                yield done, result
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)

    def encode(
        self, teacher: Any, tasks: Sequence[Task], expected_weights: str | None
    ) -> Iterator[tuple[Task, dict[str, Any]]]:
        ray = self.ray
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the build shows one bar over every shard
        by_key = {t.key: t for t in tasks}
        fields = ("role", "texts", "start", "stop", "out")  # encode_shard's arguments after the teacher
        items = [{"key": t.key, **dict(zip(fields, t.args))} for t in tasks]
        dataset = ray.data.from_items(items, override_num_blocks=len(items))
        encoded = dataset.map_batches(
            ShardEncoder,
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=min(self.workers, len(items)), max_tasks_in_flight_per_actor=1),
            fn_constructor_kwargs={
                "teacher": teacher,
                "expected_weights": expected_weights,
                "retries": self.retries,
                "threads": self.threads,
                "use_gpu": self.device is not None,
            },
            **self.resources,
        )
        for row in encoded.iter_rows():
            task = by_key[row["key"]]
            if row["error"]:
                error = json.loads(row["error"])
                if error["user_error"]:
                    raise ValueError(f"shard {task.key} ({task.inputs}): {error['message']}")
                raise ShardError(task.key, task.inputs, error["attempts"], error["message"])
            yield task, json.loads(row["result"])

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()
            logger.info("Shut down the local Ray cluster started for the build")


def worker_resources(settings: EngineSettings, cluster: dict[str, float]) -> tuple[int, dict[str, Any], str | None]:
    """How many workers run at once, the Ray resources each asks for, and the torch device of search tasks, from the
    settings and the cluster's resources (``ray.cluster_resources()``).

    Examples:
        >>> s = EngineSettings(engine="ray", work_dir="w", num_gpus_per_worker=0.5)
        >>> worker_resources(s, {"CPU": 16, "GPU": 2})
        (4, {'num_cpus': 1, 'num_gpus': 0.5}, 'cuda')
    """
    gpus, cpus = float(cluster.get("GPU", 0)), int(cluster.get("CPU", 1))
    per_worker = settings.num_gpus_per_worker
    if per_worker is None:
        per_worker = 1 if gpus >= 1 else 0
    if per_worker > 0 and gpus < per_worker:
        raise ValueError(
            f"num_gpus_per_worker={per_worker:g} but the Ray cluster has {gpus:g} GPU(s); "
            "pass num_gpus_per_worker=0 (--num-gpus-per-worker 0) to run on CPUs"
        )
    if per_worker > 0:
        workers = settings.num_workers or max(1, int(gpus // per_worker))
        device: str | None = "cuda"
    else:
        workers = settings.num_workers or max(1, cpus // settings.cpus_per_worker)
        device = None
    return workers, {"num_cpus": settings.cpus_per_worker, "num_gpus": per_worker}, device


def _run_task(fn: Any, threads: int, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """A task on a Ray worker: torch uses the worker's CPUs, then the shard's work function runs."""
    import torch

    torch.set_num_threads(threads)
    return fn(*args, **kwargs)


class ShardEncoder:
    """A Ray Data actor: loads the teacher's model once, then encodes whole shards (one per batch row) to the work
    folder, returning one row per shard (``key``, ``result`` or ``error`` as JSON)."""

    def __init__(
        self, teacher: Any, expected_weights: str | None, retries: int, threads: int, use_gpu: bool = False
    ) -> None:
        import torch

        torch.set_num_threads(threads)
        self.teacher = teacher
        self.expected_weights = expected_weights
        self.retries = retries
        if use_gpu and torch.cuda.is_available():  # Ray made only this actor's GPU(s) visible
            teacher.model.to("cuda")

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        keys, results, errors = [], [], []
        for j in range(len(batch["key"])):
            item = {name: batch[name][j] for name in batch}
            result, error = self._encode(item)
            keys.append(str(item["key"]))
            results.append(json.dumps(result, default=str) if result is not None else "")
            errors.append(json.dumps(error) if error is not None else "")
        return {"key": np.array(keys, dtype=object), "result": np.array(results), "error": np.array(errors)}

    def _encode(self, item: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        attempts = 0
        while True:
            attempts += 1
            try:
                result = encode_shard(
                    self.teacher,
                    str(item["role"]),
                    str(item["texts"]),
                    int(item["start"]),
                    int(item["stop"]),
                    str(item["out"]),
                    self.expected_weights,
                )
                return result, None
            except USER_ERRORS as err:
                return None, {"user_error": True, "attempts": attempts, "message": f"{type(err).__name__}: {err}"}
            except Exception as err:  # noqa: BLE001 - retried, then reported with the shard's range
                if attempts > self.retries:
                    message = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}"
                    return None, {"user_error": False, "attempts": attempts, "message": message}
