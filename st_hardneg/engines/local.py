"""The local engine: the shards of a sharded build run one after another in this process.

It shares everything but the execution with the Ray engine (:mod:`st_hardneg.engines.ray`): the same shards, the
same work functions (:mod:`st_hardneg.engines.tasks`), the same work folder, so a build started on one engine can be
resumed on the other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from st_hardneg.engines.shards import WAIT, ShardError, Task

logger = logging.getLogger(__name__)

__all__ = ["USER_ERRORS", "Engine", "LocalEngine", "Schedule", "call_with_retries"]

#: Errors that say the inputs or settings are wrong: raised at once, never retried.
USER_ERRORS = (ValueError, TypeError, KeyError, ImportError, FileNotFoundError)


class Schedule(Protocol):
    """Hands out tasks: a :class:`Task`, :data:`WAIT` (nothing can start before a running task ends) or None (done)."""

    def next_task(self) -> Task | object | None: ...


class Engine(Protocol):
    """What a build needs from an engine."""

    name: str
    device: str | None

    def put(self, obj: Any) -> Any:
        """Make ``obj`` available to tasks (Ray: the object store), returning what tasks receive as an argument."""

    def run(self, schedule: Schedule) -> Iterator[tuple[Task, dict[str, Any]]]:
        """Run the schedule's tasks, yielding each with its result as it finishes."""

    def encode(
        self, teacher: Any, tasks: Sequence[Task], expected_weights: str | None
    ) -> Iterator[tuple[Task, dict[str, Any]]]:
        """Run encode tasks (:func:`~st_hardneg.engines.tasks.encode_shard` with ``task.args``: role, texts file,
        start, stop, output file) with one model per worker."""

    def close(self) -> None: ...


def call_with_retries(fn: Callable[[], dict[str, Any]], task: Task, retries: int) -> dict[str, Any]:
    """``fn()``, retried up to ``retries`` times; user errors are raised at once, prefixed with the shard."""
    last: BaseException | None = None
    for attempt in range(1, retries + 2):
        try:
            return fn()
        except USER_ERRORS as err:
            raise _with_shard(err, task) from err
        except Exception as err:  # noqa: BLE001 - any failure of a shard is retried, then reported with its range
            last = err
            logger.warning(
                "Shard %s (%s) failed (attempt %d of %d): %s", task.key, task.inputs, attempt, retries + 1, err
            )
    assert last is not None
    raise ShardError(task.key, task.inputs, retries + 1, last) from last


def _with_shard(err: BaseException, task: Task) -> BaseException:
    try:
        return type(err)(f"shard {task.key} ({task.inputs}): {err}")
    except Exception:  # noqa: BLE001 - an exception type with another constructor: keep the original
        return err


class LocalEngine:
    """Runs every task in this process, one at a time."""

    name = "local"
    device = None

    def __init__(self, retries: int = 3) -> None:
        self.retries = retries

    def put(self, obj: Any) -> Any:
        return obj

    def run(self, schedule: Schedule) -> Iterator[tuple[Task, dict[str, Any]]]:
        while True:
            task = schedule.next_task()
            if task is None:
                return
            if task is WAIT:  # pragma: no cover - a schedule only waits for running tasks, and none run here
                raise RuntimeError("the schedule waits for a running task, but none is running")
            assert isinstance(task, Task)
            yield task, call_with_retries(lambda t=task: t.fn(*t.args, **t.kwargs), task, self.retries)

    def encode(
        self, teacher: Any, tasks: Sequence[Task], expected_weights: str | None
    ) -> Iterator[tuple[Task, dict[str, Any]]]:
        for task in tasks:
            yield task, call_with_retries(lambda t=task: t.fn(teacher, *t.args, expected_weights), task, self.retries)

    def close(self) -> None:
        pass
