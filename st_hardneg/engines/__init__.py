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

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "build_sharded": "st_hardneg.engines.build",
        "make_engine": "st_hardneg.engines.build",
        "memory_bound": "st_hardneg.engines.build",
        "Shard": "st_hardneg.engines.shards",
        "ShardError": "st_hardneg.engines.shards",
        "WorkDir": "st_hardneg.engines.work_dir",
    },
)
