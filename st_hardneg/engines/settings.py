"""Where and how a candidate pool is built: :class:`EngineSettings` (in this process or on Ray; sharded, resumable)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from st_hardneg.settings.base import Settings, check_choice, check_float, check_int, option

__all__ = ["ENGINES", "EngineSettings", "ray_install_hint"]

#: Build engines: in this process, or on a Ray cluster.
ENGINES: tuple[str, ...] = ("local", "ray")


def ray_install_hint() -> str:
    return 'engine="ray" needs Ray Data, which is not installed: pip install "st-hardneg[ray]"'


def _ray_installed() -> bool:
    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class EngineSettings(Settings):
    """How :meth:`~st_hardneg.pool.CandidatePool.build` runs: in this process or on Ray, sharded and resumable.

    With a ``work_dir``, the build is split into shards (embeddings by document and anchor ranges, search by blocks,
    pool arrays by anchor range), each written atomically with a manifest of what is done; the same call run again
    resumes where a killed run stopped. ``engine="ray"`` runs the shards on a Ray cluster (Ray Data actors encode,
    Ray tasks search) and needs a ``work_dir`` every node can read. The pool is the same on every engine: these
    settings are not part of the pool's configuration.

    Examples:
        >>> EngineSettings(work_dir="pool-work").engine
        'local'
        >>> EngineSettings(engine="local", num_workers=2)
        Traceback (most recent call last):
        ...
        ValueError: num_workers applies to engine='ray'; the local engine runs one shard at a time in this process
    """

    engine: str = option(
        "local",
        "where the pool is built: in this process, or on a Ray cluster (pip install 'st-hardneg[ray]')",
        choices=ENGINES,
    )
    work_dir: str | None = option(
        None,
        "folder of a sharded, resumable build (embeddings, search results and the pool, shard by shard, with a "
        "manifest); the same command run again resumes it; needed by --engine ray (on storage every node sees)",
        metavar="DIR",
    )
    ray_address: str | None = option(
        None,
        "Ray cluster to join ('auto', 'ray://HOST:10001'); default: start a local cluster on this machine's cores",
        metavar="ADDRESS",
    )
    num_workers: int | None = option(
        None, "Ray encoders and search tasks at once (default: GPUs / num_gpus_per_worker, else CPUs / cpus_per_worker)"
    )
    cpus_per_worker: int = option(1, "CPUs each Ray encoder and search task uses (and torch threads in it)")
    num_gpus_per_worker: float | None = option(
        None,
        "GPUs each Ray encoder actor and search task asks for (a fraction packs several on one GPU); 0 keeps them on "
        "CPUs; default: 1 when the cluster has GPUs, else 0",
    )
    anchor_shard_size: int = option(16384, "anchors per shard of a sharded build")
    corpus_shard_size: int = option(262144, "documents per shard of a sharded build")
    restart: bool = option(
        False,
        "delete the build in work_dir and start again; without it, a work_dir holding a build of other inputs or "
        "settings is refused (a folder of other files is never deleted)",
    )
    max_retries: int = option(3, "times a failed shard is retried before the build stops and names it")

    def __post_init__(self) -> None:
        check_choice("engine", self.engine, ENGINES)
        if self.work_dir is not None:
            if not isinstance(self.work_dir, str) and not hasattr(self.work_dir, "__fspath__"):
                raise TypeError(f"work_dir must be a folder path, got {self.work_dir!r}")
            object.__setattr__(self, "work_dir", str(self.work_dir))
            if not self.work_dir.strip():
                raise ValueError("work_dir is an empty string; give a folder path")
        if self.ray_address is not None and (not isinstance(self.ray_address, str) or not self.ray_address.strip()):
            raise TypeError(f"ray_address must be an address such as 'auto', got {self.ray_address!r}")
        check_int("num_workers", self.num_workers, minimum=1, optional=True)
        check_int("cpus_per_worker", self.cpus_per_worker, minimum=1)
        check_float("num_gpus_per_worker", self.num_gpus_per_worker, minimum=0, optional=True)
        check_int("anchor_shard_size", self.anchor_shard_size, minimum=1)
        check_int("corpus_shard_size", self.corpus_shard_size, minimum=1)
        check_int("max_retries", self.max_retries, minimum=0)
        if not isinstance(self.restart, bool):
            raise TypeError(f"restart must be True or False, got {self.restart!r}")
        if self.engine == "local":
            for name in ("ray_address", "num_workers", "num_gpus_per_worker"):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"{name} applies to engine='ray'; the local engine runs one shard at a time in this process"
                    )
        else:
            if not _ray_installed():
                raise ImportError(ray_install_hint())
            if self.work_dir is None:
                raise ValueError(
                    "engine='ray' writes embeddings and search results as shards to a folder every node can read: "
                    "pass work_dir=... (--work-dir)"
                )
        if self.restart and self.work_dir is None:
            raise ValueError("restart applies to a work_dir (a sharded build); pass work_dir=... too")

    @property
    def sharded(self) -> bool:
        """Whether the build goes through shards in a work_dir (every engine but the plain in-process one)."""
        return self.work_dir is not None
