"""Mining speed on SciFact train: st-hardneg's pool-once/select-many vs sentence-transformers' mine_hard_negatives.

Every phase runs in its own child process so that its peak RSS (``resource.getrusage``, ``ru_maxrss``) is its own.
Model loading happens before the timer starts and is reported separately; the timed section is the build,
the selections or the ST calls. ``rss_before_mb`` is the process high-water mark before the timed section and
``rss_peak_mb`` after it; ``rss_added_mb`` is their difference (the extra memory the timed section needed above
what imports and model loading had already touched). tracemalloc is not used: it does not see torch's
allocations and it slows pure-Python code, which would distort the timings.

Usage (from the repository root):
    python benchmarks/mining_speed.py            # all phases; writes benchmarks/results/mining_speed.{json,md}

The first run encodes SciFact with all-MiniLM-L6-v2 into benchmarks/cache/emb (the "cold" phase, timed once and
kept in benchmarks/results/mining_speed_cold.json); later runs reuse that cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "scifact"
CACHE = ROOT / "benchmarks" / "cache"
EMB = CACHE / "emb"
ST_CACHE = CACHE / "st_emb"
POOL = CACHE / "pool_minilm"
RESULTS = ROOT / "benchmarks" / "results"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEPTH = 100
NUM_NEG = 4

# (name, st-hardneg method spec, sampling, ST kwargs). ST's "random" is uniform over every valid candidate in
# range_max, so the st-hardneg counterpart is "sampled" with uniform weighting over the whole depth.
CONFIGS = [
    ("naive-top", "naive-topk", "top", {}),
    ("shifted10-top", "topk-shifted:10", "top", {"range_min": 10}),
    ("abs0.7-top", "topk-abs:0.7", "top", {"max_score": 0.7}),
    ("marginpos0.05-top", "topk-marginpos:0.05", "top", {"absolute_margin": 0.05}),
    ("marginpos0.10-top", "topk-marginpos:0.1", "top", {"absolute_margin": 0.10}),
    ("percpos0.90-top", "topk-percpos:0.9", "top", {"relative_margin": 0.10}),
    ("percpos0.95-top", "topk-percpos:0.95", "top", {"relative_margin": 0.05}),
    ("percpos0.99-top", "topk-percpos:0.99", "top", {"relative_margin": 0.01}),
    ("naive-random", "naive-topk", "random", {}),
    ("percpos0.95-random", "topk-percpos:0.95", "random", {"relative_margin": 0.05}),
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def load_data():
    from st_hardneg.data import load_pairs

    pairs, corpus = load_pairs(DATA, split="train")
    return pairs, corpus


def load_model():
    from st_hardneg.teachers import load_sentence_transformer

    t = time.perf_counter()
    model = load_sentence_transformer(MODEL)
    return model, time.perf_counter() - t


def pool_summary(pool) -> dict:
    return {"rows": len(pool), "queries": len(pool.queries), "corpus": len(pool.corpus), "repr": repr(pool)}


def phase_build(kind: str) -> dict:
    """Pool build: kind in {"bm25", "dense_cold", "dense_warm"}."""
    from st_hardneg import CandidatePool
    from st_hardneg.teachers import DenseTeacher

    pairs, corpus = load_data()
    out: dict = {}
    if kind == "bm25":
        teacher = "bm25"
    else:
        model, out["model_load_s"] = load_model()
        teacher = DenseTeacher(model, cache_folder=EMB)
    before = rss_mb()
    t = time.perf_counter()
    pool = CandidatePool.build(pairs, teacher, corpus=corpus, depth=DEPTH, seed=0, show_progress=False)
    out["build_s"] = time.perf_counter() - t
    out["rss_before_mb"] = before
    out["rss_peak_mb"] = rss_mb()
    out["rss_added_mb"] = out["rss_peak_mb"] - before
    out["pool"] = pool_summary(pool)
    if kind == "dense_warm":
        t = time.perf_counter()
        pool.save(POOL, overwrite=True)
        out["save_s"] = time.perf_counter() - t
    if kind == "bm25":
        pool.save(CACHE / "pool_bm25", overwrite=True)
    return out


def phase_select() -> dict:
    from st_hardneg import CandidatePool

    t = time.perf_counter()
    pool = CandidatePool.load(POOL)
    out: dict = {"load_pool_s": time.perf_counter() - t, "configs": []}
    before = rss_mb()
    t_all = time.perf_counter()
    for name, method, sampling, _ in CONFIGS:
        sampler = dict(sampling="sampled", sample_from=DEPTH, weighting="uniform") if sampling == "random" else {}
        t = time.perf_counter()
        res = pool.select(
            method,
            num_negatives=NUM_NEG,
            **sampler,
            positive_score="min",  # ST's convention with several positives
            output_format="n-tuple",
            seed=0,
            show_progress=False,
            return_statistics=True,
        )
        dt = time.perf_counter() - t
        s = res.statistics
        out["configs"].append(
            {
                "name": name,
                "select_s": dt,
                "rows_in": s.rows_in,
                "rows_out": len(res.dataset),
                "rows_short": s.rows_short,
                "rows_filled": s.rows_filled,
                "negatives_filled": s.negatives_filled,
                "rows_dropped": s.rows_dropped,
                "removed_by_method": s.removed_by_method,
            }
        )
    out["total_s"] = time.perf_counter() - t_all
    out["rss_before_mb"] = before
    out["rss_peak_mb"] = rss_mb()
    out["rss_added_mb"] = out["rss_peak_mb"] - before
    return out


def _st_hash(model_name, prompt, prompt_name, texts) -> str:
    return hashlib.sha256(repr((model_name, prompt, prompt_name, texts)).encode(), usedforsecurity=False).hexdigest()


def write_st_cache(teacher, pool, corpus: list, anchors: list, positives: list, folder: Path) -> None:
    """sentence-transformers' embedding cache files for ``mine_hard_negatives(pairs, corpus=corpus)``, written from
    st-hardneg's cached embeddings of ``pool`` (same model, same normalisation), so sentence-transformers mines from the
    very embeddings the pool was built from. Nothing is written when both files exist."""
    import numpy as np

    st_corpus = list(dict.fromkeys(list(corpus) + list(positives)))
    st_queries = list(dict.fromkeys(anchors))
    name = teacher.model.model_card_data.base_model or ""
    qf = folder / f"query_embeddings_{_st_hash(name, None, None, st_queries)}.npy"
    cf = folder / f"corpus_embeddings_{_st_hash(name, None, None, st_corpus)}.npy"
    if qf.exists() and cf.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    pool_corpus, pool_queries = pool.corpus.to_pylist(), pool.query_texts
    emb_c = teacher.cached(pool_corpus, "document")
    emb_q = teacher.cached(pool_queries, "query")
    if emb_c is None or emb_q is None:
        raise SystemExit("the teacher's embeddings of the pool are not in its cache folder")
    pos_c = {t: i for i, t in enumerate(pool_corpus)}
    pos_q = {t: i for i, t in enumerate(pool_queries)}
    np.save(cf, np.asarray(emb_c)[[pos_c[x] for x in st_corpus]])
    np.save(qf, np.asarray(emb_q)[[pos_q[x] for x in st_queries]])


def phase_st_prefill() -> dict:
    """Writes ST's embedding cache files from st-hardneg's cache (same model, same normalisation), so that ST is
    timed with a warm cache too instead of encoding SciFact a second time (~10+ minutes on this machine)."""
    import numpy as np

    from st_hardneg.teachers import DenseTeacher

    pairs, corpus = load_data()
    model, _ = load_model()
    teacher = DenseTeacher(model, cache_folder=EMB)
    anchors, positives = list(pairs["anchor"]), list(pairs["positive"])
    st_corpus = list(dict.fromkeys(corpus + positives))
    st_queries = list(dict.fromkeys(anchors))
    name = model.model_card_data.base_model or ""
    ST_CACHE.mkdir(parents=True, exist_ok=True)
    qf = ST_CACHE / f"query_embeddings_{_st_hash(name, None, None, st_queries)}.npy"
    cf = ST_CACHE / f"corpus_embeddings_{_st_hash(name, None, None, st_corpus)}.npy"
    out = {"query_file": qf.name, "corpus_file": cf.name}
    # Our cache is keyed by the exact text list; the pool encoded the deduplicated corpus in its own order, so
    # encode through the teacher with the pool's lists (cache hits) and reorder to ST's order.
    from st_hardneg import CandidatePool

    pool = CandidatePool.load(POOL)
    pool_corpus = pool.corpus.to_pylist()
    pool_queries = pool.queries.to_pylist()
    t = time.perf_counter()
    emb_c = teacher.encode(pool_corpus, "document", show_progress=False)
    emb_q = teacher.encode(pool_queries, "query", show_progress=False)
    out["from_cache_s"] = time.perf_counter() - t
    pos_c = {text: i for i, text in enumerate(pool_corpus)}
    pos_q = {text: i for i, text in enumerate(pool_queries)}
    np.save(cf, emb_c[[pos_c[x] for x in st_corpus]])
    np.save(qf, emb_q[[pos_q[x] for x in st_queries]])
    return out


def phase_st() -> dict:
    import random

    import torch
    from sentence_transformers.util.hard_negatives import mine_hard_negatives

    pairs, corpus = load_data()
    model, load_s = load_model()
    out: dict = {"model_load_s": load_s, "configs": []}
    before = rss_mb()
    t_all = time.perf_counter()
    for name, _, sampling, kwargs in CONFIGS:
        random.seed(0)
        torch.manual_seed(0)
        t = time.perf_counter()
        ds = mine_hard_negatives(
            pairs,
            model,
            corpus=corpus,
            range_max=DEPTH,
            num_negatives=NUM_NEG,
            sampling_strategy=sampling,
            output_format="n-tuple",
            cache_folder=str(ST_CACHE),
            verbose=False,
            **kwargs,
        )
        dt = time.perf_counter() - t
        out["configs"].append(
            {"name": name, "st_kwargs": kwargs, "select_s": dt, "rows_in": len(pairs), "rows_out": len(ds)}
        )
    out["total_s"] = time.perf_counter() - t_all
    out["rss_before_mb"] = before
    out["rss_peak_mb"] = rss_mb()
    out["rss_added_mb"] = out["rss_peak_mb"] - before
    return out


def phase_tracemalloc() -> dict:
    """Python-heap peaks (tracemalloc: Python objects and numpy buffers are traced; pyarrow and torch buffers are
    not) of the BM25
    pool build and of the 10 selections, run after the timed phases since tracing slows them down."""
    import tracemalloc

    from st_hardneg import CandidatePool

    pairs, corpus = load_data()
    out: dict = {}
    tracemalloc.start()
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=DEPTH, seed=0, show_progress=False)
    out["bm25_build_traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    del pool
    tracemalloc.stop()
    pool = CandidatePool.load(POOL)
    tracemalloc.start()
    for _, method, sampling, _ in CONFIGS:
        sampler = dict(sampling="sampled", sample_from=DEPTH, weighting="uniform") if sampling == "random" else {}
        pool.select(method, num_negatives=NUM_NEG, **sampler, positive_score="min", seed=0, show_progress=False)
    out["select_x10_traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out


PHASES = {
    "tracemalloc": phase_tracemalloc,
    "bm25": lambda: phase_build("bm25"),
    "dense_cold": lambda: phase_build("dense_cold"),
    "dense_warm": lambda: phase_build("dense_warm"),
    "select": phase_select,
    "st_prefill": phase_st_prefill,
    "st": phase_st,
}


def run_child(phase: str) -> dict:
    out_file = CACHE / f"speed_{phase}.json"
    t = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--phase", phase, "--out", str(out_file)], check=True)
    res = json.loads(out_file.read_text())
    res["process_wall_s"] = time.perf_counter() - t
    print(f"[{phase}] {json.dumps({k: v for k, v in res.items() if k != 'configs'})}", flush=True)
    return res


def loadavg() -> list[float]:
    return list(os.getloadavg())


def markdown(r: dict) -> str:
    lines = [
        f"Machine: {r['machine']}. Date: {r['date']}. Load average at start/end: {r['loadavg_start']} / "
        f"{r['loadavg_end']} (the 2 cores were shared with other jobs).",
        "",
        "| step | wall time (s) | peak RSS (MiB) | RSS added by step (MiB) |",
        "|---|---:|---:|---:|",
    ]
    cold = r.get("dense_cold")
    if cold:
        lines.append(
            f"| dense MiniLM pool build, cold cache (encode 5,183 docs + 648 distinct queries, measured once) | "
            f"{cold['build_s']:.1f} | {cold['rss_peak_mb']:.0f} | {cold['rss_added_mb']:.0f} |"
        )
    for key, label in [("dense_warm", "dense MiniLM pool build, warm cache"), ("bm25", "BM25 pool build")]:
        x = r[key]
        lines.append(f"| {label} | {x['build_s']:.2f} | {x['rss_peak_mb']:.0f} | {x['rss_added_mb']:.0f} |")
    s, st = r["select"], r["st"]
    lines.append(
        f"| st-hardneg: 10 selections from the saved pool (load {s['load_pool_s']:.2f} s not included) | "
        f"{s['total_s']:.2f} | {s['rss_peak_mb']:.0f} | {s['rss_added_mb']:.0f} |"
    )
    lines.append(
        f"| sentence-transformers mine_hard_negatives x10 (warm embedding cache) | {st['total_s']:.2f} | "
        f"{st['rss_peak_mb']:.0f} | {st['rss_added_mb']:.0f} |"
    )
    lines += [
        "",
        "| configuration | ST kwargs | st-hardneg select (s) | ST mine (s) "
        "| st-hardneg rows out (filled rows / dropped) "
        "| ST rows out (dropped) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for a, b in zip(s["configs"], st["configs"]):
        lines.append(
            f"| {a['name']} | `{b['st_kwargs']}` | {a['select_s']:.3f} | {b['select_s']:.2f} | "
            f"{a['rows_out']} ({a['rows_filled']} / {a['rows_dropped']}) | {b['rows_out']} "
            f"({b['rows_in'] - b['rows_out']}) |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--phase", choices=list(PHASES))
    p.add_argument("--out")
    p.add_argument(
        "--tracemalloc",
        action="store_true",
        help="only the tracemalloc phase -> benchmarks/results/mining_speed_tracemalloc.json",
    )
    args = p.parse_args()
    if args.tracemalloc:
        res = run_child("tracemalloc")
        res["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        (RESULTS / "mining_speed_tracemalloc.json").write_text(json.dumps(res, indent=2))
        return
    if args.phase:
        res = PHASES[args.phase]()
        Path(args.out).write_text(json.dumps(res, indent=2))
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    r: dict = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, no GPU",
        "python": platform.python_version(),
        "loadavg_start": loadavg(),
        "dataset": "SciFact train (../shared/data/scifact, qrels/train.tsv): 732 pairs, 5,183 docs",
        "model": MODEL,
        "depth_or_range_max": DEPTH,
        "num_negatives": NUM_NEG,
    }
    import sentence_transformers
    import torch

    r["versions"] = {"sentence_transformers": sentence_transformers.__version__, "torch": torch.__version__}
    cold_file = RESULTS / "mining_speed_cold.json"
    if cold_file.exists():
        r["dense_cold"] = json.loads(cold_file.read_text())
    elif not EMB.exists() or not any(EMB.iterdir()):
        r["dense_cold"] = run_child("dense_cold")
        r["dense_cold"]["date"] = r["date"]
        r["dense_cold"]["loadavg_end"] = loadavg()
        cold_file.write_text(json.dumps(r["dense_cold"], indent=2))
    for phase in ("dense_warm", "bm25", "select", "st_prefill", "st"):
        r[phase] = run_child(phase)
    r["loadavg_end"] = loadavg()
    (RESULTS / "mining_speed.json").write_text(json.dumps(r, indent=2))
    md = markdown(r)
    (RESULTS / "mining_speed.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
