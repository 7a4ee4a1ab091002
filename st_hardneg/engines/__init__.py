"""Engines for big pool builds: sharded, resumable, in this process or on a Ray cluster.

``CandidatePool.build(..., work_dir="pool-work/")`` builds the pool shard by shard in that folder with the local
engine (this process); ``engine="ray"`` runs the same shards on Ray (Ray Data actors encode, Ray tasks search and
merge). Either way every finished shard is written atomically and recorded in ``work_dir/manifest.json``, so the same
call run again after a kill resumes where it stopped and ends with the same pool; the pool is written to
``work_dir/pool`` in the ordinary pool format and returned memory-mapped. Without a ``work_dir``, the local engine
builds in memory as before. How to choose: :class:`~st_hardneg.settings.EngineSettings`.

Layout of the package: :mod:`.shards` (ranges and tasks), :mod:`.work_dir` (manifest), :mod:`.tasks` (the work of
one shard), :mod:`.build` (stages and scheduling), :mod:`.assemble` (shards -> pool), :mod:`.local` and :mod:`.ray`
(the engines), :mod:`.progress` (one bar over the shards).
"""

from st_hardneg.engines.build import build_sharded, make_engine, memory_bound
from st_hardneg.engines.shards import Shard, ShardError
from st_hardneg.engines.work_dir import WorkDir

__all__ = ["Shard", "ShardError", "WorkDir", "build_sharded", "make_engine", "memory_bound"]
