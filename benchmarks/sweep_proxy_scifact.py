"""Does a training-scored sweep (``pool.sweep(..., score="train")``) rank configurations the way full training does?
Issue 16, item 4's validation, on SciFact.

For each configuration below, full training was already done with the quality protocol of REPORT sections 7 and 8
(all-MiniLM-L6-v2 fine-tuned on all of SciFact train, MultipleNegativesRankingLoss, batch 16, NO_DUPLICATES, 1 epoch,
max_seq_length 64; NDCG@10 on SciFact **dev**; results/short_rows_scifact.json and results/defaults_evidence/). Here
the same configurations are scored by the short proxy a user runs on their own data, without a dev set:

    pool.sweep([method], num_negatives=[k], on_short="fill", output_format=..., score="train",
               student=all-MiniLM-L6-v2, steps=STEPS, holdout=0.2, seeds=(0,), train_batch_size=16,
               max_seq_length=64)

i.e. 20% of the **train** anchors held out (with their positives) as a dev set over the pool's corpus, a fresh
MiniLM fine-tuned for STEPS optimizer steps on each configuration's set without them, NDCG@10 on the held-out
anchors. ``S_n`` and ECI (Sinha et al. 2026, Eq. 10, the seed's version) come from the same sweep rows (the teacher's
scores held in the pool, before any training). ``analyze`` reports Spearman's rho of each figure against the full
training's dev NDCG@10 (seed 0, and the seed mean where three seeds exist), with a 95% bootstrap interval over
configurations, over all configurations and within the 2-negative n-tuples (where S_n and ECI are comparable).

Usage (from the repository root; resumable: each configuration's proxy score is cached under
benchmarks/cache/sweep_proxy and its row saved in benchmarks/results/sweep_proxy_scifact/):
    python benchmarks/sweep_proxy_scifact.py run --lane 0 --lanes 2 --threads 1 &   # two processes, one per core
    python benchmarks/sweep_proxy_scifact.py run --lane 1 --lanes 2 --threads 1 &
    python benchmarks/sweep_proxy_scifact.py analyze    # -> results/sweep_proxy_scifact.json and the tables

Needs the MiniLM SciFact pool in benchmarks/cache/pool_minilm (``python benchmarks/mining_speed.py --phase
dense_warm``, as section 8 says).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_scifact as Q  # noqa: E402
import short_rows_and_sweep_scifact as S  # noqa: E402  (spearman_with_interval)

OUT = Q.RESULTS / "sweep_proxy_scifact"  # one folder per budget: steps20/, steps100/
SUMMARY = Q.RESULTS / "sweep_proxy_scifact.json"
PROXY_CACHE = Q.CACHE / "sweep_proxy"
STEPS = 20
HOLDOUT = 0.2
N2 = (
    "naive-topk", "topk-percpos:0.95", "topk-shifted:30", "topk-abs:0.7", "topk-marginpos:0.1", "topk-shifted:10",
    "topk-percpos:0.99", "topk-shifted:3", "topk-abs:0.6", "topk-percpos:0.9", "topk-marginpos:0.05",
)  # fmt: skip


def configurations() -> list[dict]:
    """Every configuration with its full-training runs: (source file, run ids per seed)."""
    out = [
        {"name": f"{m} n2", "method": m, "k": 2, "format": "n-tuple", "full": ("short_rows", f"{m}|fill|n2|top|s{{}}")}
        for m in N2
    ]
    out += [
        {
            "name": f"topk-percpos:0.95 n{k}",
            "method": "topk-percpos:0.95",
            "k": k,
            "format": "n-tuple",
            "full": ("short_rows", f"topk-percpos:0.95|fill|n{k}|top|s{{}}"),
        }
        for k in (1, 4, 8)
    ]
    out += [
        {
            "name": "topk-percpos:0.95 n3",
            "method": "topk-percpos:0.95",
            "k": 3,
            "format": "n-tuple",
            "full": ("defaults_evidence", "percpos-k3-ntuple"),
        }
    ]
    out += [
        {
            "name": f"{m} n3 triplet",
            "method": m,
            "k": 3,
            "format": "triplet",
            "full": ("short_rows", f"{m}|fill|n3|top|s{{}}|triplet"),
        }
        for m in ("naive-topk", "topk-percpos:0.95")
    ]
    return out


def slug(name: str) -> str:
    return name.replace(":", "").replace(" ", "_")


def full_scores(conf: dict) -> dict:
    """``{seed: (dev NDCG@10, per-query)}`` of the configuration's full training runs."""
    source, pattern = conf["full"]
    out = {}
    if source == "short_rows":
        runs = Q.read_json(Q.RESULTS / "short_rows_scifact.json", {"runs": {}})["runs"]
        for seed in (0, 1, 2):
            if pattern.format(seed) in runs:
                out[seed] = runs[pattern.format(seed)]["ndcg@10"]
    else:
        for seed in (0, 1, 2):
            path = Q.RESULTS / "defaults_evidence" / "scifact" / f"{pattern}__s{seed}.json"
            if path.exists():
                out[seed] = json.loads(path.read_text())["run"]["ndcg@10"]
    return out


def command_run(args) -> None:
    import torch

    from st_hardneg import CandidatePool
    from st_hardneg.teachers import load_sentence_transformer

    torch.set_num_threads(args.threads)
    out = OUT / f"steps{args.steps}"
    out.mkdir(parents=True, exist_ok=True)
    todo = [c for i, c in enumerate(configurations()) if i % args.lanes == args.lane]
    todo = [c for c in todo if not (out / f"{slug(c['name'])}.json").exists()]
    Q.log(f"lane {args.lane}: {len(todo)} configurations to score: {[c['name'] for c in todo]}")
    if not todo:
        return
    pool = CandidatePool.load(Q.POOL)
    student = load_sentence_transformer(Q.MODEL)
    for conf in todo:
        t = time.perf_counter()
        load = os.getloadavg()[0]
        sweep = pool.sweep(
            [conf["method"]],
            num_negatives=[conf["k"]],
            sampling=["top"],
            on_short="fill",
            output_format=conf["format"],
            score="train",
            student=student,
            steps=args.steps,
            holdout=HOLDOUT,
            seeds=(0,),
            train_batch_size=16,
            max_seq_length=64,
            cache_folder=str(PROXY_CACHE),
            show_progress=False,
        )
        row = dict(sweep.rows[0])
        sweep.context.get("training", {}).get("settings", {}).pop("cache_folder", None)  # a path of this machine
        record = {
            "configuration": conf["name"],
            "format": conf["format"],
            "row": {k: (v if not isinstance(v, np.generic) else v.item()) for k, v in row.items()},
            "training": {k: v for k, v in sweep.context.get("training", {}).items() if k != "per_seed"},
            "cache": "benchmarks/cache/sweep_proxy",
            "seconds": time.perf_counter() - t,
            "loadavg_start": load,
            "loadavg_end": os.getloadavg()[0],
            "steps": args.steps,
            "finished": S.now(),
        }
        (out / f"{slug(conf['name'])}.json").write_text(json.dumps(record, indent=1, default=str))
        Q.log(
            f"{conf['name']}: proxy NDCG@10 {row['ndcg@10']:.4f}, S_n {row['signal']:.4f}, ECI {row['eci']:.4f} "
            f"({record['seconds']:.0f}s, load {load:.1f})"
        )


def budgets() -> list[int]:
    """The proxy budgets (steps) with saved results, ascending."""
    return sorted(int(p.name[5:]) for p in OUT.glob("steps*") if p.is_dir() and p.name[5:].isdigit())


def command_analyze(args) -> dict:
    table = []
    for conf in configurations():
        full = full_scores(conf)
        proxies = {}
        for steps in budgets():
            path = OUT / f"steps{steps}" / f"{slug(conf['name'])}.json"
            if path.exists():
                proxies[steps] = json.loads(path.read_text())
        if not proxies or 0 not in full:
            continue
        any_rec = next(iter(proxies.values()))
        table.append(
            {
                "configuration": conf["name"],
                "num_negatives": conf["k"],
                "format": conf["format"],
                **{f"proxy{steps}": rec["row"]["ndcg@10"] for steps, rec in proxies.items()},
                **{f"proxy{steps}_mrr@10": rec["row"]["mrr@10"] for steps, rec in proxies.items()},
                **{f"proxy{steps}_seconds": rec["seconds"] for steps, rec in proxies.items()},
                "signal": any_rec["row"]["signal"],
                "eci": any_rec["row"]["eci"],
                "full_seed0": full[0],
                "full_mean": float(np.mean(list(full.values()))) if len(full) == 3 else None,
                "full_seeds": sorted(full),
            }
        )
    out: dict = {"generated": S.now(), "budgets": budgets(), "holdout": HOLDOUT, "configurations": table}
    out["spearman"] = {}
    lines = []
    groups = {
        "all": lambda r: True,
        "n-tuples (1-8 negatives)": lambda r: r["format"] == "n-tuple",
        "2-negative n-tuples": lambda r: r["num_negatives"] == 2 and r["format"] == "n-tuple",
    }
    keys = [f"proxy{steps}" for steps in budgets()] + ["signal", "eci"]
    for group, keep in groups.items():
        for target in ("full_seed0", "full_mean"):
            for key in keys:
                rows = [r for r in table if keep(r) and key in r and r[target] is not None]
                if len(rows) < 3:
                    continue
                y = [r[target] for r in rows]
                res = S.spearman_with_interval([r[key] for r in rows], y)
                pick = max(rows, key=lambda r: r[key])
                res.update(
                    {
                        "configurations": [r["configuration"] for r in rows],
                        "picks": pick["configuration"],
                        "pick_minus_best": pick[target] - max(y),
                    }
                )
                out["spearman"][f"{group} | {target} | {key}"] = res
                ci = res["ci95"]
                lines.append(
                    f"| {group} | {target} | {key} | {len(rows)} | {res['rho']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}] | "
                    f"{res['p']:.4f} | {pick['configuration']} ({res['pick_minus_best']:+.4f}) |"
                )
    SUMMARY.write_text(json.dumps(out, indent=2))
    cols = [f"proxy {steps} steps" for steps in budgets()]
    print("| configuration | " + " | ".join(cols) + " | S_n | ECI | full NDCG@10 seed 0 | full mean (3 seeds) |")
    print("|---|" + "---:|" * (len(cols) + 4))
    for r in sorted(table, key=lambda r: -r["full_seed0"]):
        mean = f"{r['full_mean']:.4f}" if r["full_mean"] is not None else "-"
        proxies = " | ".join(f"{r[k]:.4f}" if k in r else "-" for k in keys[: len(cols)])
        print(
            f"| {r['configuration']} | {proxies} | {r['signal']:.4f} | {r['eci']:.4f} | {r['full_seed0']:.4f} | "
            f"{mean} |"
        )
    print("\n| configurations | against | ranked by | n | Spearman rho [95% CI] | p | top pick (its full - best) |")
    print("|---|---|---|---:|---|---:|---|")
    print("\n".join(lines))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("run", "analyze"))
    p.add_argument("--lane", type=int, default=0, help="this process scores configurations i with i %% lanes == lane")
    p.add_argument("--lanes", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=STEPS)
    args = p.parse_args()
    command_run(args) if args.command == "run" else command_analyze(args)


if __name__ == "__main__":
    main()
