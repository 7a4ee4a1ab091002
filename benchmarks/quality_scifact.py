"""NV-Retriever Table 3 in miniature: fine-tune all-MiniLM-L6-v2 on SciFact train with negatives from each mining
method, evaluate NDCG@10 on SciFact dev (160 queries) against the full 5,183-document corpus.

Usage (from the repository root; resumable, results are written after every run):
    python benchmarks/quality_scifact.py                 # the whole grid, in priority order
    python benchmarks/quality_scifact.py --only base,nohn  # a subset
    python benchmarks/quality_scifact.py --analyze        # recompute the significance tests from saved results
    python benchmarks/quality_scifact.py --table          # the Markdown table of the saved results
    python benchmarks/quality_scifact.py --seed 1 --seed-suffix --only nohn,naive,percpos0.95  # training-seed repeats
    python benchmarks/quality_scifact.py --pooled-seeds 0,1,2  # -> benchmarks/results/quality_scifact_seeds.json

Outputs: benchmarks/results/quality_scifact.json (summary, training/mining statistics, tests) and
benchmarks/results/quality_scifact_perquery.json (per-query NDCG@10 of every run, by dev query id).

Mining: one st-hardneg CandidatePool built with the MiniLM teacher (depth 100, seed 0; the pool saved by
benchmarks/mining_speed.py is reused when present), ``pool.select(method, num_negatives=K, sampling="top",
seed=0)`` with the library defaults (n-tuple, rows short of negatives filled with random documents under the
method's bound, positive score of the row).

NDCG@10: exact search (cosine over normalised embeddings, all documents), binary relevance (qrels score > 0),
DCG = sum rel_i / log2(i + 1) over ranks i = 1..10, ideal DCG from min(#relevant, 10) hits, as in
sentence-transformers' InformationRetrievalEvaluator. Documents are ``title + " " + text`` (st_hardneg's
``load_beir``).

Significance: per-query paired tests on NDCG@10 - Wilcoxon signed-rank (scipy.stats.wilcoxon, two-sided,
zero_method="wilcox": ties dropped) and a two-sided paired bootstrap of the mean difference (10,000 resamples of the
160 queries, seed 0; p = 2 * min(P(diff <= 0), P(diff >= 0))).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "scifact"
CACHE = ROOT / "benchmarks" / "cache"
POOL = CACHE / "pool_minilm"
RESULTS = ROOT / "benchmarks" / "results"
SUMMARY = RESULTS / "quality_scifact.json"
PERQUERY = RESULTS / "quality_scifact_perquery.json"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# name -> method spec for pool.select (None: no training / no hard negatives). Priority order.
RUNS = {
    "base": None,
    "nohn": None,
    "naive": "naive-topk",
    "percpos0.95": "topk-percpos:0.95",
    "shifted10": "topk-shifted:10",
    "abs0.7": "topk-abs:0.7",
    "marginpos0.05": "topk-marginpos:0.05",
}
LABELS = {
    "base": "all-MiniLM-L6-v2, not fine-tuned",
    "nohn": "fine-tuned, no hard negatives (pairs, in-batch negatives only)",
    "naive": "Naive Top-K",
    "percpos0.95": "TopK-PercPos 95%",
    "shifted10": "Top-K shifted by 10",
    "abs0.7": "TopK-Abs 0.7",
    "marginpos0.05": "TopK-MarginPos 0.05",
}


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def read_json(path: Path, default):
    return json.loads(path.read_text()) if path.exists() else default


def ndcg_at_10(q_emb: np.ndarray, d_emb: np.ndarray, qids: list[str], dids: list[str], qrels) -> np.ndarray:
    scores = q_emb @ d_emb.T
    top = np.argsort(-scores, axis=1)[:, :10]
    out = np.zeros(len(qids))
    for i, qid in enumerate(qids):
        rel = {d for d, s in qrels[qid].items() if s > 0}
        dcg = sum(1.0 / math.log2(r + 2) for r, j in enumerate(top[i]) if dids[j] in rel)
        idcg = sum(1.0 / math.log2(r + 2) for r in range(min(len(rel), 10)))
        out[i] = dcg / idcg
    return out


def evaluate(model, beir, max_seq_length: int) -> tuple[list[str], np.ndarray, float]:
    model.max_seq_length = max_seq_length
    qids = [q for q, judged in beir.qrels.items() if any(s > 0 for s in judged.values())]
    dids = list(beir.corpus)
    t = time.perf_counter()
    d = model.encode_document(
        [beir.corpus[x] for x in dids],
        batch_size=64,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    q = model.encode_query(
        [beir.queries[x] for x in qids],
        batch_size=64,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return qids, ndcg_at_10(q, d, qids, dids, beir.qrels), time.perf_counter() - t


def get_pool(pairs, corpus):
    from st_hardneg import CandidatePool
    from st_hardneg.teachers import DenseTeacher, load_sentence_transformer

    if POOL.exists():
        log(f"loading pool {POOL}")
        return CandidatePool.load(POOL)
    log("building MiniLM pool (depth 100, seed 0)")
    teacher = DenseTeacher(load_sentence_transformer(MODEL), cache_folder=CACHE / "emb")
    pool = CandidatePool.build(pairs, teacher, corpus=corpus, depth=100, seed=0, show_progress=False)
    pool.save(POOL, overwrite=True)
    return pool


def train(train_ds, args, run_name: str):
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers
    from transformers import set_seed

    from st_hardneg.teachers import load_sentence_transformer

    set_seed(args.seed)
    model = load_sentence_transformer(MODEL)
    model.max_seq_length = args.max_seq_length
    targs = SentenceTransformerTrainingArguments(
        output_dir=str(CACHE / "train" / run_name),
        num_train_epochs=1,
        per_device_train_batch_size=args.batch_size,
        learning_rate=2e-5,
        warmup_steps=0.1,  # a float: a ratio of the total steps (transformers v5)
        seed=args.seed,
        data_seed=args.seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="no",
        report_to="none",
        logging_steps=10,
        disable_tqdm=True,
        use_cpu=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=targs, train_dataset=train_ds, loss=MultipleNegativesRankingLoss(model)
    )
    t = time.perf_counter()
    out = trainer.train()
    return model, time.perf_counter() - t, float(out.training_loss)


def paired_tests(a: np.ndarray, b: np.ndarray, n_boot: int = 10000, seed: int = 0) -> dict:
    from scipy.stats import wilcoxon

    diff = a - b
    res: dict = {
        "mean_diff": float(diff.mean()),
        "n_queries": int(len(diff)),
        "n_nonzero": int((diff != 0).sum()),
        "wins": int((diff > 0).sum()),
        "losses": int((diff < 0).sum()),
    }
    if res["n_nonzero"] > 0:
        w = wilcoxon(a, b, zero_method="wilcox", alternative="two-sided")
        res["wilcoxon_p"] = float(w.pvalue)
    else:
        res["wilcoxon_p"] = 1.0
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diff), size=(n_boot, len(diff)))
    means = diff[idx].mean(axis=1)
    res["bootstrap_p"] = float(min(1.0, 2 * min((means <= 0).mean(), (means >= 0).mean())))
    res["bootstrap_ci95"] = [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]
    return res


def analyze() -> dict:
    summary = read_json(SUMMARY, {})
    perq = read_json(PERQUERY, {})
    runs = summary.get("runs", {})
    tests: dict = {}
    for ref in ("naive", "nohn"):
        if ref not in perq:
            continue
        qids = sorted(perq[ref])
        b = np.array([perq[ref][q] for q in qids])
        for name in runs:
            if name == ref or name not in perq:
                continue
            a = np.array([perq[name][q] for q in qids])
            tests[f"{name}_vs_{ref}"] = paired_tests(a, b)
    summary["tests"] = tests
    SUMMARY.write_text(json.dumps(summary, indent=2))
    return summary


def table() -> str:
    """The Markdown table of benchmarks/REPORT.md, from the saved results."""
    summary = read_json(SUMMARY, {})
    runs, tests = summary.get("runs", {}), summary.get("tests", {})
    lines = [
        "| run | train rows (filled / dropped) | train s | NDCG@10 | vs Naive: diff, Wilcoxon p, bootstrap p "
        "| vs no-HN: diff, Wilcoxon p, bootstrap p |",
        "|---|---:|---:|---:|---|---|",
    ]
    for name in RUNS:
        if name not in runs:
            continue
        r = runs[name]
        m = r.get("mining")
        rows = (
            "-"
            if "train_rows" not in r
            else (f"{r['train_rows']}" + (f" ({m['rows_filled']} / {m['rows_dropped']})" if m else ""))
        )
        cells = []
        for ref in ("naive", "nohn"):
            t = tests.get(f"{name}_vs_{ref}")
            boot = (
                "<0.0001"
                if t is not None and t["bootstrap_p"] == 0
                else (f"{t['bootstrap_p']:.4f}" if t is not None else "")
            )
            cells.append("-" if t is None else f"{t['mean_diff']:+.4f}, p={t['wilcoxon_p']:.4f}, p={boot}")
        train_s = f"{r['train_s']:.0f}" if "train_s" in r else "-"
        lines.append(f"| {r['label']} | {rows} | {train_s} | {r['ndcg@10']:.4f} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def pooled_seeds(seeds: list[int]) -> dict:
    """NDCG@10 per training seed, and paired tests on the per-query NDCG averaged over the seeds, for the runs that
    every seed has (seed 0 = quality_scifact.json, others = quality_scifact_seed{N}.json)."""
    files = {
        s: RESULTS / ("quality_scifact_perquery.json" if s == 0 else f"quality_scifact_seed{s}_perquery.json")
        for s in seeds
    }
    perq = {s: read_json(f, {}) for s, f in files.items()}
    names = [n for n in RUNS if n != "base" and all(n in perq[s] for s in seeds)]
    qids = sorted(perq[seeds[0]][names[0]])
    avg = {n: np.mean([[perq[s][n][q] for q in qids] for s in seeds], axis=0) for n in names}
    out: dict = {
        "seeds": seeds,
        "ndcg@10": {n: {str(s): float(np.mean(list(perq[s][n].values()))) for s in seeds} for n in names},
        "tests_on_seed_averaged_per_query_ndcg": {},
    }
    for n in names:
        vals = list(out["ndcg@10"][n].values())
        out["ndcg@10"][n]["mean"] = float(np.mean(vals))
        out["ndcg@10"][n]["std"] = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
    for ref in ("naive", "nohn"):
        for n in names:
            if n != ref and ref in avg:
                out["tests_on_seed_averaged_per_query_ndcg"][f"{n}_vs_{ref}"] = paired_tests(avg[n], avg[ref])
    (RESULTS / "quality_scifact_seeds.json").write_text(json.dumps(out, indent=2))
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--only", default=",".join(RUNS))
    p.add_argument("--num-negatives", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-seq-length", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--analyze", action="store_true")
    p.add_argument("--table", action="store_true", help="print the Markdown results table and exit")
    p.add_argument(
        "--seed-suffix",
        action="store_true",
        help="write quality_scifact_seed{SEED}{,_perquery}.json instead (repeat runs with other seeds)",
    )
    p.add_argument("--pooled-seeds", help="e.g. 0,1,2: per-seed NDCG and tests on seed-averaged per-query NDCG")
    args = p.parse_args()
    if args.pooled_seeds:
        print(json.dumps(pooled_seeds([int(x) for x in args.pooled_seeds.split(",")]), indent=2))
        return
    if args.seed_suffix:
        global SUMMARY, PERQUERY
        SUMMARY = RESULTS / f"quality_scifact_seed{args.seed}.json"
        PERQUERY = RESULTS / f"quality_scifact_seed{args.seed}_perquery.json"
    if args.table:
        print(table())
        return
    if args.analyze:
        print(json.dumps(analyze()["tests"], indent=2))
        return

    import torch

    from st_hardneg.data import load_beir, load_pairs
    from st_hardneg.teachers import load_sentence_transformer

    RESULTS.mkdir(parents=True, exist_ok=True)
    settings = {
        "model": MODEL,
        "train": "SciFact train (../shared/data/scifact qrels/train.tsv): 732 pairs, 649 queries",
        "eval": "SciFact dev (qrels/dev.tsv): 160 queries, full 5,183-doc corpus, exact cosine search",
        "loss": "MultipleNegativesRankingLoss (n-tuple), NO_DUPLICATES batch sampler",
        "num_negatives": args.num_negatives,
        "batch_size": args.batch_size,
        "epochs": 1,
        "lr": 2e-5,
        "warmup_ratio": 0.1,
        "max_seq_length_train_and_eval": args.max_seq_length,
        "seed": args.seed,
        "teacher": "all-MiniLM-L6-v2 (max_seq_length 256), one CandidatePool, depth 100, pool seed 0, select seed 0",
        "torch_threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, no GPU",
    }
    summary = read_json(SUMMARY, {})
    if summary.get("settings", {}) and {k: v for k, v in summary["settings"].items() if k != "torch_threads"} != {
        k: v for k, v in settings.items() if k != "torch_threads"
    }:
        raise SystemExit(f"{SUMMARY} was made with other settings; move it away to start over")
    summary["settings"] = settings
    summary.setdefault("runs", {})
    perq = read_json(PERQUERY, {})

    pairs, corpus = load_pairs(DATA, split="train")
    beir = load_beir(DATA, "dev")
    pool = None
    for name in args.only.split(","):
        if name in summary["runs"]:
            log(f"{name}: done already, skipping")
            continue
        log(f"{name}: start (load average {os.getloadavg()})")
        run: dict = {
            "label": LABELS[name],
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "loadavg_start": list(os.getloadavg()),
        }
        if name == "base":
            model = load_sentence_transformer(MODEL)
        else:
            if name == "nohn":
                train_ds = pairs
            else:
                if pool is None:
                    pool = get_pool(pairs, corpus)
                sel = pool.select(
                    RUNS[name],
                    num_negatives=args.num_negatives,
                    sampling="top",
                    seed=0,
                    show_progress=False,
                    return_statistics=True,
                )
                train_ds = sel.dataset
                s = sel.statistics
                run["mining"] = {
                    "method": RUNS[name],
                    "rows_out": len(train_ds),
                    "rows_filled": s.rows_filled,
                    "negatives_filled": s.negatives_filled,
                    "rows_dropped": s.rows_dropped,
                    "removed_by_method": s.removed_by_method,
                    "mean_negative_score": s.negative_scores.mean if s.negative_scores else None,
                    "mean_margin": s.margins.mean if s.margins else None,
                }
            run["train_rows"] = len(train_ds)
            model, run["train_s"], run["train_loss"] = train(train_ds, args, name)
            log(f"{name}: trained in {run['train_s']:.0f}s, loss {run['train_loss']:.4f}")
        qids, ndcg, run["eval_s"] = evaluate(model, beir, args.max_seq_length)
        run["ndcg@10"] = float(ndcg.mean())
        run["loadavg_end"] = list(os.getloadavg())
        log(f"{name}: NDCG@10 {run['ndcg@10']:.4f} (eval {run['eval_s']:.0f}s)")
        perq[name] = {q: float(v) for q, v in zip(qids, ndcg)}
        PERQUERY.write_text(json.dumps(perq, indent=1))
        summary["runs"][name] = run
        SUMMARY.write_text(json.dumps(summary, indent=2))
        analyze()
        summary = read_json(SUMMARY, summary)
        del model
    log("done")


if __name__ == "__main__":
    main()
