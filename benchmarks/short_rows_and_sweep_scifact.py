"""Rows short of negatives, the number of negatives, and choosing a configuration before training, on SciFact.

The quality protocol is benchmarks/quality_scifact.py's (imported, not copied): all-MiniLM-L6-v2 fine-tuned on
SciFact train with MultipleNegativesRankingLoss (batch 16, NO_DUPLICATES, 1 epoch, lr 2e-5), NDCG@10 on SciFact dev
(160 queries, full corpus, exact cosine search), per-query paired tests (Wilcoxon, paired bootstrap). Here with
max_seq_length 64 for training and evaluation, as in quality_scifact.py (128 took ~4x longer per run on the 2 shared
cores: one training run at 128 tokens had done 10 of 46 steps after 12 minutes at a load average of 11), and 1 hard
negative unless the comparison is about their number.

Negatives come from one st-hardneg CandidatePool built with the MiniLM teacher (max_seq_length 256, depth 100,
seed 0) from the embedding cache in benchmarks/cache/emb (copied from /work/main/benchmarks/cache/emb when present,
so SciFact is not encoded again), kept in benchmarks/cache/pool_short_rows with the deeper candidates found by
on_short="deepen".

Phases, in priority order (each run trains once; the script is resumable: results are written after every run,
runs already in the results are skipped):
  short       TopK-PercPos 95% and TopK-MarginPos 0.05, 1 negative: on_short fill / deepen / drop, seeds 0, 1, 2
  sweep       13 configurations spanning methods and thresholds (1 negative, seed 0), on_short = the phase-1
              winner; ECI, S_n and Max-Margin before training (teacher scores; and the untrained student)
  negatives   1, 2, 4, 8 negatives for the best configuration of the sweep, seeds 0, 1, 2
  st          the recommended pipeline (st-hardneg's defaults after this issue) vs sentence-transformers'
              mine_hard_negatives defaults and its positive-aware setting (same method, n-tuple, range_max 100),
              seeds 0, 1, 2

Usage (from the repository root):
    nohup python benchmarks/short_rows_and_sweep_scifact.py run > benchmarks/cache/short_rows.log 2>&1 &
    python benchmarks/short_rows_and_sweep_scifact.py run --phases short --max-runs 1
    python benchmarks/short_rows_and_sweep_scifact.py speed      # 50 configurations selected and scored
    python benchmarks/short_rows_and_sweep_scifact.py analyze    # tests and correlations from saved results

Outputs: benchmarks/results/short_rows_scifact.json (protocol, per run: configuration, mining statistics, ECI
before training, training loss/time, NDCG@10, load averages), short_rows_scifact_perquery.json (per-query
NDCG@10 by run), short_rows_scifact_analysis.json, sweep_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_scifact as Q  # noqa: E402  (the quality protocol: train, evaluate, paired_tests)

ROOT = Q.ROOT
CACHE = Q.CACHE
EMB = CACHE / "emb"
SHARED_EMB = Path("/work/main/benchmarks/cache/emb")
POOL = CACHE / "pool_short_rows"
ST_CACHE = CACHE / "st_emb_short_rows"
RESULTS = Q.RESULTS
SUMMARY = RESULTS / "short_rows_scifact.json"
PERQUERY = RESULTS / "short_rows_scifact_perquery.json"
ANALYSIS = RESULTS / "short_rows_scifact_analysis.json"
SPEED = RESULTS / "sweep_speed.json"
DEPTH = 100
SEEDS = (0, 1, 2)
PHASES = ("short", "sweep", "negatives", "st")

SHORT_METHODS = ("topk-percpos:0.95", "topk-marginpos:0.05")
ON_SHORT = ("fill", "deepen", "drop")
SWEEP = (
    ("naive-topk", "top"),
    ("topk-shifted:3", "top"),
    ("topk-shifted:10", "top"),
    ("topk-shifted:30", "top"),
    ("topk-abs:0.5", "top"),
    ("topk-abs:0.6", "top"),
    ("topk-marginpos:0.02", "top"),
    ("topk-marginpos:0.05", "top"),
    ("topk-marginpos:0.1", "top"),
    ("topk-percpos:0.9", "top"),
    ("topk-percpos:0.95", "top"),
    ("topk-percpos:0.99", "top"),
    ("naive-topk", "sampled"),
)
NEGATIVES = (1, 2, 4, 8)
ST_METHOD_KWARGS = {"topk-percpos": "relative_margin", "topk-marginpos": "absolute_margin"}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read(path: Path, default):
    return json.loads(path.read_text()) if path.exists() else default


def protocol(args) -> dict:
    import torch

    return {
        "model": Q.MODEL,
        "train": "SciFact train (qrels/train.tsv): 732 pairs, 649 queries",
        "eval": "SciFact dev (qrels/dev.tsv): 160 queries, full 5,183-doc corpus, exact cosine search, NDCG@10",
        "loss": "MultipleNegativesRankingLoss, NO_DUPLICATES batch sampler",
        "batch_size": args.batch_size,
        "epochs": 1,
        "lr": 2e-5,
        "warmup_ratio": 0.1,
        "max_seq_length_train_and_eval": args.max_seq_length,
        "teacher": f"all-MiniLM-L6-v2 (max_seq_length 256), one CandidatePool, depth {DEPTH}, pool seed 0",
        "torch_threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, no GPU",
    }


# ------------------------------------------------------------------------------------------------ data and pool
class Context:
    """Data, teacher and pool, loaded once per process."""

    def __init__(self) -> None:
        from st_hardneg.data import load_beir, load_pairs

        self.pairs, self.corpus = load_pairs(Q.DATA, split="train")
        self.beir = load_beir(Q.DATA, "dev")
        self._pool = None
        self._teacher = None

    @property
    def teacher(self):
        if self._teacher is None:
            from st_hardneg.teachers import DenseTeacher, load_sentence_transformer

            copy_shared_cache()
            self._teacher = DenseTeacher(load_sentence_transformer(Q.MODEL), cache_folder=EMB)
        return self._teacher

    @property
    def pool(self):
        if self._pool is None:
            from st_hardneg import CandidatePool

            if POOL.exists():
                Q.log(f"loading pool {POOL}")
                self._pool = CandidatePool.load(POOL).attach_teacher(self.teacher, show_progress=False)
            else:
                Q.log(f"building the MiniLM pool (depth {DEPTH}, seed 0)")
                self._pool = CandidatePool.build(
                    self.pairs, self.teacher, corpus=self.corpus, depth=DEPTH, seed=0, show_progress=False
                )
                self.save_pool()
        return self._pool

    def save_pool(self) -> None:
        """Keep the deeper candidates found so far (arrays are read into memory first: the saved pool is
        memory-mapped from the folder being replaced)."""
        pool = self._pool
        for tc in pool.teachers.values():
            for name in ("candidates", "scores", "positive_scores", "random_candidates", "random_scores"):
                setattr(tc, name, np.array(getattr(tc, name)))
            tc.min_positive_scores = np.array(tc.min_positive_scores)
        tmp = POOL.with_name(POOL.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        pool.save(tmp)
        if POOL.exists():
            shutil.rmtree(POOL)
        tmp.rename(POOL)


def copy_shared_cache() -> None:
    """Copy the shared MiniLM SciFact embeddings into this worktree's cache (read-only use of the shared one)."""
    EMB.mkdir(parents=True, exist_ok=True)
    if SHARED_EMB.is_dir():
        for f in SHARED_EMB.glob("*.npy"):
            if not (EMB / f.name).exists():
                shutil.copy2(f, EMB / f.name)


# ------------------------------------------------------------------------------------------------ the plan
def ndcg_of(summary: dict, run_id: str) -> float | None:
    r = summary["runs"].get(run_id)
    return None if r is None else r["ndcg@10"]


def short_winner(summary: dict) -> str:
    """The on_short variant with the best NDCG@10 averaged over both methods and all seeds (fill until known)."""
    means = {}
    for variant in ON_SHORT:
        vals = [ndcg_of(summary, f"{m}|{variant}|n1|top|s{s}") for m in SHORT_METHODS for s in SEEDS]
        if any(v is None for v in vals):
            return "fill"
        means[variant] = float(np.mean(vals))
    return max(means, key=means.get)


def best_sweep_config(summary: dict) -> tuple[str, str]:
    """The sweep configuration with the best NDCG@10 (the mean over seeds where there are several)."""
    on_short = short_winner(summary)
    best, best_value = SWEEP[0], -1.0
    for method, sampling in SWEEP:
        vals = [ndcg_of(summary, f"{method}|{on_short}|n1|{sampling}|s{s}") for s in SEEDS]
        vals = [v for v in vals if v is not None]
        if vals and np.mean(vals) > best_value:
            best, best_value = (method, sampling), float(np.mean(vals))
    return best


def plan(summary: dict, phases: list[str]) -> list[dict]:
    """Every run of the chosen phases, in priority order (choices that depend on earlier phases are resolved from
    the results so far)."""
    from st_hardneg.settings import SelectionSettings

    runs: list[dict] = []

    def ours(method, on_short, n, sampling, seed, phase, **extra):
        run_id = f"{method}|{on_short}|n{n}|{sampling}|s{seed}"
        settings = {"method": method, "on_short": on_short, "num_negatives": n, "sampling": sampling, "seed": 0}
        settings.update(extra)
        runs.append({"id": run_id, "phase": phase, "kind": "st-hardneg", "selection": settings, "seed": seed})

    if "short" in phases:
        for seed in SEEDS:
            for method in SHORT_METHODS:
                for variant in ON_SHORT:
                    ours(method, variant, 1, "top", seed, "short")
    winner = short_winner(summary)
    if "sweep" in phases:
        for method, sampling in SWEEP:
            ours(method, winner, 1, sampling, 0, "sweep")
    if "negatives" in phases:
        method, sampling = best_sweep_config(summary)
        for seed in SEEDS:
            for n in NEGATIVES:
                ours(method, winner, n, sampling, seed, "negatives")
    if "st" in phases:
        defaults = SelectionSettings(on_short=winner)
        spec = defaults.method.spec
        name, _, value = spec.partition(":")
        st_margin = {ST_METHOD_KWARGS[name]: round(1 - float(value), 6) if name == "topk-percpos" else float(value)}
        for seed in SEEDS:
            ours(spec, winner, defaults.num_negatives, defaults.sampling, seed, "st")
            runs.append({"id": f"st-default|s{seed}", "phase": "st", "kind": "st", "st_kwargs": {}, "seed": seed})
            runs.append(
                {
                    "id": f"st-{spec}|n{defaults.num_negatives}|s{seed}",
                    "phase": "st",
                    "kind": "st",
                    "st_kwargs": {
                        **st_margin,
                        "num_negatives": defaults.num_negatives,
                        "range_max": DEPTH,
                        "output_format": "n-tuple",
                    },
                    "seed": seed,
                }
            )
    seen, unique = set(), []
    for r in runs:
        if r["id"] not in seen:
            seen.add(r["id"])
            unique.append(r)
    return unique


# ------------------------------------------------------------------------------------------------ one run
def mine_ours(ctx: Context, run: dict) -> tuple:
    from st_hardneg.settings import SelectionSettings

    settings = SelectionSettings.from_dict(run["selection"])
    pool = ctx.pool
    searched_before = sum(len(tc.extension or ()) for tc in pool.teachers.values())
    sel = pool.select(settings, show_progress=False, return_statistics=True)
    if sum(len(tc.extension or ()) for tc in pool.teachers.values()) != searched_before:
        ctx.save_pool()
    sweep = pool.sweep(settings=settings, show_progress=False)  # ECI of this set before training
    s = sel.statistics
    mining = {
        "rows_out": s.rows_out,
        "rows_short": s.rows_short,
        "rows_deepened": s.rows_deepened,
        "negatives_deepened": s.negatives_deepened,
        "deepened_depths": s.deepened_depths,
        "rows_filled": s.rows_filled,
        "negatives_filled": s.negatives_filled,
        "rows_dropped": s.rows_dropped,
        "removed_by_method": s.removed_by_method,
        "mean_negative_score": s.negative_scores.mean if s.negative_scores else None,
        "mean_margin": s.margins.mean if s.margins else None,
    }
    eci = {k: sweep.rows[0][k] for k in ("negatives_per_query", "signal", "max_margin", "eci")}
    return sel.dataset, mining, eci, sel.settings.to_dict()


def st_cache_files(ctx: Context) -> None:
    """sentence-transformers' embedding cache, written from st-hardneg's (same model, same normalisation), so ST
    does not encode SciFact again."""
    import mining_speed as M

    teacher = ctx.teacher
    anchors, positives = list(ctx.pairs["anchor"]), list(ctx.pairs["positive"])
    st_corpus = list(dict.fromkeys(ctx.corpus + positives))
    st_queries = list(dict.fromkeys(anchors))
    name = teacher.model.model_card_data.base_model or ""
    qf = ST_CACHE / f"query_embeddings_{M._st_hash(name, None, None, st_queries)}.npy"
    cf = ST_CACHE / f"corpus_embeddings_{M._st_hash(name, None, None, st_corpus)}.npy"
    if qf.exists() and cf.exists():
        return
    ST_CACHE.mkdir(parents=True, exist_ok=True)
    pool_corpus, pool_queries = ctx.pool.corpus.to_pylist(), ctx.pool.query_texts
    emb_c = teacher.cached(pool_corpus, "document")
    emb_q = teacher.cached(pool_queries, "query")
    if emb_c is None or emb_q is None:
        raise SystemExit("the MiniLM embeddings of the pool are not in benchmarks/cache/emb")
    pos_c = {t: i for i, t in enumerate(pool_corpus)}
    pos_q = {t: i for i, t in enumerate(pool_queries)}
    np.save(cf, np.asarray(emb_c)[[pos_c[x] for x in st_corpus]])
    np.save(qf, np.asarray(emb_q)[[pos_q[x] for x in st_queries]])


def mine_st(ctx: Context, run: dict) -> tuple:
    import random

    import torch
    from sentence_transformers.util.hard_negatives import mine_hard_negatives

    st_cache_files(ctx)
    random.seed(0)
    torch.manual_seed(0)
    ds = mine_hard_negatives(
        ctx.pairs, ctx.teacher.model, corpus=ctx.corpus, cache_folder=str(ST_CACHE), verbose=False, **run["st_kwargs"]
    )
    mining = {"rows_out": len(ds), "rows_in": len(ctx.pairs), "columns": ds.column_names}
    return ds, mining, None, {"st_kwargs": run["st_kwargs"]}


def execute(ctx: Context, run: dict, args, summary: dict, perq: dict) -> None:
    Q.log(f"{run['id']}: start (load average {os.getloadavg()})")
    record = {"phase": run["phase"], "kind": run["kind"], "seed": run["seed"], "started": now()}
    record["loadavg_start"] = list(os.getloadavg())
    t = time.perf_counter()
    ds, record["mining"], record["eci_before_training"], record["configuration"] = (
        mine_ours(ctx, run) if run["kind"] == "st-hardneg" else mine_st(ctx, run)
    )
    record["mining_s"] = time.perf_counter() - t
    record["train_rows"] = len(ds)
    targs = argparse.Namespace(seed=run["seed"], batch_size=args.batch_size, max_seq_length=args.max_seq_length)
    model, record["train_s"], record["train_loss"] = Q.train(ds, targs, "short_rows")
    qids, ndcg, record["eval_s"] = Q.evaluate(model, ctx.beir, args.max_seq_length)
    record["ndcg@10"] = float(ndcg.mean())
    record["loadavg_end"] = list(os.getloadavg())
    record["finished"] = now()
    times = f"train {record['train_s']:.0f}s, eval {record['eval_s']:.0f}s"
    Q.log(f"{run['id']}: NDCG@10 {record['ndcg@10']:.4f} ({times})")
    perq[run["id"]] = {q: float(v) for q, v in zip(qids, ndcg)}
    PERQUERY.write_text(json.dumps(perq, indent=1))
    summary["runs"][run["id"]] = record
    SUMMARY.write_text(json.dumps(summary, indent=2))


def command_run(args) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    summary = read(SUMMARY, {})
    settings = protocol(args)
    fixed = {k: v for k, v in settings.items() if k != "torch_threads"}
    if summary.get("settings") and {k: v for k, v in summary["settings"].items() if k != "torch_threads"} != fixed:
        raise SystemExit(f"{SUMMARY} was made with other settings; move it away to start over")
    summary["settings"] = settings
    summary.setdefault("runs", {})
    perq = read(PERQUERY, {})
    ctx = Context()
    phases = args.phases.split(",")
    done = 0
    while True:
        pending = [r for r in plan(summary, phases) if r["id"] not in summary["runs"]]
        if not pending or (args.max_runs is not None and done >= args.max_runs):
            break
        execute(ctx, pending[0], args, summary, perq)
        done += 1
    Q.log(f"done ({done} runs this time)")


# ------------------------------------------------------------------------------------------------ speed
def command_speed(args) -> None:
    """Select and score 50 configurations from the SciFact pool (teacher scores; no encoding)."""
    ctx = Context()
    pool = ctx.pool
    methods = [
        "naive-topk",
        "topk-shifted:3",
        "topk-shifted:10",
        "topk-abs:0.6",
        "topk-abs:0.7",
        "topk-marginpos:0.02",
        "topk-marginpos:0.05",
        "topk-marginpos:0.1",
        "topk-percpos:0.9",
        "topk-percpos:0.95",
        "topk-percpos:0.99",
        "topk-percpos:0.8",
        "topk-marginpos:0.15",
    ]
    out: dict = {"started": now(), "loadavg_start": list(os.getloadavg()), "runs": []}
    for on_short in ("fill", "deepen"):
        t = time.perf_counter()
        sweep = pool.sweep(
            methods, [1, 2, 4, 8], ["top"], on_short=on_short, show_progress=False
        )  # 13 x 4 = 52 configurations
        total = time.perf_counter() - t
        out["runs"].append(
            {
                "on_short": on_short,
                "configurations": len(sweep),
                "wall_s": total,
                "sweep_seconds": sweep.seconds,
                "best": sweep.rows[0],
            }
        )
        Q.log(f"on_short={on_short}: {len(sweep)} configurations selected and scored in {total:.2f} s")
    out["loadavg_end"] = list(os.getloadavg())
    SPEED.write_text(json.dumps(out, indent=2))


# ------------------------------------------------------------------------------------------------ analysis
def spearman_with_interval(x, y, n_resamples: int = 10000) -> dict:
    from scipy.stats import bootstrap, spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    rho = float(spearmanr(x, y).statistic)
    res = bootstrap(
        (x, y),
        lambda a, b: spearmanr(a, b).statistic,
        paired=True,
        vectorized=False,
        n_resamples=n_resamples,
        method="percentile",
        random_state=np.random.default_rng(0),
    )
    ci = res.confidence_interval
    return {"rho": rho, "ci95": [float(ci.low), float(ci.high)], "n": len(x), "p": float(spearmanr(x, y).pvalue)}


def seed_mean(perq: dict, ids: list[str]) -> np.ndarray | None:
    if not ids or any(i not in perq for i in ids):
        return None
    qids = sorted(perq[ids[0]])
    return np.mean([[perq[i][q] for q in qids] for i in ids], axis=0)


def command_analyze(args) -> dict:
    summary, perq = read(SUMMARY, {"runs": {}}), read(PERQUERY, {})
    runs = summary["runs"]
    out: dict = {"generated": now(), "short": {}, "negatives": {}, "sweep": {}, "st": {}}

    def per_seed(ids):
        return {i.rsplit("|s", 1)[1]: runs[i]["ndcg@10"] for i in ids if i in runs}

    # short rows
    for method in (*SHORT_METHODS, "both"):
        methods = SHORT_METHODS if method == "both" else (method,)
        block: dict = {}
        avg = {}
        for variant in ON_SHORT:
            ids = [f"{m}|{variant}|n1|top|s{s}" for m in methods for s in SEEDS]
            vals = [runs[i]["ndcg@10"] for i in ids if i in runs]
            block[variant] = {
                "runs": len(vals),
                "mean": float(np.mean(vals)) if vals else None,
                "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else None,
                "per_seed": per_seed(ids) if method != "both" else None,
                "rows_out": sorted({runs[i]["mining"]["rows_out"] for i in ids if i in runs}),
            }
            avg[variant] = seed_mean(perq, ids)
        for a, b in (("deepen", "fill"), ("deepen", "drop"), ("fill", "drop")):
            if avg[a] is not None and avg[b] is not None:
                block[f"{a}_vs_{b}"] = Q.paired_tests(avg[a], avg[b])
        out["short"][method] = block
    out["short"]["winner"] = short_winner(summary)

    # number of negatives
    method, sampling = best_sweep_config(summary)
    winner = short_winner(summary)
    avg = {}
    for n in NEGATIVES:
        ids = [f"{method}|{winner}|n{n}|{sampling}|s{s}" for s in SEEDS]
        vals = [runs[i]["ndcg@10"] for i in ids if i in runs]
        out["negatives"][str(n)] = {
            "runs": len(vals),
            "mean": float(np.mean(vals)) if vals else None,
            "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else None,
            "per_seed": per_seed(ids),
            "train_s": [runs[i]["train_s"] for i in ids if i in runs],
        }
        avg[n] = seed_mean(perq, ids)
    for n in NEGATIVES[1:]:
        if avg[n] is not None and avg[1] is not None:
            out["negatives"][f"{n}_vs_1"] = Q.paired_tests(avg[n], avg[1])
    out["negatives"]["configuration"] = {"method": method, "sampling": sampling, "on_short": winner}

    # sweep: rank correlation of the pre-training scores with NDCG@10 after training (seed 0 runs)
    ids = [f"{m}|{winner}|n1|{s}|s0" for m, s in SWEEP]
    have = [i for i in ids if i in runs]
    table = [
        {"run": i, "ndcg@10": runs[i]["ndcg@10"], **runs[i]["eci_before_training"], **student_scores(runs, i)}
        for i in have
    ]
    out["sweep"]["configurations"] = table
    if len(table) >= 4:
        y = [r["ndcg@10"] for r in table]
        for key in ("eci", "signal", "max_margin", "student_eci", "student_signal", "student_max_margin"):
            if all(key in r for r in table):
                out["sweep"][f"spearman_{key}"] = spearman_with_interval([r[key] for r in table], y)
        best_trained = max(table, key=lambda r: r["ndcg@10"])
        out["sweep"]["best_trained"] = best_trained["run"]
        for key in ("eci", "signal", "max_margin"):
            pick = max(table, key=lambda r: r[key])
            entry = {"run": pick["run"], "ndcg@10": pick["ndcg@10"], "gap": pick["ndcg@10"] - best_trained["ndcg@10"]}
            if pick["run"] != best_trained["run"]:
                a = np.array([perq[pick["run"]][q] for q in sorted(perq[pick["run"]])])
                b = np.array([perq[best_trained["run"]][q] for q in sorted(perq[best_trained["run"]])])
                entry["vs_best_trained"] = Q.paired_tests(a, b)
            out["sweep"][f"picked_by_{key}"] = entry

    # the recommended pipeline vs sentence-transformers
    groups: dict[str, list[str]] = {}
    for i, r in runs.items():
        if r["kind"] == "st":
            groups.setdefault(i.rsplit("|s", 1)[0], []).append(i)
    from st_hardneg.settings import SelectionSettings

    defaults = SelectionSettings(on_short=winner)
    ours = f"{defaults.method.spec}|{winner}|n{defaults.num_negatives}|{defaults.sampling}"
    groups[ours] = [f"{ours}|s{s}" for s in SEEDS if f"{ours}|s{s}" in runs]
    avg = {}
    for name, ids in groups.items():
        vals = [runs[i]["ndcg@10"] for i in ids]
        out["st"][name] = {
            "runs": len(vals),
            "mean": float(np.mean(vals)) if vals else None,
            "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else None,
            "per_seed": per_seed(ids),
            "rows": sorted({runs[i]["train_rows"] for i in ids}),
        }
        avg[name] = seed_mean(perq, sorted(ids)) if len(ids) == len(SEEDS) else None
    for name in groups:
        if name != ours and avg.get(name) is not None and avg.get(ours) is not None:
            out["st"][f"recommended_vs_{name}"] = Q.paired_tests(avg[ours], avg[name])
    out["st"]["recommended"] = ours
    ANALYSIS.write_text(json.dumps(out, indent=2))
    return out


def student_scores(runs: dict, run_id: str) -> dict:
    r = runs[run_id].get("eci_student_before_training")
    return {} if not r else {f"student_{k}": v for k, v in r.items()}


def command_student_eci(args) -> None:
    """ECI of the sweep's sets under the student before training (all-MiniLM-L6-v2 at the training max_seq_length)."""
    from st_hardneg.settings import SelectionSettings
    from st_hardneg.teachers import load_sentence_transformer

    summary = read(SUMMARY, {"runs": {}})
    ctx = Context()
    winner = short_winner(summary)
    ids = [f"{m}|{winner}|n1|{s}|s0" for m, s in SWEEP]
    have = [i for i in ids if i in summary["runs"]]
    student = load_sentence_transformer(Q.MODEL)
    student.max_seq_length = args.max_seq_length
    settings = [SelectionSettings.from_dict(summary["runs"][i]["configuration"]) for i in have]
    t = time.perf_counter()
    rows = []
    for s in settings:  # one configuration at a time keeps the sweep's order irrelevant here
        rows.append(ctx.pool.sweep(settings=s, score=student, show_progress=False).rows[0])
    Q.log(f"student ECI of {len(have)} sets in {time.perf_counter() - t:.0f} s")
    for i, row in zip(have, rows, strict=True):
        summary["runs"][i]["eci_student_before_training"] = {
            k: row[k] for k in ("negatives_per_query", "signal", "max_margin", "eci")
        }
    SUMMARY.write_text(json.dumps(summary, indent=2))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("run", "speed", "analyze", "student-eci"))
    p.add_argument("--phases", default=",".join(PHASES))
    p.add_argument("--max-runs", type=int)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-seq-length", type=int, default=64)
    args = p.parse_args()
    if args.command == "run":
        command_run(args)
    elif args.command == "speed":
        command_speed(args)
    elif args.command == "student-eci":
        command_student_eci(args)
    else:
        print(json.dumps(command_analyze(args), indent=2))


if __name__ == "__main__":
    main()
