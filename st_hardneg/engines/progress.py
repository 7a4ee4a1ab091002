"""One progress bar over every shard of a build, showing the current stage and its rows per second."""

from __future__ import annotations

import time

from tqdm.auto import tqdm

__all__ = ["ShardProgress"]


class ShardProgress:
    """A tqdm bar over shards (``initial`` of them already done by an earlier run). Its description names the stage
    and its postfix the stage's throughput since the stage began: texts encoded, or anchors searched or scored, per
    second.

    Examples:
        >>> bar = ShardProgress(3, show=False)
        >>> bar.begin("encode documents", "texts")
        >>> bar.update(1000)
        >>> bar.done, bar.rows
        (1, 1000)
    """

    def __init__(self, total: int, initial: int = 0, *, show: bool = True) -> None:
        self.bar = tqdm(total=total, initial=initial, desc="Building pool", unit="shard", disable=not show)
        self.done = initial
        self.unit = "rows"
        self.rows = 0
        self.started = time.perf_counter()

    def begin(self, stage: str, unit: str) -> None:
        """A new stage starts now (its tasks are about to be handed out)."""
        self.unit, self.rows, self.started = unit, 0, time.perf_counter()
        self.bar.set_description(stage)

    def update(self, rows: int, shards: int = 1) -> None:
        """``shards`` more shards done, which finished ``rows`` rows of the stage."""
        self.rows += rows
        self.done += shards
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        self.bar.set_postfix_str(f"{self.rows / elapsed:,.1f} {self.unit}/s", refresh=False)
        self.bar.update(shards)

    def close(self) -> None:
        self.bar.close()
