"""Rows short of negatives, the number of negatives, and choosing a configuration before training, on SciFact.

The quality protocol is benchmarks/quality_scifact.py's (imported, not copied): all-MiniLM-L6-v2 fine-tuned on
SciFact train with MultipleNegativesRankingLoss (batch 16, NO_DUPLICATES, 1 epoch, lr 2e-5, 10% warmup), NDCG@10 on
SciFact dev (160 queries, the full 5,183-document corpus, exact cosine search), per-query paired tests (Wilcoxon,
paired bootstrap); max_seq_length 64 for training and evaluation, 2 hard negatives unless the comparison is about
their number -- the settings of quality_scifact.py's grid, so its runs that select exactly what this code selects
are reused instead of trained again (see ``import_earlier_grid``).

Why not 128 tokens and 1 negative: on the 2 shared cores (load average 11-15 while this ran) one run at 64 tokens
took ~37 minutes (28 of training, 10 of evaluation); at 128 tokens it had done 10 of 46 steps after 12 minutes.
Reusing the earlier grid (2 negatives, 64 tokens) saves ~3 hours. Torch runs 1 thread: under that load 256 texts
encoded in 37 s with 1 thread and in 60 s with 2.

Negatives come from one st-hardneg CandidatePool built with the MiniLM teacher (max_seq_length 256, depth 100,
seed 0) from the embedding cache in benchmarks/cache/emb (copied from /work/main/benchmarks/cache/emb, so SciFact is
not encoded again), kept in benchmarks/cache/pool_short_rows with the deeper candidates on_short="deepen" found.

Runs, in priority order (each trains once; resumable: results are written after every run, runs already in the
results are skipped):
  short          TopK-PercPos 95%, 2 negatives, seed 0: on_short deepen and drop (fill: the earlier grid)
  sweep          6 more configurations (2 negatives, fill, seed 0) next to the earlier grid's 5, for the rank
                 correlation of ECI / S_n / Max-Margin before training with NDCG@10 after
  short-seeds    the same as "short" with training seeds 1 and 2 (fill: the earlier grid's seed repeats)
  negatives      TopK-PercPos 95%, fill: 4 and 8 negatives (1: the first run of this script; 2: the grid)
  st             sentence-transformers' mine_hard_negatives defaults (triplets, 3 negatives), seed 0
  st-seeds       st-hardneg's defaults (4 negatives, the better of fill/deepen) vs ST's defaults and ST's
                 positive-aware n-tuples (relative_margin 0.05, range_max 100, 4 negatives), seeds 0-2
  margin         TopK-MarginPos 0.05, 2 negatives, seed 0: deepen and drop (fill: the grid)
  triplet        TopK-PercPos 95% and Naive Top-K as triplets with 3 negatives (sentence-transformers' default
                 layout), seed 0
  triplet-seeds  the same with training seeds 1 and 2
  margin-seeds   TopK-MarginPos 0.05, 2 negatives: fill, deepen and drop with training seeds 1 and 2
  negatives-seeds  8 negatives with training seeds 1 and 2 (4 negatives: st-seeds)

Usage (from the repository root):
    nohup python benchmarks/short_rows_and_sweep_scifact.py run > benchmarks/cache/short_rows.log 2>&1 &
    python benchmarks/short_rows_and_sweep_scifact.py speed        # 52 configurations selected and scored
    python benchmarks/short_rows_and_sweep_scifact.py st-check     # ST's positive-aware rows == on_short="drop"
    python benchmarks/short_rows_and_sweep_scifact.py analyze      # tests and correlations from saved results

Outputs (benchmarks/results/): short_rows_scifact.json (protocol; per run: configuration, mining statistics, ECI
before training, training loss/time, NDCG@10, load averages, or where an earlier run was reused),
short_rows_scifact_perquery.json (per-query NDCG@10 by run), short_rows_scifact_analysis.json, sweep_speed.json,
st_drop_equivalence.json.
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
ST_CHECK = RESULTS / "st_drop_equivalence.json"
DEPTH = 100
SEEDS = (0, 1, 2)
PHASES = (
    "short", "sweep", "short-seeds", "negatives", "st", "st-seeds", "margin", "triplet", "triplet-seeds",
    "margin-seeds", "negatives-seeds",
)  # fmt: skip
PERCPOS, MARGINPOS = "topk-percpos:0.95", "topk-marginpos:0.05"
ON_SHORT = ("fill", "deepen", "drop")
#: The earlier grid's runs (quality_scifact.py, 2 negatives, fill, top, select seed 0) and their ids here.
EARLIER = {
    "naive": "naive-topk",
    "percpos0.95": PERCPOS,
    "shifted10": "topk-shifted:10",
    "abs0.7": "topk-abs:0.7",
    "marginpos0.05": MARGINPOS,
}
#: Configurations trained here for the sweep (2 negatives, fill, top, seed 0), next to the earlier grid's 5.
SWEEP_NEW = (
    "topk-percpos:0.9",
    "topk-marginpos:0.1",
    "topk-shifted:3",
    "topk-shifted:30",
    "topk-abs:0.6",
    "topk-percpos:0.99",
)
SWEEP_ALL = tuple(EARLIER.values()) + SWEEP_NEW
NEGATIVES = (1, 2, 4, 8)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read(path: Path, default):
    return json.loads(path.read_text()) if path.exists() else default


def run_id(method: str, on_short: str, n: int, seed: int, sampling: str = "top") -> str:
    return f"{method}|{on_short}|n{n}|{sampling}|s{seed}"


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
def short_winner(summary: dict) -> str:
    """fill or deepen, whichever has the higher NDCG@10 over the three seeds of TopK-PercPos 95% (2 negatives);
    fill (the current default) until both have every seed."""
    means = {}
    for variant in ("fill", "deepen"):
        vals = [summary["runs"].get(run_id(PERCPOS, variant, 2, s), {}).get("ndcg@10") for s in SEEDS]
        if None in vals:
            return "fill"
        means[variant] = float(np.mean(vals))
    return "deepen" if means["deepen"] > means["fill"] else "fill"


def plan(phases: list[str], summary: dict | None = None) -> list[dict]:
    """Every run of the chosen phases, in priority order (the recommended pipeline's on_short is resolved from the
    short-row runs in ``summary``)."""
    runs: list[dict] = []
    winner = short_winner(summary or {"runs": {}})

    def ours(method, on_short, n, seed, phase):
        settings = {"method": method, "on_short": on_short, "num_negatives": n, "sampling": "top", "seed": 0}
        runs.append(
            {
                "id": run_id(method, on_short, n, seed),
                "phase": phase,
                "kind": "st-hardneg",
                "selection": settings,
                "seed": seed,
            }
        )

    for phase in phases:
        if phase == "short":
            for variant in ("deepen", "drop"):
                ours(PERCPOS, variant, 2, 0, phase)
        elif phase == "sweep":
            for method in SWEEP_NEW:
                ours(method, "fill", 2, 0, phase)
        elif phase == "short-seeds":
            for seed in SEEDS[1:]:
                for variant in ("deepen", "drop"):
                    ours(PERCPOS, variant, 2, seed, phase)
        elif phase == "negatives":
            for n in (4, 8):
                ours(PERCPOS, "fill", n, 0, phase)
        elif phase == "margin":
            for variant in ("deepen", "drop"):
                ours(MARGINPOS, variant, 2, 0, phase)
        elif phase == "margin-seeds":
            for seed in SEEDS[1:]:
                for variant in ON_SHORT:
                    ours(MARGINPOS, variant, 2, seed, phase)
        elif phase == "negatives-seeds":
            for seed in SEEDS[1:]:
                ours(PERCPOS, "fill", 8, seed, phase)  # 4 negatives, seeds 1-2: the st-seeds phase trains them
        elif phase == "st":
            runs.append({"id": "st-default|s0", "phase": phase, "kind": "st", "st_kwargs": {}, "seed": 0})
        elif phase == "st-seeds":
            # st-hardneg's defaults (TopK-PercPos 95%, 4 negatives, the better of fill/deepen) against
            # sentence-transformers' defaults and its positive-aware n-tuples (relative_margin 0.05 = PercPos 95%,
            # range_max 100 = the pool's depth, 4 negatives; short rows dropped), 3 seeds
            st_aware = {"relative_margin": 0.05, "num_negatives": 4, "range_max": DEPTH, "output_format": "n-tuple"}
            for seed in SEEDS:
                ours(PERCPOS, winner, 4, seed, phase)
                runs.append({"id": f"st-default|s{seed}", "phase": phase, "kind": "st", "st_kwargs": {}, "seed": seed})
                runs.append(
                    {
                        "id": f"st-relative_margin0.05|n4|s{seed}",
                        "phase": phase,
                        "kind": "st",
                        "st_kwargs": st_aware,
                        "seed": seed,
                    }
                )
        elif phase in ("triplet", "triplet-seeds"):
            # sentence-transformers' default layout: triplets, 3 negatives (three rows per pair, so three times the
            # training steps of an n-tuple): st-hardneg's recommended method in that layout, against st-default;
            # "triplet-seeds": the same sets trained with seeds 1 and 2
            for seed in (0,) if phase == "triplet" else SEEDS[1:]:
                for method in (PERCPOS, "naive-topk"):
                    settings = {
                        "method": method, "on_short": "fill", "num_negatives": 3, "sampling": "top", "seed": 0,
                        "output_format": "triplet",
                    }  # fmt: skip
                    runs.append(
                        {
                            "id": run_id(method, "fill", 3, seed) + "|triplet",
                            "phase": phase,
                            "kind": "st-hardneg",
                            "selection": settings,
                            "seed": seed,
                        }
                    )
    return runs


def import_earlier_grid(ctx: Context, summary: dict, perq: dict) -> None:
    """Reuse quality_scifact.py's runs (same protocol: 2 negatives, 64 tokens, fill, top, pool depth 100 seed 0,
    select seed 0). Each gets the ECI of the set this code selects for its configuration, and whether that set is
    the one that was trained (same mining statistics: naive, shifted and abs have no random documents and are the
    same; the positive-aware sets' fill documents come from another keyed draw, see ``same_negatives_as_trained``)."""
    from st_hardneg.settings import SelectionSettings

    for seed in SEEDS:
        name = "quality_scifact" if seed == 0 else f"quality_scifact_seed{seed}"
        earlier, earlier_perq = read(RESULTS / f"{name}.json", {}), read(RESULTS / f"{name}_perquery.json", {})
        for old, run in earlier.get("runs", {}).items():
            if old in ("base", "nohn"):
                new_id = "not-fine-tuned" if old == "base" else f"no-hard-negatives|s{seed}"
                kind, settings = old, None
            else:
                new_id, kind = run_id(EARLIER[old], "fill", 2, seed), "st-hardneg"
                settings = SelectionSettings(method=EARLIER[old], num_negatives=2, sampling="top", seed=0)
            if new_id in summary["runs"] or old not in earlier_perq:
                continue
            record = {
                "phase": "earlier grid",
                "kind": kind,
                "seed": seed,
                "imported_from": f"benchmarks/results/{name}.json run {old!r} (started {run.get('started')})",
                "ndcg@10": run["ndcg@10"],
                "train_s": run.get("train_s"),
                "eval_s": run.get("eval_s"),
                "train_rows": run.get("train_rows"),
                "mining": run.get("mining"),
                "loadavg_start": run.get("loadavg_start"),
            }
            if settings is not None:
                sel = ctx.pool.select(settings, show_progress=False, return_statistics=True)
                ctx.pool.keep_deepened(sel)
                row = ctx.pool.sweep(settings=settings, show_progress=False).rows[0]
                m, st = run["mining"], sel.statistics
                record["configuration"] = sel.settings.to_dict()
                record["eci_before_training"] = {
                    k: row[k] for k in ("negatives_per_query", "signal", "max_margin", "eci")
                }
                record["same_negatives_as_trained"] = bool(
                    m["rows_filled"] == st.rows_filled
                    and abs(m["mean_negative_score"] - st.negative_scores.mean) < 1e-6
                    and abs(m["mean_margin"] - st.margins.mean) < 1e-6
                )
            summary["runs"][new_id] = record
            perq[new_id] = earlier_perq[old]
    PERQUERY.write_text(json.dumps(perq, indent=1))
    SUMMARY.write_text(json.dumps(summary, indent=2))


# ------------------------------------------------------------------------------------------------ one run
def mine_ours(ctx: Context, run: dict) -> tuple:
    from st_hardneg.settings import SelectionSettings

    settings = SelectionSettings.from_dict(run["selection"])
    pool = ctx.pool
    searched_before = sum(len(tc.extension or ()) for tc in pool.teachers.values())
    sel = pool.select(settings, show_progress=False, return_statistics=True)
    pool.keep_deepened(sel)  # selecting does not change the pool: keep what on_short="deepen" found
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
    """sentence-transformers' embedding cache, written from st-hardneg's (mining_speed.write_st_cache), so ST does not
    encode SciFact again."""
    import mining_speed as M

    M.write_st_cache(ctx.teacher, ctx.pool, ctx.corpus, ctx.pairs["anchor"], ctx.pairs["positive"], ST_CACHE)


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
    import torch

    torch.set_num_threads(args.threads)
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
    import_earlier_grid(ctx, summary, perq)
    done = 0
    while args.max_runs is None or done < args.max_runs:
        pending = [r for r in plan(args.phases.split(","), summary) if r["id"] not in summary["runs"]]
        if not pending:
            break
        execute(ctx, pending[0], args, summary, perq)
        done += 1
    Q.log(f"done ({done} runs this time)")


# ------------------------------------------------------------------------------------------------ checks
def command_speed(args) -> None:
    """Select and score 52 configurations from the SciFact pool (teacher scores; no encoding), twice per on_short
    (the second time the deeper candidates are stored)."""
    ctx = Context()
    pool = ctx.pool
    methods = [
        "naive-topk",
        "topk-shifted:3",
        "topk-shifted:10",
        "topk-shifted:30",
        "topk-abs:0.6",
        "topk-abs:0.7",
        "topk-marginpos:0.02",
        "topk-marginpos:0.05",
        "topk-marginpos:0.1",
        "topk-percpos:0.8",
        "topk-percpos:0.9",
        "topk-percpos:0.95",
        "topk-percpos:0.99",
    ]
    out: dict = {"started": now(), "loadavg_start": list(os.getloadavg()), "runs": []}
    for on_short in ("fill", "drop", "deepen", "deepen"):
        t = time.perf_counter()
        sweep = pool.sweep(methods, [1, 2, 4, 8], ["top"], on_short=on_short, show_progress=False)
        total = time.perf_counter() - t
        out["runs"].append(
            {
                "on_short": on_short,
                "configurations": len(sweep),
                "wall_s": total,
                "rank_by": sweep.rank_by,
                "first": sweep.rows[0],
            }
        )
        Q.log(f"on_short={on_short}: {len(sweep)} configurations selected and scored in {total:.2f} s")
    out["loadavg_end"] = list(os.getloadavg())
    SPEED.write_text(json.dumps(out, indent=2))


def command_st_check(args) -> None:
    """sentence-transformers' positive-aware n-tuples (relative_margin / absolute_margin, range_max 100) against
    st-hardneg's on_short="drop" selections from the pool: the rows both output, and the negatives of each."""
    ctx = Context()
    out: dict = {"started": now(), "checks": []}

    def rows(ds):
        negs = [c for c in ds.column_names if c.startswith("negative")]
        return {(r["anchor"], r["positive"]): frozenset(r[c] for c in negs) for r in ds.to_list()}

    for method, kwargs in ((PERCPOS, {"relative_margin": 0.05}), (MARGINPOS, {"absolute_margin": 0.05})):
        for n in (1, 2, 4):
            st_kwargs = {**kwargs, "num_negatives": n, "range_max": DEPTH, "output_format": "n-tuple"}
            a = rows(mine_st(ctx, {"st_kwargs": st_kwargs})[0])
            for positive_score in ("row", "min"):
                ours = ctx.pool.select(
                    method, num_negatives=n, on_short="drop", positive_score=positive_score, seed=0, show_progress=False
                )
                b = rows(ours)
                both = set(a) & set(b)
                out["checks"].append(
                    {
                        "method": method,
                        "num_negatives": n,
                        "positive_score": positive_score,
                        "st_rows": len(a),
                        "st_hardneg_rows": len(b),
                        "rows_in_both": len(both),
                        "same_negatives_in_both": sum(a[k] == b[k] for k in both),
                        "only_st": len(set(a) - set(b)),
                        "only_st_hardneg": len(set(b) - set(a)),
                    }
                )
                Q.log(str(out["checks"][-1]))
    ST_CHECK.write_text(json.dumps(out, indent=2))


# ------------------------------------------------------------------------------------------------ analysis
def spearman_with_interval(x, y, n_resamples: int = 10000) -> dict:
    """Spearman's rho (scipy) with a 95% percentile bootstrap interval over configurations (resampled in pairs, seed
    0). Resamples where rho is undefined (every x or every y equal) are left out and counted."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    result = spearmanr(x, y)
    rng = np.random.default_rng(0)
    rhos = []
    for idx in rng.integers(0, len(x), size=(n_resamples, len(x))):
        if np.ptp(x[idx]) > 0 and np.ptp(y[idx]) > 0:
            rhos.append(spearmanr(x[idx], y[idx]).statistic)
    rhos = np.asarray(rhos, dtype=float)
    return {
        "rho": float(result.statistic),
        "p": float(result.pvalue),
        "ci95": [float(np.percentile(rhos, 2.5)), float(np.percentile(rhos, 97.5))],
        "n": len(x),
        "resamples_used": int(len(rhos)),
    }


def seed_mean(perq: dict, ids: list[str]) -> np.ndarray | None:
    if not ids or any(i not in perq for i in ids):
        return None
    qids = sorted(perq[ids[0]])
    return np.mean([[perq[i][q] for q in qids] for i in ids], axis=0)


def summarize(runs: dict, perq: dict, ids: list[str]) -> dict:
    have = [i for i in ids if i in runs]
    vals = [runs[i]["ndcg@10"] for i in have]
    return {
        "runs": have,
        "ndcg@10": vals,
        "mean": float(np.mean(vals)) if vals else None,
        "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else None,
        "train_rows": [runs[i].get("train_rows") for i in have],
    }


def command_analyze(args) -> dict:
    summary, perq = read(SUMMARY, {"runs": {}}), read(PERQUERY, {})
    runs = summary["runs"]
    out: dict = {"generated": now(), "short": {}, "negatives": {}, "sweep": {}, "st": {}}

    # rows short of negatives: fill vs deepen vs drop, per method, over the seeds every variant has
    for method in (PERCPOS, MARGINPOS):
        block: dict = {}
        seeds = [s for s in SEEDS if all(run_id(method, v, 2, s) in runs for v in ON_SHORT)]
        block["seeds_with_every_variant"] = seeds
        avg = {}
        for variant in ON_SHORT:
            block[variant] = summarize(runs, perq, [run_id(method, variant, 2, s) for s in SEEDS])
            block[variant]["mining"] = [runs[i].get("mining") for i in block[variant]["runs"]][:1]
            avg[variant] = seed_mean(perq, [run_id(method, variant, 2, s) for s in seeds])
        for a, b in (("deepen", "fill"), ("deepen", "drop"), ("fill", "drop")):
            if seeds:
                block[f"{a}_vs_{b}"] = Q.paired_tests(avg[a], avg[b])
        out["short"][method] = block

    # number of negatives (TopK-PercPos 95%, fill)
    avg = {}
    for n in NEGATIVES:
        out["negatives"][str(n)] = summarize(runs, perq, [run_id(PERCPOS, "fill", n, s) for s in SEEDS])
        i = run_id(PERCPOS, "fill", n, 0)
        avg[n] = seed_mean(perq, [i]) if i in runs else None
        if i in runs:
            out["negatives"][str(n)]["train_s_seed0"] = runs[i].get("train_s")
    for n in NEGATIVES:
        if n != 2 and avg[n] is not None and avg[2] is not None:
            out["negatives"][f"{n}_vs_2_seed0"] = Q.paired_tests(avg[n], avg[2])
        # over every seed both have (seed-averaged per query)
        both = [s for s in SEEDS if all(run_id(PERCPOS, "fill", m, s) in runs for m in (n, 2))]
        if n != 2 and both:
            out["negatives"][f"{n}_vs_2"] = {
                "seeds": both,
                **Q.paired_tests(
                    seed_mean(perq, [run_id(PERCPOS, "fill", n, s) for s in both]),
                    seed_mean(perq, [run_id(PERCPOS, "fill", 2, s) for s in both]),
                ),
            }

    # the sweep: rank correlation of the pre-training figures with NDCG@10 after training (seed 0)
    table = []
    for method in SWEEP_ALL:
        i = run_id(method, "fill", 2, 0)
        if i in runs and runs[i].get("eci_before_training"):
            r = runs[i]
            table.append(
                {
                    "run": i,
                    "ndcg@10": r["ndcg@10"],
                    "same_negatives_as_trained": r.get("same_negatives_as_trained", True),
                    **r["eci_before_training"],
                    **{f"student_{k}": v for k, v in (r.get("eci_student_before_training") or {}).items()},
                }
            )
    out["sweep"]["configurations"] = table
    if len(table) >= 4:
        y = [r["ndcg@10"] for r in table]
        for key in ("eci", "signal", "max_margin", "student_eci", "student_signal", "student_max_margin"):
            if all(key in r for r in table):
                out["sweep"][f"spearman_{key}"] = spearman_with_interval([r[key] for r in table], y)
        best = max(table, key=lambda r: r["ndcg@10"])
        out["sweep"]["best_trained"] = {"run": best["run"], "ndcg@10": best["ndcg@10"]}
        for key in ("eci", "signal", "max_margin"):
            pick = max(table, key=lambda r: r[key])
            entry = {"run": pick["run"], "ndcg@10": pick["ndcg@10"], "gap": pick["ndcg@10"] - best["ndcg@10"]}
            if pick["run"] != best["run"]:
                entry["vs_best_trained"] = Q.paired_tests(
                    seed_mean(perq, [pick["run"]]), seed_mean(perq, [best["run"]])
                )
            out["sweep"][f"picked_by_{key}"] = entry

    # sentence-transformers' defaults and positive-aware n-tuples against st-hardneg's defaults, over the seeds
    winner = short_winner(summary)
    groups = {
        f"st-hardneg defaults (TopK-PercPos 95%, 4 negatives, on_short={winner})": [
            run_id(PERCPOS, winner, 4, s) for s in SEEDS
        ],
        "sentence-transformers defaults (triplets, 3 negatives, range_max 3 + max positives)": [
            f"st-default|s{s}" for s in SEEDS
        ],
        "sentence-transformers relative_margin=0.05, range_max=100, 4 negatives, n-tuple (short rows dropped)": [
            f"st-relative_margin0.05|n4|s{s}" for s in SEEDS
        ],
        "no hard negatives (earlier grid)": [f"no-hard-negatives|s{s}" for s in SEEDS],
    }
    out["st"]["short_rows_winner"] = winner
    for name, ids in groups.items():
        out["st"][name] = summarize(runs, perq, ids)
    ours = list(groups)[0]
    for name in list(groups)[1:3]:
        seeds = [s for s in SEEDS if groups[ours][s] in runs and groups[name][s] in runs]
        if seeds:
            out["st"][f"defaults_vs_{name.split(' ')[0]}_{name.split(' ')[1]} (seeds {seeds})"] = Q.paired_tests(
                seed_mean(perq, [groups[ours][s] for s in seeds]), seed_mean(perq, [groups[name][s] for s in seeds])
            )
    ANALYSIS.write_text(json.dumps(out, indent=2))
    return out


def command_tables(args) -> None:
    """The Markdown tables of benchmarks/REPORT.md section 7, from the saved results and analysis."""
    summary, analysis = read(SUMMARY, {"runs": {}}), command_analyze(args)
    runs = summary["runs"]

    def fmt_test(t: dict | None) -> str:
        if not t:
            return "-"
        boot = "<0.0001" if t["bootstrap_p"] == 0 else f"{t['bootstrap_p']:.4f}"
        return f"{t['mean_diff']:+.4f}, p={t['wilcoxon_p']:.4f}, p={boot}"

    def seeds_cells(ids: list[str]) -> list[str]:
        return [f"{runs[i]['ndcg@10']:.4f}" if i in runs else "not run" for i in ids]

    print("Short rows (TopK-PercPos 95% / TopK-MarginPos 0.05, 2 negatives):\n")
    print("| method | on_short | rows trained (deepened / filled / dropped) | seed 0 | seed 1 | seed 2 | mean (std) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for method in (PERCPOS, MARGINPOS):
        for variant in ON_SHORT:
            ids = [run_id(method, variant, 2, s) for s in SEEDS]
            have = [i for i in ids if i in runs]
            if not have:
                continue
            m = runs[have[0]].get("mining") or {}
            rows = f"{runs[have[0]].get('train_rows')} ({m.get('rows_deepened', 0)} / {m.get('rows_filled', 0)} / "
            rows += f"{m.get('rows_dropped', 0)})"
            block = analysis["short"][method][variant]
            std = f" ({block['std']:.4f})" if block["std"] is not None else ""
            print(f"| {method} | {variant} | {rows} | {' | '.join(seeds_cells(ids))} | {block['mean']:.4f}{std} |")
    for method in (PERCPOS, MARGINPOS):
        block = analysis["short"][method]
        for key in ("deepen_vs_fill", "deepen_vs_drop", "fill_vs_drop"):
            if key in block:
                print(f"\n{method} {key} (seeds {block['seeds_with_every_variant']}): {fmt_test(block[key])}", end="")
    print("\n\nSweep (2 negatives, fill, seed 0), pre-training figures from the teacher's scores:\n")
    print("| configuration | ECI | S_n | Max-Margin | NDCG@10 | trained set = this code's selection |")
    print("|---|---:|---:|---:|---:|---|")
    for r in sorted(analysis["sweep"]["configurations"], key=lambda r: -r["ndcg@10"]):
        same = "yes" if r["same_negatives_as_trained"] else "no (other random fill documents)"
        print(
            f"| {r['run'].split('|')[0]} | {r['eci']:.4f} | {r['signal']:.4f} | {r['max_margin']:.4f} | "
            f"{r['ndcg@10']:.4f} | {same} |"
        )
    for key in ("eci", "signal", "max_margin", "student_eci", "student_signal", "student_max_margin"):
        c = analysis["sweep"].get(f"spearman_{key}")
        if c:
            interval = f"95% CI {c['ci95'][0]:+.3f} to {c['ci95'][1]:+.3f}"
            print(f"\nSpearman {key}: rho={c['rho']:+.3f} ({interval}, p={c['p']:.4f}, n={c['n']})", end="")
    for key in ("eci", "signal", "max_margin"):
        pick = analysis["sweep"].get(f"picked_by_{key}")
        if pick:
            print(
                f"\npicked by {key}: {pick['run']} NDCG@10 {pick['ndcg@10']:.4f} (gap {pick['gap']:+.4f}; vs best "
                f"trained: {fmt_test(pick.get('vs_best_trained'))})",
                end="",
            )
    print("\n\nNumber of negatives (TopK-PercPos 95%, fill):\n")
    print("| negatives | runs | NDCG@10 per run (seed 0 first) | mean | vs 2 negatives (seed-averaged, common seeds) |")
    print("|---:|---:|---|---:|---|")
    for n in NEGATIVES:
        b = analysis["negatives"][str(n)]
        if not b["runs"]:
            print(f"| {n} | 0 | not run | - | - |")
            continue
        vals = ", ".join(f"{v:.4f}" for v in b["ndcg@10"])
        paired = analysis["negatives"].get(f"{n}_vs_2")
        test = f"{fmt_test(paired)} (seeds {paired['seeds']})" if paired else "-"
        print(f"| {n} | {len(b['runs'])} | {vals} | {b['mean']:.4f} | {test} |")
    print("\nsentence-transformers and the defaults:\n")
    for name, b in analysis["st"].items():
        if not isinstance(b, dict):
            print(f"- {name}: {b}")
        elif "runs" in b:
            vals = ", ".join(f"{v:.4f}" for v in b["ndcg@10"]) or "not run"
            print(f"- {name}: {vals}" + (f" (mean {b['mean']:.4f})" if b["mean"] is not None else ""))
        else:
            print(f"- {name}: {fmt_test(b)}")
    perq = read(PERQUERY, {})
    st_ids = [f"st-default|s{s}" for s in SEEDS]
    print("\nThe triplet layout (3 negatives) against sentence-transformers' defaults (paired over common seeds):\n")
    print("| training set | seed 0 | seed 1 | seed 2 | mean | vs st-default |")
    print("|---|---:|---:|---:|---:|---|")
    for method in (PERCPOS, "naive-topk"):
        ids = [run_id(method, "fill", 3, s) + "|triplet" for s in SEEDS]
        if not any(i in runs for i in ids):
            continue
        seeds = [s for s in SEEDS if ids[s] in runs and st_ids[s] in runs]
        test = (
            Q.paired_tests(seed_mean(perq, [ids[s] for s in seeds]), seed_mean(perq, [st_ids[s] for s in seeds]))
            if seeds
            else None
        )
        mean = np.mean([runs[i]["ndcg@10"] for i in ids if i in runs])
        print(f"| {method} | {' | '.join(seeds_cells(ids))} | {mean:.4f} | {fmt_test(test)} (seeds {seeds}) |")


def command_student_eci(args) -> None:
    """ECI of the sweep's sets under the student before training (all-MiniLM-L6-v2 at the training max_seq_length)."""
    from st_hardneg.settings import SelectionSettings
    from st_hardneg.teachers import load_sentence_transformer

    summary = read(SUMMARY, {"runs": {}})
    ctx = Context()
    have = [run_id(m, "fill", 2, 0) for m in SWEEP_ALL if run_id(m, "fill", 2, 0) in summary["runs"]]
    student = load_sentence_transformer(Q.MODEL)
    student.max_seq_length = args.max_seq_length
    settings = [SelectionSettings.from_dict(summary["runs"][i]["configuration"]) for i in have]
    t = time.perf_counter()
    for i, s in zip(have, settings, strict=True):
        row = ctx.pool.sweep(settings=s, score=student, show_progress=False).rows[0]
        summary["runs"][i]["eci_student_before_training"] = {
            k: row[k] for k in ("negatives_per_query", "signal", "max_margin", "eci")
        }
    Q.log(f"student ECI of {len(have)} sets in {time.perf_counter() - t:.0f} s")
    SUMMARY.write_text(json.dumps(summary, indent=2))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("run", "speed", "st-check", "analyze", "tables", "student-eci"))
    p.add_argument("--phases", default=",".join(PHASES))
    p.add_argument("--max-runs", type=int)
    p.add_argument("--threads", type=int, default=1, help="torch threads for training and evaluation")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-seq-length", type=int, default=64)
    args = p.parse_args()
    commands = {
        "run": command_run,
        "speed": command_speed,
        "st-check": command_st_check,
        "student-eci": command_student_eci,
        "tables": command_tables,
    }
    if args.command == "analyze":
        print(json.dumps(command_analyze(args), indent=2))
    else:
        commands[args.command](args)


if __name__ == "__main__":
    main()
