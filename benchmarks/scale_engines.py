"""Engines at scale on synthetic embeddings: build time and peak memory in-process vs sharded vs Ray (1 and 2
workers), the memory bound of a sharded build and of selection, and a 20-configuration sweep from one pool against 20
calls of sentence-transformers' ``mine_hard_negatives`` reading the same embeddings from its cache.

    python benchmarks/scale_engines.py all                       # every part below, in order (about an hour here)
    python benchmarks/scale_engines.py build --anchors 20000 --docs 200000
    python benchmarks/scale_engines.py memory --anchors 5000 --docs 1000000
    python benchmarks/scale_engines.py select-memory --anchors 1000000
    python benchmarks/scale_engines.py sweep --anchors 10000 --docs 100000

Synthetic data (``prepare``, cached in benchmarks/cache/synthetic): ``docs / 1000`` topic centres in 384 dimensions;
each document is a unit vector at cosine ~0.75 to its topic's centre (so documents of one topic are at ~0.56 to each
other); each anchor is a unit vector at cosine ~0.85 to its positive, a random document (so the hard negatives, the
positive's topic mates, score 0.49-0.56 in the top 100 and the positive ~0.85; the thresholds of the sweep
fall in that range). The teacher is a :class:`SyntheticEncoder` standing in
for a SentenceTransformer: it "encodes" the text ``d123`` as row 123 of the document matrix (``q123``: anchor 123), so
the build runs every stage (sharded encode, search, merge, assembly) with encoding reduced to a lookup.

Every measured step runs in its own process so that ``ru_maxrss`` (peak resident memory) is its own; for Ray the
driver's peak is reported with the largest peak of any Ray worker (each task reports its worker's ``ru_maxrss``) and
the peak of the summed RSS of the driver and all its descendant processes (raylet, workers; sampled every 0.2 s by
psutil; shared memory counted once per process, so an over-estimate). Results: benchmarks/results/scale_engines_*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / "cache" / "synthetic"
RESULTS = ROOT / "benchmarks" / "results"
DIM = 384
DEPTH = 100
NUM_NEG = 4

# The sweep: five methods x four thresholds (st-hardneg selection settings, sentence-transformers kwargs).
SWEEP = (
    [
        (f"naive min_score={m}", {"method": "naive-topk", "min_score": m}, {"min_score": m})
        for m in (0.0, 0.5, 0.52, 0.54)
    ]
    + [(f"shifted {n}", {"method": f"topk-shifted:{n}"}, {"range_min": n}) for n in (5, 10, 20, 30)]
    + [(f"abs {x}", {"method": f"topk-abs:{x}"}, {"max_score": x}) for x in (0.5, 0.52, 0.54, 0.56)]
    + [(f"marginpos {m}", {"method": f"topk-marginpos:{m}"}, {"absolute_margin": m}) for m in (0.29, 0.31, 0.33, 0.35)]
    + [
        (f"percpos {p}", {"method": f"topk-percpos:{p}"}, {"relative_margin": round(1 - p, 4)})
        for p in (0.6, 0.62, 0.64, 0.66)
    ]
)


# ---------------------------------------------------------------------------------------------------- helpers
def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> float:
    """Reset this process's peak RSS (``VmHWM``, Linux ``clear_refs``) and return its current RSS, MiB, so that the
    peak read after a step is the step's own."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def peak_since_reset() -> float:
    return _status("VmHWM")


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


class TreeRSS:
    """Peak of the summed RSS of this process and all its descendants, sampled in a thread."""

    def __init__(self, every: float = 0.2) -> None:
        import psutil

        self.proc, self.every, self.peak = psutil.Process(), every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for p in [self.proc, *self.proc.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total / 2**20)
            time.sleep(self.every)

    def __enter__(self) -> TreeRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def machine() -> dict:
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, no GPU",
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "loadavg": list(os.getloadavg()),
    }


def data_dir(anchors: int, docs: int) -> Path:
    return CACHE / f"{anchors}x{docs}"


class SyntheticEncoder:
    """Stands in for a SentenceTransformer: the text ``d123`` encodes as row 123 of ``docs.npy`` and ``q123`` as row
    123 of ``anchors.npy`` (unit vectors, cosine similarity)."""

    similarity_fn_name = "cosine"
    prompts: dict = {}

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def _rows(self, texts, name: str) -> np.ndarray:
        ids = np.fromiter((int(t[1:]) for t in texts), dtype=np.int64, count=len(texts))
        return np.asarray(np.load(os.path.join(self.folder, name), mmap_mode="r")[ids])

    def encode_query(self, texts, **kwargs) -> np.ndarray:
        return self._rows(texts, "anchors.npy")

    def encode_document(self, texts, **kwargs) -> np.ndarray:
        return self._rows(texts, "docs.npy")


def prepare(anchors: int, docs: int) -> Path:
    """Write the synthetic embeddings and pairs (cached)."""
    folder = data_dir(anchors, docs)
    if (folder / "done").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    g = np.random.default_rng(0)
    topics = max(docs // 1000, 1)
    centres = g.standard_normal((topics, DIM), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    d = np.lib.format.open_memmap(folder / "docs.npy", mode="w+", dtype=np.float32, shape=(docs, DIM))
    for s in range(0, docs, 100_000):
        n = min(100_000, docs - s)
        noise = g.standard_normal((n, DIM), dtype=np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        x = 0.75 * centres[np.arange(s, s + n) % topics] + 0.66 * noise
        d[s : s + n] = x / np.linalg.norm(x, axis=1, keepdims=True)
    d.flush()
    positives = g.integers(0, docs, anchors)
    noise = g.standard_normal((anchors, DIM), dtype=np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    a = 0.85 * np.asarray(d[positives]) + 0.53 * noise
    np.save(folder / "anchors.npy", (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32))
    np.save(folder / "positives.npy", positives)
    (folder / "done").write_text("ok")
    return folder


def load_inputs(folder: Path):
    from datasets import Dataset

    positives = np.load(folder / "positives.npy")
    docs = np.load(folder / "docs.npy", mmap_mode="r").shape[0]
    pairs = Dataset.from_dict(
        {"anchor": [f"q{j}" for j in range(len(positives))], "positive": [f"d{p}" for p in positives]}
    )
    corpus = [f"d{i}" for i in range(docs)]
    return pairs, corpus


# ---------------------------------------------------------------------------------------------------- child phases
def phase_build(args) -> dict:
    """One build: --engine memory (in-process, no work_dir), local (sharded, work_dir) or ray (--workers)."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    from st_hardneg import CandidatePool
    from st_hardneg.teachers import DenseTeacher

    folder = data_dir(args.anchors, args.docs)
    pairs, corpus = load_inputs(folder)
    teacher = DenseTeacher(SyntheticEncoder(str(folder)), backend=args.backend)
    work = Path(args.work_dir) if args.work_dir else None
    if work is not None and work.exists():
        shutil.rmtree(work)
    engine: dict = {}
    if args.engine != "memory":
        engine = dict(
            work_dir=str(work),
            engine=args.engine,
            anchor_shard_size=args.anchor_shard_size,
            corpus_shard_size=args.corpus_shard_size,
        )
    if args.engine == "ray":
        import ray

        ray.init(num_cpus=args.workers, include_dashboard=False, logging_level="WARNING")
        engine["num_workers"] = args.workers
    before = peak_rss_mib()
    rss_before = reset_peak()
    with TreeRSS() as tree:
        t = time.perf_counter()
        pool = CandidatePool.build(pairs, teacher, corpus=corpus, depth=DEPTH, seed=0, show_progress=False, **engine)
        seconds = time.perf_counter() - t
    peak_build = peak_since_reset()
    out = {
        "engine": args.engine,
        "workers": args.workers if args.engine == "ray" else 1,
        "anchors": args.anchors,
        "docs": args.docs,
        "dim": DIM,
        "depth": DEPTH,
        "backend": args.backend,
        "seconds": round(seconds, 1),
        "driver_rss_mib_before_build": round(rss_before),
        "driver_peak_rss_mib_during_build": round(peak_build),
        "driver_ru_maxrss_mib_before_build": round(before),
        "driver_ru_maxrss_mib": round(peak_rss_mib()),
        "process_tree_peak_rss_mib": round(tree.peak),
    }
    if args.engine != "memory":
        out.update(anchor_shard_size=args.anchor_shard_size, corpus_shard_size=args.corpus_shard_size)
        manifest = json.loads((work / "manifest.json").read_text())
        peaks = [e["peak_rss_mib"] for e in manifest["shards"].values() if "peak_rss_mib" in e]
        out["task_peak_rss_mib_max"] = round(max(peaks)) if peaks else None
    if args.save_pool:
        if Path(args.save_pool).exists():
            shutil.rmtree(args.save_pool)
        pool.save(args.save_pool)
    tc = next(iter(pool.teachers.values()))
    out["checksum"] = int(np.asarray(tc.candidates[:, 0], dtype=np.int64).sum())
    return out


def phase_select_memory(args) -> dict:
    """Selection from a memory-mapped saved pool of ``--anchors`` rows (written here without a search)."""
    import pyarrow as pa

    from st_hardneg import CandidatePool
    from st_hardneg.pool import PoolStatistics, TeacherCandidates
    from st_hardneg.settings import PoolSettings

    path = CACHE / f"pool_{args.anchors}"
    rows, docs = args.anchors, args.docs
    if not (path / "pool.json").exists():
        g = np.random.default_rng(0)
        scores = np.sort(g.random((rows, DEPTH), dtype=np.float32), axis=1)[:, ::-1].copy()
        tc = TeacherCandidates(
            name="synthetic",
            config={"type": "synthetic"},
            candidates=g.integers(0, docs, (rows, DEPTH), dtype=np.int32),
            scores=scores,
            positive_scores=(0.5 + 0.5 * g.random(rows, dtype=np.float32)),
            random_candidates=g.integers(0, docs, (rows, 16), dtype=np.int32),
            random_scores=g.random((rows, 16), dtype=np.float32) * 0.3,
            min_positive_scores=np.zeros(rows, dtype=np.float32),
        )
        pool = CandidatePool(
            pa.array([f"q{i}" for i in range(rows)], type=pa.large_string()),
            pa.array([f"d{i}" for i in range(docs)], type=pa.large_string()),
            np.arange(rows),
            g.integers(0, docs, rows),
            np.arange(rows + 1),
            np.arange(rows),
            {"synthetic": tc},
            {"settings": PoolSettings(depth=DEPTH, anchor_column="anchor", positive_column="positive").to_dict()},
            PoolStatistics(rows, rows, docs, 0, 0, 0),
        )
        pool.save(path, overwrite=True)
        return {"written": str(path)}
    rss_before = reset_peak()
    pool = CandidatePool.load(path)
    loaded = peak_since_reset()
    t = time.perf_counter()
    res = pool.select("topk-percpos:0.95", num_negatives=NUM_NEG, seed=0, show_progress=False, return_statistics=True)
    seconds = time.perf_counter() - t
    peak = peak_since_reset()
    tc = pool.teachers["synthetic"]
    pool_mib = sum(
        np.asarray(getattr(tc, a)).nbytes for a in ("candidates", "scores", "random_candidates", "random_scores")
    )
    return {
        "rows": rows,
        "docs": docs,
        "depth": DEPTH,
        "seconds": round(seconds, 1),
        "rss_mib_before_load": round(rss_before),
        "peak_rss_mib_after_load": round(loaded),
        "peak_rss_mib_load_and_select": round(peak),
        # after the selection: how much of the resident memory is pages of the memory-mapped pool (file-backed,
        # dropped by the kernel under pressure) and how much is the process's own (anonymous) memory
        "rss_file_mib_after": round(_status("RssFile")),
        "rss_anon_mib_after": round(_status("RssAnon")),
        "select_chunk_size": 16384,
        "pool_arrays_mib": round(pool_mib / 2**20),
        "output_arrow_mib": round(res.dataset.data.nbytes / 2**20),
        "rows_out": res.statistics.rows_out,
    }


def phase_sweep(args) -> dict:
    """20 selections from one saved pool, then 20 mine_hard_negatives calls with a warm embedding cache."""
    import hashlib
    import random

    import torch
    from sentence_transformers.util.hard_negatives import mine_hard_negatives

    from st_hardneg import CandidatePool
    from st_hardneg.teachers import load_sentence_transformer

    folder = data_dir(args.anchors, args.docs)
    pairs, corpus = load_inputs(folder)
    pool = CandidatePool.load(args.pool)
    out: dict = {"anchors": args.anchors, "docs": args.docs, "configs": [], "st_calls": args.st_calls}
    t_all = time.perf_counter()
    for name, ours, _ in SWEEP:
        t = time.perf_counter()
        res = pool.select(
            num_negatives=NUM_NEG, positive_score="min", seed=0, show_progress=False, return_statistics=True, **ours
        )
        out["configs"].append(
            {
                "name": name,
                "select_s": time.perf_counter() - t,
                "rows_out": len(res.dataset),
                "filled": res.statistics.rows_filled,
            }
        )
    out["select_total_s"] = time.perf_counter() - t_all
    out["select_peak_rss_mib"] = round(peak_rss_mib())

    # sentence-transformers: its cache files written from the same embeddings (its hash of model name and texts)
    model = load_sentence_transformer("sentence-transformers/all-MiniLM-L6-v2", device="cpu")  # 384 dims
    model.model_card_data.base_model = "synthetic"
    st_cache = folder / "st_cache"
    st_cache.mkdir(exist_ok=True)
    queries = list(dict.fromkeys(pairs["anchor"]))
    st_corpus = list(dict.fromkeys(corpus + list(pairs["positive"])))

    def st_hash(texts) -> str:
        return hashlib.sha256(repr(("synthetic", None, None, texts)).encode(), usedforsecurity=False).hexdigest()

    enc = SyntheticEncoder(str(folder))
    np.save(st_cache / f"query_embeddings_{st_hash(queries)}.npy", enc.encode_query(queries))
    np.save(st_cache / f"corpus_embeddings_{st_hash(st_corpus)}.npy", enc.encode_document(st_corpus))
    t_all = time.perf_counter()
    for name, _, st_kwargs in SWEEP[: args.st_calls]:
        random.seed(0)
        torch.manual_seed(0)
        t = time.perf_counter()
        ds = mine_hard_negatives(
            pairs,
            model,
            corpus=corpus,
            range_max=DEPTH,
            num_negatives=NUM_NEG,
            output_format="n-tuple",
            use_faiss=True,
            cache_folder=str(st_cache),
            verbose=False,
            **st_kwargs,
        )
        for c in out["configs"]:
            if c["name"] == name:
                c["st_s"] = time.perf_counter() - t
                c["st_rows_out"] = len(ds)
    out["st_total_s"] = time.perf_counter() - t_all
    out["st_peak_rss_mib"] = round(peak_rss_mib())
    return out


PHASES = {"build": phase_build, "select-memory": phase_select_memory, "sweep": phase_sweep}


def child(phase: str, **kw) -> dict:
    """Run a phase in a fresh process; return its JSON."""
    out_file = CACHE / f"out_{phase}_{os.getpid()}.json"
    cmd = [sys.executable, __file__, "--child", phase, "--out", str(out_file)]
    for k, v in kw.items():
        if v is not None:
            cmd += [f"--{k.replace('_', '-')}", str(v)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    res = json.loads(out_file.read_text())
    out_file.unlink()
    res["process_wall_s"] = round(time.perf_counter() - t, 1)
    res["loadavg_after"] = list(os.getloadavg())
    print(json.dumps({k: v for k, v in res.items() if k != "configs"}), flush=True)
    return res


def save(name: str, result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"scale_engines_{name}.json").write_text(json.dumps(result, indent=2))


def part_build(args) -> dict:
    prepare(args.anchors, args.docs)
    work = CACHE / "work"
    res = {**machine(), "command": " ".join(sys.argv), "runs": []}
    shards = dict(anchor_shard_size=args.anchor_shard_size, corpus_shard_size=args.corpus_shard_size)
    for engine, workers in (("memory", 1), ("local", 1), ("ray", 1), ("ray", 2)):
        res["runs"].append(
            child(
                "build",
                engine=engine,
                workers=workers,
                anchors=args.anchors,
                docs=args.docs,
                work_dir=work if engine != "memory" else None,
                **shards,
            )
        )
    res["loadavg_end"] = list(os.getloadavg())
    save("build", res)
    return res


def part_memory(args) -> dict:
    prepare(args.anchors, args.docs)
    res = {**machine(), "command": " ".join(sys.argv), "runs": []}
    shards = dict(anchor_shard_size=args.anchor_shard_size, corpus_shard_size=args.corpus_shard_size)
    work = CACHE / "work_memory"
    for engine in ("memory", "local"):
        res["runs"].append(
            child(
                "build",
                engine=engine,
                anchors=args.anchors,
                docs=args.docs,
                work_dir=work if engine == "local" else None,
                **shards,
            )
        )
    from st_hardneg.engines import memory_bound

    for run in res["runs"]:
        bound = memory_bound(
            anchors=args.anchors,
            rows=args.anchors,
            dim=DIM,
            depth=DEPTH,
            anchor_shard_size=args.anchor_shard_size,
            corpus_shard_size=args.corpus_shard_size,
        )
        run["documented_bound_mib"] = {k: round(v / 2**20) for k, v in bound.items()}
        run["bound_with_inputs_mib"] = run["driver_rss_mib_before_build"] + round(bound["total"] / 2**20)
        run["within_bound"] = run["driver_peak_rss_mib_during_build"] <= run["bound_with_inputs_mib"]
    res["loadavg_end"] = list(os.getloadavg())
    save("memory", res)
    return res


def part_select_memory(args) -> dict:
    child("select-memory", anchors=args.anchors, docs=args.docs)  # writes the pool
    res = {**machine(), "command": " ".join(sys.argv), **child("select-memory", anchors=args.anchors, docs=args.docs)}
    save("select_memory", res)
    return res


def part_sweep(args) -> dict:
    prepare(args.anchors, args.docs)
    pool_path = CACHE / f"pool_sweep_{args.anchors}x{args.docs}"
    res = {**machine(), "command": " ".join(sys.argv)}
    res["build"] = child(
        "build", engine="memory", anchors=args.anchors, docs=args.docs, save_pool=pool_path, backend="faiss-cpu"
    )
    res["sweep"] = child("sweep", anchors=args.anchors, docs=args.docs, pool=pool_path, st_calls=args.st_calls)
    res["loadavg_end"] = list(os.getloadavg())
    save("sweep", res)
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("part", nargs="?", choices=["all", "build", "memory", "select-memory", "sweep"], default="all")
    p.add_argument("--child", choices=list(PHASES))
    p.add_argument("--out")
    p.add_argument("--anchors", type=int)
    p.add_argument("--docs", type=int)
    p.add_argument("--engine", default="memory")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--work-dir")
    p.add_argument("--save-pool")
    p.add_argument("--pool")
    p.add_argument("--backend", default="exact")
    p.add_argument("--anchor-shard-size", type=int)
    p.add_argument("--corpus-shard-size", type=int)
    p.add_argument("--st-calls", type=int, default=len(SWEEP))
    args = p.parse_args()
    if args.child:
        Path(args.out).write_text(json.dumps(PHASES[args.child](args)))
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    # part: anchors, documents, anchor shard size, document shard size (the memory part: the library's defaults)
    defaults = {
        "build": (20_000, 200_000, 5_000, 50_000),
        "memory": (5_000, 1_000_000, 16_384, 262_144),
        "select-memory": (1_000_000, 1_000_000, None, None),
        "sweep": (10_000, 100_000, None, None),
    }
    parts = list(defaults) if args.part == "all" else [args.part]
    for part in parts:
        a, d, sa, sd = defaults[part]
        run = argparse.Namespace(
            **{
                **vars(args),
                "anchors": args.anchors or a,
                "docs": args.docs or d,
                "anchor_shard_size": args.anchor_shard_size or sa,
                "corpus_shard_size": args.corpus_shard_size or sd,
            }
        )
        print(f"== {part}: {run.anchors} anchors x {run.docs} docs", flush=True)
        {"build": part_build, "memory": part_memory, "select-memory": part_select_memory, "sweep": part_sweep}[part](
            run
        )


if __name__ == "__main__":
    main()
