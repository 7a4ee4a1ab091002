"""NV-Retriever Tables 1-2 and the ECI paper's hybrid sets in miniature: fine-tune all-MiniLM-L6-v2 on SciFact train
with negatives from single teachers (all-MiniLM-L6-v2, all-mpnet-base-v2, BM25) and from their ensembles, evaluate
NDCG@10 on SciFact dev, with per-query paired tests and each training set's ECI.

Usage (from the repository root; resumable, results are written after every run):
    python benchmarks/ensembles_scifact.py                     # the whole grid, in priority order
    python benchmarks/ensembles_scifact.py --only minilm,bm25  # a subset
    python benchmarks/ensembles_scifact.py --teachers minilm,bm25  # without mpnet (a pool of two teachers)
    python benchmarks/ensembles_scifact.py --table             # the Markdown tables of the saved results
    python benchmarks/ensembles_scifact.py --analyze           # recompute the paired tests

Protocol: that of benchmarks/quality_scifact.py (its ``train``, ``evaluate`` and ``paired_tests`` are imported):
MultipleNegativesRankingLoss, batch 16 (NO_DUPLICATES), 1 epoch, lr 2e-5, 10% warmup, training seed 0,
``--max-seq-length`` for training and evaluation, SciFact dev (160 queries) against the full 5,183-document corpus.

Mining: one CandidatePool with every teacher (depth 100, pool seed 0); each run is one ``pool.select`` with the
library's defaults (TopK-PercPos 95%, "top", n-tuple, short rows filled) and ``--num-negatives`` negatives per
teacher, single teacher or ``ensemble=...`` over the teachers in the order mpnet, minilm, bm25 (best first by
expectation: the order decides who fills short rows). Teachers: all-MiniLM-L6-v2 at its max_seq_length 256 (the
embeddings cached by benchmarks/mining_speed.py are copied, not re-encoded), all-mpnet-base-v2 at max_seq_length
128 (encoded once by benchmarks/encode_scifact.py), BM25 (bm25s defaults).

ECI: ``compute_eci`` on each training set with the scores stored by ``output_scores=True, score_teachers=["minilm"]``
(every pair scored by the all-MiniLM-L6-v2 teacher, pairs outside its pool scored from its cached embeddings), so
every set is measured on one scale, as the ECI paper's Table 3 scores every set with all-MiniLM-L6-v2.
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
import quality_scifact as Q  # noqa: E402  (the protocol's pieces)

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / "cache"
EMB = CACHE / "emb"
MAIN_EMB = Path("/work/main/benchmarks/cache/emb")  # MiniLM SciFact embeddings cached by mining_speed.py
RESULTS = ROOT / "benchmarks" / "results"
SUMMARY = RESULTS / "ensembles_scifact.json"
PERQUERY = RESULTS / "ensembles_scifact_perquery.json"
RUN_FILES = RESULTS / "ensembles"  # one file per run (several processes may train at once); --analyze merges them
MPNET = Path("/work/models/all-mpnet-base-v2")
TEACHER_ORDER = ("mpnet", "minilm", "bm25")

# name -> (teacher or None for all the pool's teachers, ensemble, negatives per teacher or None for --num-negatives).
# Priority order. Intra-sample needs as many negatives as teachers (with one, only the first teacher would speak).
RUNS = {
    "minilm": ("minilm", None, None),
    "bm25": ("bm25", None, None),
    "mpnet": ("mpnet", None, None),
    "concat": (None, "concat", None),
    "cross_sample": (None, "cross_sample", None),
    "rrf": (None, "rrf", None),
    "mean_score": (None, "mean_score", None),
    "mpnet_k3": ("mpnet", None, 3),
    "intra_sample_k3": (None, "intra_sample", 3),
    "intra_sample_dedup_k3": (None, "intra_sample_dedup", 3),
}
SINGLE = ("minilm", "mpnet", "bm25")
#: Runs every other run is tested against: the single teachers, and the single best-expected teacher with as many
#: negatives per row as the three-teacher ensembles (3).
REFERENCES = (*SINGLE, "mpnet_k3")


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def teachers(names: list[str]):
    from st_hardneg.teachers import BM25Teacher, DenseTeacher, load_sentence_transformer

    out = []
    for name in names:
        if name == "bm25":
            out.append(BM25Teacher())
        elif name == "minilm":
            out.append(DenseTeacher(load_sentence_transformer(Q.MODEL), cache_folder=EMB, name="minilm"))
        elif name == "mpnet":
            model = load_sentence_transformer(str(MPNET), device="cpu")
            model.max_seq_length = 128  # as encoded by encode_scifact.py (the cache key does not record it)
            out.append(DenseTeacher(model, cache_folder=EMB, name="mpnet"))
        else:
            raise SystemExit(f"unknown teacher {name}")
    return out


def get_pool(pairs, corpus, names: list[str]):
    from st_hardneg import CandidatePool
    from st_hardneg.pool.inputs import build_layout, read_corpus, read_pairs

    path = CACHE / f"pool_{'+'.join(names)}"
    built = teachers(names)
    # Embeddings come from caches only: MiniLM's from mining_speed.py (copied), mpnet's from encode_scifact.py.
    _, _, anchors, positives = read_pairs(pairs)
    layout = build_layout(anchors, positives, read_corpus(corpus))
    for t in built:
        if t.name in ("minilm", "mpnet"):
            for role, texts in (("query", list(layout.queries)), ("document", list(layout.corpus))):
                key = t.cache_key(texts, role)
                if not (EMB / f"{key}.npy").exists():
                    if t.name == "minilm" and (MAIN_EMB / f"{key}.npy").exists():
                        EMB.mkdir(parents=True, exist_ok=True)
                        shutil.copy(MAIN_EMB / f"{key}.npy", EMB / f"{key}.npy")
                    else:
                        raise SystemExit(f"{t.name} {role} embeddings not cached ({key}); run encode_scifact.py")
    if path.exists():
        log(f"loading pool {path}")
        return CandidatePool.load(path, dataset=pairs, corpus=corpus, teachers=built)
    log(f"building the pool of {names} (depth 100, seed 0) from cached embeddings")
    pool = CandidatePool.build(pairs, built, corpus=corpus, depth=100, seed=0, show_progress=False)
    pool.save(path)
    return pool


def select(pool, name: str, names: list[str], num_negatives: int):
    teacher, ensemble, k = RUNS[name]
    kw = dict(
        num_negatives=k or num_negatives,
        sampling="top",
        seed=0,
        output_scores=True,
        score_teachers=["minilm"],
        output_teachers=True,
        show_progress=False,
        return_statistics=True,
    )
    if ensemble is None:
        return pool.select(teacher=teacher, **kw)
    return pool.select(teacher=[n for n in TEACHER_ORDER if n in names], ensemble=ensemble, **kw)


#: training seeds of the seed repeats (``--seed 1``, ``--seed 2``); seed 0 is the grid itself
SEEDS = (0, 1, 2)
#: the comparisons repeated over seeds: (run, reference)
SEED_COMPARISONS = (
    ("minilm", "mpnet"),
    ("intra_sample_dedup_k3", "mpnet_k3"),
    ("intra_sample_k3", "mpnet_k3"),
    ("concat", "mpnet_k3"),
    ("intra_sample_dedup_k3", "mpnet"),
    ("bm25", "minilm"),
    ("cross_sample", "minilm"),
    ("rrf", "minilm"),
    ("mean_score", "minilm"),
)


def seeded(name: str, seed: int) -> str:
    """A run's key: its name for training seed 0 (the grid), ``name_s<seed>`` for the seed repeats."""
    return name if seed == 0 else f"{name}_s{seed}"


def seeds_table(runs: dict, perq: dict) -> str:
    """NDCG@10 per training seed of the runs repeated over seeds, and the comparisons of SEED_COMPARISONS paired
    over the dev queries (per-query NDCG@10 averaged over the seeds both runs have)."""
    names = [n for n in RUNS if any(seeded(n, s) in runs for s in SEEDS[1:])]
    if not names:
        return ""
    lines = ["| run | seed 0 | seed 1 | seed 2 | mean |", "|---|---:|---:|---:|---:|"]
    for n in names:
        have = [runs[seeded(n, s)]["ndcg@10"] for s in SEEDS if seeded(n, s) in runs]
        cells = " | ".join(f"{runs[seeded(n, s)]['ndcg@10']:.4f}" if seeded(n, s) in runs else "not run" for s in SEEDS)
        lines.append(f"| {runs[n]['label'] if n in runs else n} | {cells} | {np.mean(have):.4f} |")
    lines.append("")
    for a, b in SEED_COMPARISONS:
        common = [s for s in SEEDS if seeded(a, s) in perq and seeded(b, s) in perq]
        if len(common) < 2:
            continue
        qids = sorted(perq[a])
        a_mean, b_mean = (np.mean([[perq[seeded(n, s)][q] for q in qids] for s in common], axis=0) for n in (a, b))
        t = Q.paired_tests(a_mean, b_mean)
        boot = "<0.0001" if t["bootstrap_p"] == 0 else f"{t['bootstrap_p']:.4f}"
        lines.append(f"- {a} vs {b} (seeds {common}): {t['mean_diff']:+.4f}, p={t['wilcoxon_p']:.4f}, p={boot}")
    return "\n".join(lines) + "\n"


def collect() -> tuple[dict, dict, dict]:
    """Every finished run (per-run files, and runs recorded in the summary itself), its per-query NDCG@10, and
    the training-free selections (ECI only)."""
    summary = Q.read_json(SUMMARY, {})
    runs, perq = dict(summary.get("runs", {})), dict(Q.read_json(PERQUERY, {}))
    eci_only = {}
    for path in sorted(RUN_FILES.glob("*.json")) if RUN_FILES.exists() else []:
        data = json.loads(path.read_text())
        if path.name.startswith("eci_"):
            eci_only[path.stem[4:]] = data
        elif path.name != "agreement.json":
            runs[path.stem], perq[path.stem] = data["run"], data["perquery"]
    return runs, perq, eci_only


def analyze() -> dict:
    summary = Q.read_json(SUMMARY, {})
    runs, perq, eci_only = collect()
    tests = {}
    for ref in REFERENCES:
        if ref not in perq:
            continue
        qids = sorted(perq[ref])
        b = np.array([perq[ref][q] for q in qids])
        for name in perq:
            if name != ref:
                tests[f"{name}_vs_{ref}"] = Q.paired_tests(np.array([perq[name][q] for q in qids]), b)
    summary.update(runs=runs, tests=tests, eci_only=eci_only)
    if (RUN_FILES / "agreement.json").exists():
        summary["agreement"] = json.loads((RUN_FILES / "agreement.json").read_text())
    SUMMARY.write_text(json.dumps(summary, indent=2))
    PERQUERY.write_text(json.dumps(perq, indent=1))
    return summary


def table() -> str:
    summary = analyze()
    runs, tests = summary.get("runs", {}), summary.get("tests", {})
    refs = [r for r in REFERENCES if r in runs]
    head = "| run | negatives / row | rows filled | ECI (|N|, S_n, margin) | NDCG@10 | " + " | ".join(
        f"vs {runs[r]['label']}: diff, Wilcoxon p, bootstrap p" for r in refs
    )
    lines = [head + " |", "|---|---:|---:|---|---:|" + "---|" * len(refs)]
    for name in RUNS:
        if name not in runs:
            continue
        r = runs[name]
        m, e = r.get("mining", {}), r.get("eci", {})
        eci = f"{e['eci']:.3f} ({e['num_negatives']:.2f}, {e['signal']:.3f}, {e['max_margin']:.3f})" if e else "-"
        cells = []
        for ref in refs:
            t = tests.get(f"{name}_vs_{ref}")
            boot = "" if t is None else ("<0.0001" if t["bootstrap_p"] == 0 else f"{t['bootstrap_p']:.3f}")
            cells.append("-" if t is None else f"{t['mean_diff']:+.4f}, {t['wilcoxon_p']:.3f}, {boot}")
        width = m.get("negatives_per_row", "-")
        lines.append(
            f"| {r['label']} | {width} | {m.get('rows_filled', '-')} | {eci} | {r['ndcg@10']:.4f} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", "| selection (not trained) | negatives / row | rows filled | negatives per teacher (shared) | ECI | "
              "|N| | S_n | Max-Margin | violation rate |", "|---|---:|---:|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, data in {**{n: r for n, r in runs.items() if n in RUNS}, **summary.get("eci_only", {})}.items():
        m, e = data.get("mining", {}), data.get("eci", {})
        if not e:
            continue
        per = ", ".join(f"{k} {v}" for k, v in m.get("negatives_per_teacher", {}).items())
        lines.append(
            f"| {data.get('label', name)} | {m.get('negatives_per_row')} | {m.get('rows_filled')} | {per} "
            f"({m.get('negatives_shared', 0)}) | {e['eci']:.3f} | {e['num_negatives']:.2f} | {e['signal']:.3f} | "
            f"{e['max_margin']:.3f} | {e['violation_rate']:.3f} |"
        )
    trained = [n for n in runs if n in RUNS and runs[n].get("eci")]
    if len(trained) >= 3:
        from scipy.stats import spearmanr

        ndcg = [runs[n]["ndcg@10"] for n in trained]
        rhos = []
        for key, label in (("eci", "ECI"), ("signal", "S_n"), ("max_margin", "Max-Margin")):
            fit = spearmanr([runs[n]["eci"][key] for n in trained], ndcg)
            rhos.append(f"{label} {fit.statistic:+.3f} (p={fit.pvalue:.3f})")
        lines += ["", f"Spearman rho with NDCG@10 over the {len(trained)} trained sets: " + ", ".join(rhos) + "."]
    repeats = seeds_table(runs, Q.read_json(PERQUERY, {}))
    if repeats:
        lines += ["", "Seed repeats (training seeds 0-2; seed 0 is the grid above):", "", repeats]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--only", default=",".join(RUNS))
    p.add_argument("--teachers", default=",".join(TEACHER_ORDER), help="the pool's teachers (ensemble members)")
    p.add_argument("--num-negatives", type=int, default=1, help="negatives per teacher and row")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-seq-length", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--agreement", action="store_true", help="only the teachers' agreement table (Appendix A)")
    p.add_argument("--eci-only", action="store_true", help="select and score ECI, no training (every run in --only)")
    p.add_argument("--analyze", action="store_true")
    p.add_argument("--table", action="store_true")
    args = p.parse_args()
    if args.table:
        print(table())
        return
    if args.analyze:
        print(json.dumps(analyze()["tests"], indent=2))
        return

    import torch

    from st_hardneg.data import load_beir, load_pairs
    from st_hardneg.eci import compute_eci

    names = [n for n in TEACHER_ORDER if n in args.teachers.split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    settings = {
        "student": Q.MODEL,
        "train": "SciFact train: 732 pairs, 649 queries",
        "eval": "SciFact dev: 160 queries, full 5,183-doc corpus, exact cosine search",
        "loss": "MultipleNegativesRankingLoss (n-tuple), NO_DUPLICATES batch sampler",
        "teachers": names,
        "teacher_models": {
            "minilm": "all-MiniLM-L6-v2, max_seq_length 256",
            "mpnet": "all-mpnet-base-v2, max_seq_length 128",
            "bm25": "bm25s, lucene, k1 1.5, b 0.75, English stopwords",
        },
        "selection": "TopK-PercPos 95%, top, n-tuple, on_short fill, pool depth 100, pool seed 0, select seed 0",
        "num_negatives_per_teacher": args.num_negatives,
        "batch_size": args.batch_size,
        "epochs": 1,
        "lr": 2e-5,
        "warmup_ratio": 0.1,
        "max_seq_length_train_and_eval": args.max_seq_length,
        "seed": args.seed,
        "eci": "compute_eci on stored all-MiniLM-L6-v2 teacher scores (score_teachers=['minilm'])",
        "torch_threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, no GPU",
    }
    summary = Q.read_json(SUMMARY, {})
    RUN_FILES.mkdir(parents=True, exist_ok=True)
    # A single teacher's selection is the same from any pool holding it (each teacher's candidates depend on it
    # alone), so runs made with a smaller pool (before mpnet's embeddings were ready) stay comparable.
    volatile = ("torch_threads", "teachers", "seed")  # a training seed other than 0 writes runs of its own
    fixed = {k: v for k, v in settings.items() if k not in volatile}
    if summary.get("settings") and {k: v for k, v in summary["settings"].items() if k not in volatile} != fixed:
        raise SystemExit(f"{SUMMARY} was made with other settings; move it away to start over")
    summary["settings"] = settings
    SUMMARY.write_text(json.dumps(summary, indent=2))

    pairs, corpus = load_pairs(Q.DATA, split="train")
    pool = get_pool(pairs, corpus, names)
    agreement_file = RUN_FILES / "agreement.json"
    if Q.read_json(agreement_file, {}).get("teachers") != names or args.agreement:
        agreement = {"teachers": names, "loadavg": list(os.getloadavg())}
        for k in (1, 4):
            result = pool.agreement(k=k)
            agreement[f"top{k}"] = {**result.to_dict(), "markdown": result.to_markdown()}
            log("\n" + result.to_markdown())
        agreement_file.write_text(json.dumps(agreement, indent=2))
    if args.agreement:
        return
    done, _, eci_done = collect()
    beir = load_beir(Q.DATA, "dev")
    for name in args.only.split(","):
        teacher, ensemble, _ = RUNS[name]
        if teacher is not None and teacher not in names:
            log(f"{name}: teacher not in the pool, skipping")
            continue
        key = seeded(name, args.seed)
        if key in (eci_done if args.eci_only else done):
            log(f"{key}: done already, skipping")
            continue
        log(f"{key}: start (load average {os.getloadavg()})")
        run: dict = {
            "seed": args.seed,
            "label": (teacher if ensemble is None else f"{ensemble} ({'+'.join(names)})")
            + (f", {RUNS[name][2]} per teacher" if RUNS[name][2] else ""),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "loadavg_start": list(os.getloadavg()),
            "pool_teachers": names,
        }
        t = time.perf_counter()
        sel = select(pool, name, names, args.num_negatives)
        s = sel.statistics
        run["select_s"] = time.perf_counter() - t
        ds = sel.dataset
        report = compute_eci(ds, show_progress=False)  # the stored all-MiniLM-L6-v2 teacher scores
        width = sum(c.startswith("negative_") for c in ds.column_names)
        run["mining"] = {
            "negatives_per_row": width,
            "rows_out": len(ds),
            "rows_filled": s.rows_filled,
            "negatives_filled": s.negatives_filled,
            "rows_dropped": s.rows_dropped,
            "removed_by_method": s.removed_by_method,
            "negatives_per_teacher": s.negatives_per_teacher,
            "negatives_shared": s.negatives_shared,
            "pairs_scored_on_demand": s.pairs_scored_on_demand,
            "minilm_mean_negative_score": float(np.nanmean(np.array(ds["scores"])[:, 1:])),
        }
        run["eci"] = {
            k: getattr(report, k)
            for k in ("eci", "num_negatives", "signal", "max_margin", "violation_rate", "num_queries")
        }
        if args.eci_only:
            run["loadavg_end"] = list(os.getloadavg())
            (RUN_FILES / f"eci_{name}.json").write_text(json.dumps(run, indent=2))
            log(f"{key}: ECI {report.eci:.3f}")
            continue
        train_ds = ds.remove_columns(["scores", "teachers"])
        run["train_rows"] = len(train_ds)
        model, run["train_s"], run["train_loss"] = Q.train(train_ds, args, f"ens_{key}")
        log(f"{key}: trained in {run['train_s']:.0f}s, loss {run['train_loss']:.4f}; ECI {report.eci:.3f}")
        qids, ndcg, run["eval_s"] = Q.evaluate(model, beir, args.max_seq_length)
        run["ndcg@10"] = float(ndcg.mean())
        run["loadavg_end"] = list(os.getloadavg())
        log(f"{key}: NDCG@10 {run['ndcg@10']:.4f} (eval {run['eval_s']:.0f}s)")
        per_query = {q: float(v) for q, v in zip(qids, ndcg)}
        (RUN_FILES / f"{key}.json").write_text(json.dumps({"run": run, "perquery": per_query}, indent=1))
        del model
    log("done")


if __name__ == "__main__":
    main()
