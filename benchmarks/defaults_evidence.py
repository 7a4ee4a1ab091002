"""Which default trains the better student (issue 16): sentence-transformers' `mine_hard_negatives` defaults against
st-hardneg's defaults and the candidate new defaults, and what separates them (layout, training budget, batch sampler).

The quality protocol is benchmarks/quality_scifact.py's (its evaluation and paired tests are imported; the training
is the same call with the three knobs item 1 of the issue varies: epochs, a step cap and the batch sampler):
all-MiniLM-L6-v2 fine-tuned with MultipleNegativesRankingLoss, batch 16, NO_DUPLICATES, 1 epoch, lr 2e-5, 10% warmup,
max_seq_length 64 for training and evaluation; NDCG@10 on the dev split over the full corpus (exact cosine search);
per-query paired tests against sentence-transformers' defaults on each query's NDCG@10 averaged over the training
seeds both sets have: mean difference, 95% paired-bootstrap interval (10,000 resamples, seed 0), Wilcoxon p.

Training sets (each trained with seeds 0, 1, 2; selection seed 0; MiniLM teacher unless named):
  st-default           sentence-transformers' mine_hard_negatives() defaults (Naive top-3, triplets), mined by
                       sentence-transformers itself from the same cached MiniLM embeddings
  no-hard-negatives    the (anchor, positive) pairs alone (in-batch negatives only): is it the hard negatives or the
                       fine-tuning itself that moves the student
  ours-default         st-hardneg's defaults: TopK-PercPos 95%, 4 negatives, n-tuple, short rows filled
  naive-k3-triplet     st-hardneg Naive Top-K, 3 negatives, triplets (candidate default)
  percpos-k3-triplet   st-hardneg TopK-PercPos 95%, 3 negatives, triplets (candidate default)
  mpnet-naive-k3-triplet    Naive Top-K, 3 negatives, triplets, all-mpnet-base-v2 as the teacher (stronger than
                       the student)
  mpnet-percpos-k3-triplet  TopK-PercPos 95%, 3 negatives, triplets, all-mpnet-base-v2 as the teacher
  ens-naive-k3-triplet intra-sample ensemble (dedup) of all-mpnet-base-v2, all-MiniLM-L6-v2 and BM25, Naive Top-K,
                       3 negatives, triplets
 item 1 of the issue (explain the gap), TopK-PercPos 95%, 3 negatives:
  percpos-k3-ntuple          n-tuples, 1 epoch (46 steps on SciFact)
  percpos-k3-ntuple-3ep      n-tuples, 3 epochs (about the triplets' steps: equal optimizer steps)
  percpos-k3-triplet-capped  triplets capped at the 1-epoch n-tuples' step count (equal steps the other way)
  percpos-k3-triplet-defsampler  triplets with the default batch sampler instead of NO_DUPLICATES

On SciFact the first four sets were trained by benchmarks/short_rows_and_sweep_scifact.py with this very protocol
(same pool settings, same selection, seeds 0-2); they are imported from results/short_rows_scifact.json, not trained
again (``import`` is recorded in each run's file).

Datasets: ``scifact`` (../shared/data/scifact, train/dev). Any other BEIR folder with a train split and a dev split can
be given with ``--data DIR --name NAME`` (corpus.jsonl[.gz], queries.jsonl, qrels/train.tsv, qrels/<--eval-split>.tsv);
no second dataset could be had on this machine (benchmarks/REPORT.md section 8 says what was tried).

Usage (from the repository root; resumable: every finished run is its own file under
benchmarks/results/defaults_evidence/<dataset>/, and a rerun skips it):
    nohup python benchmarks/defaults_evidence.py run --sets percpos-k3-ntuple-3ep,... > benchmarks/cache/de.log 2>&1 &
    python benchmarks/defaults_evidence.py import     # SciFact's earlier runs of the same protocol
    python benchmarks/defaults_evidence.py tables     # tables and paired tests -> results/defaults_evidence_<ds>.json
    python benchmarks/defaults_evidence.py plan       # the runs not yet done, in order

The mpnet sets need all-mpnet-base-v2 (``--mpnet DIR``, default benchmarks/cache/models/all-mpnet-base-v2, assembled by
``../shared/tools/get-mpnet.sh benchmarks/cache/models``) and its embeddings of the dataset at max_seq_length 128 in
benchmarks/cache/emb (``python benchmarks/encode_scifact.py --model DIR --max-seq-length 128`` for SciFact).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_scifact as Q  # noqa: E402  (evaluation, paired tests, the protocol's constants)

ROOT = Q.ROOT
CACHE = Q.CACHE
EMB = CACHE / "emb"
RESULTS = Q.RESULTS
OUT = RESULTS / "defaults_evidence"
MPNET_DEFAULT = CACHE / "models" / "all-mpnet-base-v2"
MPNET_MAX_SEQ = 128
DEPTH = 100
SEEDS = (0, 1, 2)
PERCPOS = "topk-percpos:0.95"

#: set -> how it is made. kind "st": sentence-transformers mines; kind "ours": pool.select with these settings.
#: teachers: the pool's teachers (the selection's teacher/ensemble pick among them). train: knobs of the training.
SETS: dict[str, dict] = {
    "st-default": {"kind": "st", "st_kwargs": {}, "teachers": ("minilm",)},
    "no-hard-negatives": {"kind": "pairs", "teachers": ()},
    "ours-default": {
        "kind": "ours",
        "teachers": ("minilm",),
        "select": {"method": PERCPOS, "num_negatives": 4, "on_short": "fill", "output_format": "n-tuple"},
    },
    "naive-k3-triplet": {
        "kind": "ours",
        "teachers": ("minilm",),
        "select": {"method": "naive-topk", "num_negatives": 3, "on_short": "fill", "output_format": "triplet"},
    },
    "percpos-k3-triplet": {
        "kind": "ours",
        "teachers": ("minilm",),
        "select": {"method": PERCPOS, "num_negatives": 3, "on_short": "fill", "output_format": "triplet"},
    },
    "mpnet-naive-k3-triplet": {
        "kind": "ours",
        "teachers": ("mpnet", "minilm", "bm25"),
        "select": {
            "method": "naive-topk",
            "num_negatives": 3,
            "on_short": "fill",
            "output_format": "triplet",
            "teacher": "mpnet",
        },
    },  # fmt: skip
    "mpnet-percpos-k3-triplet": {
        "kind": "ours",
        "teachers": ("mpnet", "minilm", "bm25"),
        "select": {
            "method": PERCPOS,
            "num_negatives": 3,
            "on_short": "fill",
            "output_format": "triplet",
            "teacher": "mpnet",
        },
    },  # fmt: skip
    "ens-naive-k3-triplet": {
        "kind": "ours",
        "teachers": ("mpnet", "minilm", "bm25"),
        "select": {
            "method": "naive-topk",
            "num_negatives": 3,
            "on_short": "fill",
            "output_format": "triplet",
            "teacher": ("mpnet", "minilm", "bm25"),
            "ensemble": "intra_sample_dedup",
        },
    },  # fmt: skip
    "percpos-k3-ntuple": {
        "kind": "ours",
        "teachers": ("minilm",),
        "select": {"method": PERCPOS, "num_negatives": 3, "on_short": "fill", "output_format": "n-tuple"},
    },
    "percpos-k3-ntuple-3ep": {
        "kind": "ours",
        "teachers": ("minilm",),
        "select": {"method": PERCPOS, "num_negatives": 3, "on_short": "fill", "output_format": "n-tuple"},
        "train": {"epochs": 3},
    },
    "percpos-k3-triplet-capped": {
        "kind": "ours",
        "teachers": ("minilm",),
        "select": {"method": PERCPOS, "num_negatives": 3, "on_short": "fill", "output_format": "triplet"},
        "train": {"max_steps_like": "percpos-k3-ntuple"},
    },
    "percpos-k3-triplet-keep": {
        "kind": "ours",
        "teachers": ("minilm",),
        "select": {"method": PERCPOS, "num_negatives": 3, "on_short": "keep", "output_format": "triplet"},
    },
    "percpos-k3-triplet-defsampler": {
        "kind": "ours",
        "teachers": ("minilm",),
        "select": {"method": PERCPOS, "num_negatives": 3, "on_short": "fill", "output_format": "triplet"},
        "train": {"batch_sampler": "batch_sampler"},
    },
}
LABELS = {
    "st-default": "sentence-transformers `mine_hard_negatives` defaults (Naive top-3, triplets)",
    "no-hard-negatives": "the (anchor, positive) pairs alone: in-batch negatives only",
    "ours-default": "st-hardneg's former defaults (TopK-PercPos 95%, 4 negatives, n-tuple, fill)",
    "naive-k3-triplet": "st-hardneg Naive Top-K, 3 negatives, triplets",
    "percpos-k3-triplet": "st-hardneg TopK-PercPos 95%, 3 negatives, triplets",
    "mpnet-naive-k3-triplet": "all-mpnet-base-v2 teacher, Naive Top-K, 3 negatives, triplets",
    "mpnet-percpos-k3-triplet": "all-mpnet-base-v2 teacher, TopK-PercPos 95%, 3 negatives, triplets",
    "ens-naive-k3-triplet": "intra-sample ensemble (mpnet+MiniLM+BM25, dedup), Naive Top-K, 3 negatives, triplets",
    "percpos-k3-ntuple": "TopK-PercPos 95%, 3 negatives, n-tuple, 1 epoch",
    "percpos-k3-ntuple-3ep": "TopK-PercPos 95%, 3 negatives, n-tuple, 3 epochs",
    "percpos-k3-triplet-capped": "TopK-PercPos 95%, 3 negatives, triplets capped at the 1-epoch n-tuples' steps",
    "percpos-k3-triplet-defsampler": "TopK-PercPos 95%, 3 negatives, triplets, default batch sampler",
    "percpos-k3-triplet-keep": "TopK-PercPos 95%, 3 negatives, triplets, short rows kept short (on_short='keep')",
}
#: run order when --sets is not given: what decides the default first, then item 1, seed 0 of each before seeds 1-2
DEFAULT_ORDER = (
    "st-default", "ours-default", "naive-k3-triplet", "percpos-k3-triplet", "percpos-k3-ntuple",
    "percpos-k3-ntuple-3ep", "percpos-k3-triplet-capped", "percpos-k3-triplet-defsampler", "mpnet-naive-k3-triplet",
    "mpnet-percpos-k3-triplet",
    "ens-naive-k3-triplet",
)  # fmt: skip
#: SciFact runs of benchmarks/short_rows_and_sweep_scifact.py (same protocol) that are these sets
SCIFACT_EARLIER = {
    "st-default": "st-default|s{seed}",
    "ours-default": "topk-percpos:0.95|fill|n4|top|s{seed}",
    "naive-k3-triplet": "naive-topk|fill|n3|top|s{seed}|triplet",
    "percpos-k3-triplet": "topk-percpos:0.95|fill|n3|top|s{seed}|triplet",
}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_path(dataset: str, name: str, seed: int) -> Path:
    return OUT / dataset / f"{name}__s{seed}.json"


# ------------------------------------------------------------------------------------------------ data, pools
class Context:
    """One dataset's pairs, dev split, teachers and pools, loaded once per process."""

    def __init__(self, args) -> None:
        from st_hardneg.data import load_beir, load_pairs

        self.name = args.name
        self.data = Path(args.data)
        self.args = args
        self.pairs, self.corpus = load_pairs(self.data, split="train")
        # sentence-transformers takes the corpus as a list of texts; load_pairs gives {id: text} when ids are known
        self.corpus_texts = list(self.corpus.values()) if isinstance(self.corpus, dict) else list(self.corpus)
        self.beir = load_beir(self.data, args.eval_split)
        self._teachers: dict = {}
        self._pools: dict = {}

    def teacher(self, name: str):
        if name not in self._teachers:
            from st_hardneg.teachers import BM25Teacher, DenseTeacher, load_sentence_transformer

            if name == "minilm":
                t = DenseTeacher(load_sentence_transformer(Q.MODEL), cache_folder=EMB, name="minilm")
            elif name == "mpnet":
                if not Path(self.args.mpnet).is_dir():
                    raise SystemExit(f"all-mpnet-base-v2 not at {self.args.mpnet}; run ../shared/tools/get-mpnet.sh")
                model = load_sentence_transformer(str(self.args.mpnet), device="cpu")
                model.max_seq_length = MPNET_MAX_SEQ  # as encoded by encode_scifact.py (not in the cache key)
                t = DenseTeacher(model, cache_folder=EMB, name="mpnet")
            elif name == "bm25":
                t = BM25Teacher()
            else:
                raise SystemExit(f"unknown teacher {name}")
            self._teachers[name] = t
        return self._teachers[name]

    def pool(self, names: tuple[str, ...]):
        """The pool of these teachers (depth 100, seed 0), saved under benchmarks/cache; SciFact's MiniLM pool is the
        one benchmarks/mining_speed.py saves (same settings)."""
        if names not in self._pools:
            from st_hardneg import CandidatePool

            teachers = [self.teacher(n) for n in names]
            if self.args.require_cached:
                self.check_cached(teachers)
            path = CACHE / f"pool_{self.name}_{'+'.join(names)}"
            if self.name == "scifact" and names == ("minilm",) and (CACHE / "pool_minilm").exists():
                path = CACHE / "pool_minilm"
            if path == CACHE / "pool_minilm" and path.exists():
                # mining_speed.py's pool: its one teacher is under the model's own name, not "minilm"
                Q.log(f"loading pool {path}")
                pool = CandidatePool.load(path)
            elif path.exists():
                Q.log(f"loading pool {path}")
                pool = CandidatePool.load(path, dataset=self.pairs, corpus=self.corpus, teachers=teachers)
            else:
                Q.log(f"building the pool of {names} (depth {DEPTH}, seed 0)")
                pool = CandidatePool.build(
                    self.pairs, teachers, corpus=self.corpus, depth=DEPTH, seed=0, show_progress=False
                )
                pool.save(path)
            self._pools[names] = pool
        return self._pools[names]

    def check_cached(self, teachers) -> None:
        """Dense teachers' embeddings must already be cached (a benchmark run must not start a long encode)."""
        from st_hardneg.pool.inputs import build_layout, read_corpus, read_pairs

        _, _, anchors, positives = read_pairs(self.pairs)
        layout = build_layout(anchors, positives, read_corpus(self.corpus))
        for t in teachers:
            if not hasattr(t, "cache_key"):
                continue
            for role, texts in (("query", list(layout.queries)), ("document", list(layout.corpus))):
                key = t.cache_key(texts, role)
                if not (EMB / f"{key}.npy").exists():
                    raise SystemExit(f"{t.name} {role} embeddings of {self.name} not cached ({key})")


def st_cache_files(ctx: Context, st_cache: Path) -> None:
    """sentence-transformers' embedding cache written from st-hardneg's (mining_speed.write_st_cache)."""
    import mining_speed as M

    pairs = ctx.pairs
    M.write_st_cache(
        ctx.teacher("minilm"), ctx.pool(("minilm",)), ctx.corpus_texts, pairs["anchor"], pairs["positive"], st_cache
    )


def mine(ctx: Context, name: str) -> tuple:
    spec = SETS[name]
    if spec["kind"] == "pairs":
        pairs = ctx.pairs.select_columns(["anchor", "positive"])  # not the id columns: the trainer reads every column
        return pairs, {"rows_out": len(pairs), "rows_in": len(ctx.pairs), "columns": pairs.column_names}
    if spec["kind"] == "st":
        import random

        import torch
        from sentence_transformers.util.hard_negatives import mine_hard_negatives

        st_cache = CACHE / f"st_emb_{ctx.name}"
        st_cache_files(ctx, st_cache)
        random.seed(0)
        torch.manual_seed(0)
        ds = mine_hard_negatives(
            ctx.pairs,
            ctx.teacher("minilm").model,
            corpus=ctx.corpus_texts,
            cache_folder=str(st_cache),
            verbose=False,
            **spec["st_kwargs"],
        )
        return ds, {"rows_out": len(ds), "rows_in": len(ctx.pairs), "columns": ds.column_names}
    pool = ctx.pool(spec["teachers"])
    sel = pool.select(**spec["select"], sampling="top", seed=0, show_progress=False, return_statistics=True)
    s = sel.statistics
    mining = {
        "settings": sel.settings.to_dict(),
        "rows_out": len(sel.dataset),
        "rows_short": s.rows_short,
        "rows_filled": s.rows_filled,
        "negatives_filled": s.negatives_filled,
        "rows_dropped": s.rows_dropped,
        "mean_negative_score": s.negative_scores.mean if s.negative_scores else None,
        "mean_margin": s.margins.mean if s.margins else None,
    }
    return sel.dataset, mining


# ------------------------------------------------------------------------------------------------ training
def train(train_ds, seed: int, args, epochs: int = 1, max_steps: int = -1, batch_sampler: str = "no_duplicates"):
    """quality_scifact.train with the three knobs item 1 varies (epochs, a step cap, the batch sampler); every other
    argument is the same."""
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers
    from transformers import set_seed

    from st_hardneg.teachers import load_sentence_transformer

    set_seed(seed)
    model = load_sentence_transformer(Q.MODEL)
    model.max_seq_length = args.max_seq_length
    targs = SentenceTransformerTrainingArguments(
        output_dir=str(CACHE / "train" / "defaults_evidence"),
        num_train_epochs=epochs,
        max_steps=max_steps,
        per_device_train_batch_size=args.batch_size,
        learning_rate=2e-5,
        warmup_steps=0.1,  # a float: a ratio of the total steps (transformers v5)
        seed=seed,
        data_seed=seed,
        batch_sampler=BatchSamplers(batch_sampler),
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
    return model, time.perf_counter() - t, float(out.training_loss), int(out.global_step)


def execute(ctx: Context, name: str, seed: int, args) -> None:
    path = run_path(ctx.name, name, seed)
    spec = SETS[name]
    knobs = dict(spec.get("train", {}))
    record: dict = {
        "dataset": ctx.name,
        "set": name,
        "label": LABELS[name],
        "seed": seed,
        "started": now(),
        "loadavg_start": list(os.getloadavg()),
        "spec": {k: v for k, v in spec.items() if k != "train"},
        "train_knobs": knobs,
    }
    Q.log(f"{ctx.name} {name} seed {seed}: start (load {os.getloadavg()[0]:.1f})")
    t = time.perf_counter()
    ds, record["mining"] = mine(ctx, name)
    record["mining_s"] = time.perf_counter() - t
    record["train_rows"] = len(ds)
    epochs, max_steps = knobs.get("epochs", 1), -1
    if "max_steps_like" in knobs:
        ref = SETS[knobs["max_steps_like"]]
        ref_rows = len(mine(ctx, knobs["max_steps_like"])[0])
        max_steps = math.ceil(ref_rows / args.batch_size) * ref.get("train", {}).get("epochs", 1)
        record["max_steps"] = max_steps
    model, record["train_s"], record["train_loss"], record["steps"] = train(
        ds, seed, args, epochs=epochs, max_steps=max_steps, batch_sampler=knobs.get("batch_sampler", "no_duplicates")
    )
    qids, ndcg, record["eval_s"] = Q.evaluate(model, ctx.beir, args.max_seq_length)
    record["ndcg@10"] = float(ndcg.mean())
    record["loadavg_end"] = list(os.getloadavg())
    record["finished"] = now()
    Q.log(
        f"{ctx.name} {name} seed {seed}: NDCG@10 {record['ndcg@10']:.4f} ({record['steps']} steps, "
        f"train {record['train_s']:.0f}s, eval {record['eval_s']:.0f}s)"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"run": record, "perquery": {q: float(v) for q, v in zip(qids, ndcg)}}, indent=1))
    tmp.replace(path)


def command_not_fine_tuned(args) -> dict:
    """all-MiniLM-L6-v2 before any fine-tuning on the dataset's eval split (the scale the trained figures sit on);
    written to results/defaults_evidence/<name>_not_fine_tuned.json (refuses to replace it)."""
    from st_hardneg.teachers import load_sentence_transformer

    path = OUT / f"{args.name}_not_fine_tuned.json"
    if path.exists():
        raise SystemExit(f"{path} exists; remove it to measure again")
    ctx = Context(args)
    qids, ndcg, _ = Q.evaluate(load_sentence_transformer(Q.MODEL), ctx.beir, args.max_seq_length)
    out = {
        "dataset": args.name,
        "set": "not-fine-tuned",
        "ndcg@10": float(ndcg.mean()),
        "queries": len(qids),
        "max_seq_length": args.max_seq_length,
        "perquery": {q: float(v) for q, v in zip(qids, ndcg)},
    }
    path.write_text(json.dumps(out, indent=1))
    print(f"{args.name}: all-MiniLM-L6-v2 before fine-tuning, NDCG@10 {out['ndcg@10']:.4f} over {len(qids)} queries")
    return out


def protocol(args) -> dict:
    import sentence_transformers
    import torch
    import transformers

    return {
        "student": Q.MODEL,
        "loss": "MultipleNegativesRankingLoss",
        "batch_size": args.batch_size,
        "lr": 2e-5,
        "warmup_ratio": 0.1,
        "epochs": "1 unless the set says otherwise",
        "batch_sampler": "NO_DUPLICATES unless the set says otherwise",
        "max_seq_length_train_and_eval": args.max_seq_length,
        "teacher_pool": f"depth {DEPTH}, pool seed 0, selection seed 0, sampling top",
        "eval": f"{args.eval_split} split, full corpus, exact cosine search, NDCG@10 (binary relevance)",
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, no GPU, shared",
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        },
    }


def plan(args) -> list[tuple[str, int]]:
    sets = args.sets.split(",") if args.sets else list(DEFAULT_ORDER)
    for s in sets:
        if s not in SETS:
            raise SystemExit(f"unknown set {s!r}; one of {', '.join(SETS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    order = [(n, s) for s in seeds for n in sets] if args.seed_major else [(n, s) for n in sets for s in seeds]
    return [(n, s) for n, s in order if not run_path(args.name, n, s).exists()]


def command_run(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    (OUT / args.name).mkdir(parents=True, exist_ok=True)
    proto = OUT / args.name / "protocol.json"
    if not proto.exists():
        proto.write_text(json.dumps(protocol(args), indent=2))
    todo = plan(args)
    Q.log(f"{len(todo)} runs to do: {todo}")
    ctx = Context(args)
    for name, seed in todo:
        if run_path(args.name, name, seed).exists():  # another process finished it meanwhile
            continue
        execute(ctx, name, seed, args)
    Q.log("done")


# ------------------------------------------------------------------------------------------------ same negatives
def command_same_sets(args) -> dict:
    """Whether two sets hold the same (anchor, positive, negative) rows: by default st-hardneg's default (Naive top-3
    triplets) against sentence-transformers' defaults, both mined from the same cached MiniLM embeddings. Rows are
    compared as multisets (the order of rows is not the point); written to results/same_sets_<dataset>.json."""
    from collections import Counter

    a_name, b_name = args.sets.split(",") if args.sets else ("naive-k3-triplet", "st-default")
    ctx = Context(args)
    a, b = (mine(ctx, n)[0] for n in (a_name, b_name))
    rows = {n: Counter(zip(*(ds[c] for c in ds.column_names[:3]))) for n, ds in ((a_name, a), (b_name, b))}
    common = sum((rows[a_name] & rows[b_name]).values())
    out = {
        "dataset": args.name,
        "generated": now(),
        "sets": [a_name, b_name],
        "columns": {a_name: a.column_names, b_name: b.column_names},
        "rows": {a_name: len(a), b_name: len(b)},
        "rows_in_both": common,
        "only_in": {n: sum((rows[n] - rows[m]).values()) for n, m in ((a_name, b_name), (b_name, a_name))},
    }
    diff = (rows[a_name] - rows[b_name]) + (rows[b_name] - rows[a_name])
    out["anchors_with_a_difference"] = len({r[0] for r in diff})
    (RESULTS / f"same_sets_{args.name}.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return out


# ------------------------------------------------------------------------------------------------ earlier runs
def command_import(args) -> None:
    """SciFact runs of benchmarks/short_rows_and_sweep_scifact.py that are exactly these sets (same protocol)."""
    if args.name != "scifact":
        raise SystemExit("only SciFact has earlier runs")
    summary = Q.read_json(RESULTS / "short_rows_scifact.json", {"runs": {}})
    perq = Q.read_json(RESULTS / "short_rows_scifact_perquery.json", {})
    for name, pattern in SCIFACT_EARLIER.items():
        for seed in SEEDS:
            old = pattern.format(seed=seed)
            path = run_path("scifact", name, seed)
            if path.exists() or old not in summary["runs"]:
                continue
            rec = dict(summary["runs"][old])
            rec.update(
                {
                    "dataset": "scifact",
                    "set": name,
                    "label": LABELS[name],
                    "seed": seed,
                    "imported_from": f"benchmarks/results/short_rows_scifact.json run {old!r}",
                }
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"run": rec, "perquery": perq[old]}, indent=1))
            Q.log(f"imported {old} as {name} seed {seed}: {rec['ndcg@10']:.4f}")


# ------------------------------------------------------------------------------------------------ analysis
def load_runs(dataset: str) -> dict:
    out: dict = {}
    for path in sorted((OUT / dataset).glob("*__s*.json")):
        data = json.loads(path.read_text())
        out.setdefault(data["run"]["set"], {})[data["run"]["seed"]] = data
    return out


def seed_avg(runs: dict, name: str, seeds: list[int]) -> np.ndarray:
    qids = sorted(runs[name][seeds[0]]["perquery"])
    return np.mean([[runs[name][s]["perquery"][q] for q in qids] for s in seeds], axis=0)


def command_tables(args) -> dict:
    runs = load_runs(args.name)
    ref = "st-default"
    out: dict = {"dataset": args.name, "generated": now(), "reference": ref, "sets": {}}
    lines = [
        "| training set | rows | steps | seed 0 | seed 1 | seed 2 | mean (std) | vs sentence-transformers' defaults: "
        "mean diff [95% CI], Wilcoxon p (seeds) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in [n for n in SETS if n in runs]:
        have = sorted(runs[name])
        vals = [runs[name][s]["run"]["ndcg@10"] for s in have]
        entry: dict = {
            "label": LABELS[name],
            "seeds": have,
            "ndcg@10": vals,
            "mean": float(np.mean(vals)),
            "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else None,
            "train_rows": runs[name][have[0]]["run"].get("train_rows"),
            "steps": runs[name][have[0]]["run"].get("steps"),
            "imported": any("imported_from" in runs[name][s]["run"] for s in have),
        }
        common = [s for s in have if ref in runs and s in runs[ref]]
        test = "-"
        if name != ref and common:
            t = Q.paired_tests(seed_avg(runs, name, common), seed_avg(runs, ref, common))
            entry["vs_st_default"] = {"seeds": common, **t}
            ci = t["bootstrap_ci95"]
            test = f"{t['mean_diff']:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}], p={t['wilcoxon_p']:.4f} ({common})"
        out["sets"][name] = entry
        cells = " | ".join(f"{runs[name][s]['run']['ndcg@10']:.4f}" if s in runs[name] else "not run" for s in SEEDS)
        std = f" ({entry['std']:.4f})" if entry["std"] is not None else ""
        # imported runs did not record the step count: one epoch of ceil(rows / batch) batches
        steps = entry["steps"] if entry["steps"] is not None else f"{math.ceil(entry['train_rows'] / args.batch_size)}"
        lines.append(
            f"| {LABELS[name]} | {entry['train_rows']} | {steps} | {cells} | {entry['mean']:.4f}{std} | {test} |"
        )
    # item 1: the pairs that separate layout, budget and sampler (seed-averaged, common seeds)
    pairs = [
        ("percpos-k3-triplet", "percpos-k3-ntuple", "layout and budget together (triplets vs n-tuples, 1 epoch)"),
        ("percpos-k3-triplet", "percpos-k3-ntuple-3ep", "layout at equal steps (triplets 1 epoch vs n-tuples 3)"),
        ("percpos-k3-ntuple-3ep", "percpos-k3-ntuple", "budget within n-tuples (3 epochs vs 1)"),
        ("percpos-k3-triplet-capped", "percpos-k3-ntuple", "layout at equal steps (triplets capped vs n-tuples 1 ep)"),
        ("percpos-k3-triplet", "percpos-k3-triplet-capped", "budget within triplets (1 epoch vs capped)"),
        ("percpos-k3-triplet", "percpos-k3-triplet-defsampler", "NO_DUPLICATES vs the default batch sampler"),
        ("naive-k3-triplet", "percpos-k3-triplet", "method at equal layout and steps (Naive vs PercPos 95%)"),
        ("percpos-k3-ntuple", "ours-default", "3 vs 4 negatives (n-tuples, 1 epoch)"),
        ("percpos-k3-triplet", "percpos-k3-triplet-keep", "short rows filled vs kept short (PercPos 95% triplets)"),
        ("mpnet-naive-k3-triplet", "naive-k3-triplet", "teacher: all-mpnet-base-v2 vs all-MiniLM-L6-v2"),
        ("mpnet-naive-k3-triplet", "mpnet-percpos-k3-triplet", "method with the mpnet teacher (Naive vs PercPos)"),
        ("ens-naive-k3-triplet", "naive-k3-triplet", "teacher: ensemble vs all-MiniLM-L6-v2"),
        ("mpnet-naive-k3-triplet", "st-default", "teacher: all-mpnet-base-v2 vs sentence-transformers' defaults"),
        ("st-default", "no-hard-negatives", "hard negatives (sentence-transformers' defaults) vs in-batch only"),
        ("percpos-k3-triplet", "no-hard-negatives", "hard negatives (PercPos 95% triplets) vs in-batch only"),
        ("ours-default", "no-hard-negatives", "hard negatives (PercPos 95% 4-negative n-tuples) vs in-batch only"),
        (
            "percpos-k3-triplet-keep",
            "no-hard-negatives",
            "hard negatives (PercPos 95% triplets kept short) vs in-batch",
        ),
    ]
    out["pairs"] = {}
    lines += ["", "| comparison | a - b: mean diff [95% CI], Wilcoxon p (seeds) |", "|---|---|"]
    for a, b, what in pairs:
        if a not in runs or b not in runs:
            continue
        common = [s for s in SEEDS if s in runs[a] and s in runs[b]]
        if not common:
            continue
        t = Q.paired_tests(seed_avg(runs, a, common), seed_avg(runs, b, common))
        out["pairs"][f"{a} - {b}"] = {"what": what, "seeds": common, **t}
        ci = t["bootstrap_ci95"]
        lines.append(
            f"| {what}: `{a}` - `{b}` | {t['mean_diff']:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}], "
            f"p={t['wilcoxon_p']:.4f} ({common}) |"
        )
    (RESULTS / f"defaults_evidence_{args.name}.json").write_text(json.dumps(out, indent=2))
    print("\n".join(lines))
    return out


def command_across(args) -> dict:
    """Each set against sentence-transformers' defaults on every dataset that has both (``--names a,b``): per dataset
    the paired difference (per-query NDCG@10 averaged over the common seeds), then both datasets at equal weight: the
    mean of the per-dataset mean differences, with a 95% interval from a bootstrap that resamples queries within each
    dataset (10,000 resamples, seed 0). Written to results/defaults_evidence_across_<names joined by +>.json."""
    names = args.names.split(",")
    runs = {n: load_runs(n) for n in names}
    ref = "st-default"
    out: dict = {"generated": now(), "datasets": names, "reference": ref, "sets": {}}
    lines = [
        "| training set | "
        + " | ".join(f"{n}: diff [95% CI] (seeds)" for n in names)
        + " | equal-weight mean [95% CI] |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    rng = np.random.default_rng(0)
    for name in SETS:
        if name == ref or not all(name in runs[n] and ref in runs[n] for n in names):
            continue
        diffs, cells, entry = [], [], {}
        for n in names:
            common = [s for s in SEEDS if s in runs[n][name] and s in runs[n][ref]]
            if not common:
                break
            d = seed_avg(runs[n], name, common) - seed_avg(runs[n], ref, common)
            t = Q.paired_tests(seed_avg(runs[n], name, common), seed_avg(runs[n], ref, common))
            entry[n] = {"seeds": common, **t}
            diffs.append(d)
            ci = t["bootstrap_ci95"]
            cells.append(f"{t['mean_diff']:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}] ({common})")
        if len(diffs) != len(names):
            continue
        boots = np.mean([d[rng.integers(0, len(d), size=(10000, len(d)))].mean(axis=1) for d in diffs], axis=0)
        mean = float(np.mean([d.mean() for d in diffs]))
        ci = [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))]
        entry["equal_weight"] = {"mean_diff": mean, "bootstrap_ci95": ci}
        out["sets"][name] = entry
        lines.append(f"| {LABELS[name]} | " + " | ".join(cells) + f" | {mean:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}] |")
    # method="auto" (st-hardneg's default): on each dataset, the trained set of the method it chooses there
    chosen = auto_sets(names, data_dirs(args, names), runs)
    out["auto"] = chosen
    diffs, cells = [], []
    for n in names:
        name, per_anchor = chosen[n]["set"], chosen[n]["positives_per_anchor"]
        if name == ref:  # the same rows as sentence-transformers' defaults (same-sets): no difference
            diffs.append(np.zeros(len(seed_avg(runs[n], ref, sorted(runs[n][ref])))))
            cells.append(f"{per_anchor:.2f} positives per anchor: `{name}`, +0")
            continue
        common = [s for s in SEEDS if s in runs[n][name] and s in runs[n][ref]]
        t = Q.paired_tests(seed_avg(runs[n], name, common), seed_avg(runs[n], ref, common))
        chosen[n]["vs_st_default"] = {"seeds": common, **t}
        diffs.append(seed_avg(runs[n], name, common) - seed_avg(runs[n], ref, common))
        ci = t["bootstrap_ci95"]
        cells.append(
            f"{per_anchor:.2f} positives per anchor: `{name}`, {t['mean_diff']:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}] "
            f"({common})"
        )
    boots = np.mean([d[rng.integers(0, len(d), size=(10000, len(d)))].mean(axis=1) for d in diffs], axis=0)
    mean = float(np.mean([d.mean() for d in diffs]))
    ci = [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))]
    out["auto_equal_weight"] = {"mean_diff": mean, "bootstrap_ci95": ci}
    lines.append(
        '| `method="auto"` (st-hardneg\'s default): the set of the method it chooses | '
        + " | ".join(cells)
        + f" | {mean:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}] |"
    )
    (RESULTS / f"defaults_evidence_across_{'+'.join(names)}.json").write_text(json.dumps(out, indent=2))
    print("\n".join(lines))
    return out


def data_dirs(args, names: list[str]) -> dict[str, Path]:
    """Each dataset's BEIR folder: ``--datas`` (comma-separated, in ``--names`` order), else SciFact's ``--data``
    default and ``benchmarks/cache/data/<name>`` for the others (where get_cranfield.py and get_cisi.py write)."""
    if args.datas:
        dirs = [Path(d) for d in args.datas.split(",")]
        if len(dirs) != len(names):
            raise SystemExit(f"--datas gives {len(dirs)} folders for {len(names)} datasets")
        return dict(zip(names, dirs))
    return {n: Path(Q.DATA) if n == "scifact" else CACHE / "data" / n for n in names}


def auto_sets(names: list[str], dirs: dict[str, Path], runs: dict) -> dict[str, dict]:
    """Which trained set ``method="auto"`` gives on each dataset: st-hardneg's own choice
    (:class:`st_hardneg.filters.methods.Auto`) from the train pairs' distinct positives per anchor. TopK-PercPos 95%
    with the triplets' default ``on_short="keep"`` is ``percpos-k3-triplet-keep``; Naive Top-K is
    ``naive-k3-triplet`` where it was trained, else ``st-default`` (the same rows: ``same-sets``)."""
    from st_hardneg.data import load_pairs
    from st_hardneg.filters.methods import Auto, NaiveTopK, positives_per_anchor
    from st_hardneg.pool.inputs import build_layout, read_corpus, read_pairs

    out = {}
    for n in names:
        pairs, corpus = load_pairs(dirs[n], split="train")
        _, _, anchors, positives = read_pairs(pairs)
        per_anchor = positives_per_anchor(build_layout(anchors, positives, read_corpus(corpus)).positives_indptr)
        method = Auto().choose(per_anchor)
        if method == NaiveTopK():
            name = "naive-k3-triplet" if "naive-k3-triplet" in runs[n] else "st-default"
        else:
            name = "percpos-k3-triplet-keep"
        out[n] = {"positives_per_anchor": per_anchor, "method": method.spec, "set": name}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("run", "import", "tables", "plan", "same-sets", "across", "not-fine-tuned"))
    p.add_argument("--name", default="scifact", help="dataset name (results folder)")
    p.add_argument("--data", default=str(Q.DATA), help="BEIR folder with qrels/train.tsv and the eval split")
    p.add_argument("--eval-split", default="dev")
    p.add_argument("--names", default="scifact,cranfield,cisi", help="across: the datasets, comma-separated")
    p.add_argument("--datas", help="across: their BEIR folders, comma-separated (default: see data_dirs)")
    p.add_argument("--sets", help=f"comma-separated, of: {', '.join(SETS)} (same-sets: two of them)")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seed-major", action="store_true", help="every set's seed 0 first, then seed 1, ...")
    p.add_argument("--threads", type=int, default=1, help="torch threads for training and evaluation")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-seq-length", type=int, default=64)
    p.add_argument("--mpnet", default=str(MPNET_DEFAULT))
    p.add_argument(
        "--require-cached",
        action="store_true",
        help="stop instead of encoding when a dense teacher's embeddings are not cached",
    )
    args = p.parse_args()
    if args.command == "run":
        command_run(args)
    elif args.command == "import":
        command_import(args)
    elif args.command == "tables":
        command_tables(args)
    elif args.command == "same-sets":
        command_same_sets(args)
    elif args.command == "across":
        command_across(args)
    elif args.command == "not-fine-tuned":
        command_not_fine_tuned(args)
    else:
        for name, seed in plan(args):
            print(name, seed)


if __name__ == "__main__":
    main()
