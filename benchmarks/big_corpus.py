"""A pool built over a large on-disk corpus given as a ``datasets.Dataset`` (Arrow, memory-mapped): peak memory
against the documented bound (issue 18, item 8).

    python benchmarks/big_corpus.py --docs 2000000 --anchors 5000          # about 10-20 min on 2 shared cores
    python benchmarks/big_corpus.py --docs 200000 --anchors 2000 --engine memory

Synthetic data (``prepare``, cached in benchmarks/cache/big_corpus): a vocabulary of 20,000 words ``w0 ...``;
document ``i`` (id ``doc{i}``, a title of 2 words and a text of 12) draws its words from topic ``i % 2000``'s 200
words; anchor ``j`` is 5 words of its positive document (a random one). The corpus is written with
``Dataset.save_to_disk`` and read back with ``load_from_disk`` (memory-mapped), and the corpus passed to
``CandidatePool.build`` is that Dataset: ids and titles are read from its columns.

The teacher is a tiny random dense teacher (:class:`BagOfWordsEncoder`, standing in for a SentenceTransformer): a
text's embedding is the normalised sum of fixed random 64-dimension vectors of its words (cosine similarity), so
encoding costs a dictionary lookup per word and the build runs every stage of a dense teacher (sharded encode,
search, merge, assembly). ``--engine local`` (default) is the sharded build (``work_dir``), whose extra memory
``st_hardneg.engines.memory_bound`` bounds; ``--engine memory`` builds in this process.

The build runs in a fresh process; its peak RSS (``VmHWM``, reset after the inputs are opened) is compared with
the RSS before the build plus the bound. Result: benchmarks/results/big_corpus_<docs>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's st_hardneg, whatever is installed
CACHE = ROOT / "benchmarks" / "cache" / "big_corpus"
RESULTS = ROOT / "benchmarks" / "results"
VOCAB, TOPICS, TOPIC_WORDS, DIM = 20_000, 2_000, 200, 64
DEPTH, NUM_RANDOM = 100, 16


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


class BagOfWordsEncoder:
    """Stands in for a SentenceTransformer: a text's embedding is the normalised sum of its words' fixed random
    vectors (the words are ``w<number>``)."""

    similarity_fn_name = "cosine"
    prompts: dict = {}

    def __init__(self, seed: int = 0) -> None:
        table = np.random.default_rng(seed).standard_normal((VOCAB, DIM), dtype=np.float32)
        self.table = table / np.linalg.norm(table, axis=1, keepdims=True)

    def _encode(self, texts, **kwargs) -> np.ndarray:
        words = [text.split() for text in texts]
        counts = np.fromiter((len(w) for w in words), np.int64, len(words))
        ids = np.fromiter((int(w[1:]) for ws in words for w in ws), np.int64, int(counts.sum()))
        sums = np.add.reduceat(self.table[ids], np.concatenate([[0], np.cumsum(counts)[:-1]]), axis=0)
        return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)

    encode_query = encode_document = _encode


def corpus_dir(docs: int) -> Path:
    return CACHE / f"corpus_{docs}"


def prepare(docs: int, anchors: int) -> tuple[Path, Path]:
    """Write the corpus Dataset and the pairs (cached); return their folders."""
    import datasets

    folder, pairs_folder = corpus_dir(docs), CACHE / f"pairs_{docs}_{anchors}"
    g = np.random.default_rng(0)
    topic_words = g.integers(0, VOCAB, (TOPICS, TOPIC_WORDS))

    def texts(start: int, stop: int, words: int, salt: int) -> list[str]:
        r = np.random.default_rng([salt, start])
        idx = np.arange(start, stop)
        chosen = topic_words[(idx % TOPICS)[:, None], r.integers(0, TOPIC_WORDS, (len(idx), words))]
        return [" ".join(f"w{w}" for w in row) for row in chosen]

    if not (folder / "state.json").exists():
        parts = []
        for start in range(0, docs, 200_000):
            stop = min(start + 200_000, docs)
            parts.append(datasets.Dataset.from_dict({
                "_id": [f"doc{i}" for i in range(start, stop)],
                "title": texts(start, stop, 2, 1),
                "text": texts(start, stop, 12, 2),
            }))  # fmt: skip
        datasets.concatenate_datasets(parts).save_to_disk(str(folder))
        del parts
    if not (pairs_folder / "state.json").exists():
        corpus = datasets.load_from_disk(str(folder))
        positives = np.sort(g.choice(docs, anchors, replace=False))
        rows = corpus.select(positives)
        documents = [f"{t} {x}" for t, x in zip(rows["title"], rows["text"], strict=True)]
        r = np.random.default_rng(3)
        datasets.Dataset.from_dict({
            "anchor_id": [f"q{j}" for j in range(anchors)],
            "anchor": [" ".join(r.choice(d.split(), 5, replace=False)) for d in documents],
            "positive_id": rows["_id"],
            "positive": documents,
        }).save_to_disk(str(pairs_folder))  # fmt: skip
    return folder, pairs_folder


def phase_build(args) -> dict:
    """The build, in its own process: inputs opened (memory-mapped), peak reset, pool built."""
    import logging

    import datasets

    logging.basicConfig(level=logging.WARNING)
    from st_hardneg import CandidatePool
    from st_hardneg.engines import memory_bound
    from st_hardneg.teachers import DenseTeacher

    corpus = datasets.load_from_disk(args.corpus)
    pairs = datasets.load_from_disk(args.pairs)
    teacher = DenseTeacher(BagOfWordsEncoder(), batch_size=4096)
    engine: dict = {}
    work = CACHE / "work"
    if args.engine == "local":
        shutil.rmtree(work, ignore_errors=True)
        engine = {"work_dir": str(work)}
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    t = time.perf_counter()
    pool = CandidatePool.build(
        pairs, teacher, corpus=corpus, depth=DEPTH, num_random=NUM_RANDOM, show_progress=False, **engine
    )
    seconds = time.perf_counter() - t
    peak = _status("VmHWM")
    bound = memory_bound(anchors=len(pool.queries), rows=len(pool), dim=DIM, depth=DEPTH, num_random=NUM_RANDOM)
    bound_mib = {k: round(v / 2**20) for k, v in bound.items()}
    result = {
        "engine": args.engine,
        "docs": len(corpus),
        "anchors": len(pool.queries),
        "pool_corpus": len(pool.corpus),
        "build_s": round(seconds, 1),
        "rss_mib_before_build": round(before),
        "peak_rss_mib_during_build": round(peak),
        "documented_bound_mib": bound_mib,
        "bound_with_inputs_mib": round(before) + bound_mib["total"],
        "within_bound": peak <= before + bound_mib["total"],
        "ids_kept": pool.input_columns is not None and pool.input_columns.corpus_ids is not None,
        "corpus_on_disk_mib": round(sum(f.stat().st_size for f in Path(args.corpus).glob("*.arrow")) / 2**20),
    }
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, default=2_000_000)
    p.add_argument("--anchors", type=int, default=5_000)
    p.add_argument("--engine", choices=["local", "memory"], default="local")
    p.add_argument("--child", action="store_true")
    p.add_argument("--corpus")
    p.add_argument("--pairs")
    p.add_argument("--out")
    args = p.parse_args()
    if args.child:
        Path(args.out).write_text(json.dumps(phase_build(args)))
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    corpus, pairs = prepare(args.docs, args.anchors)
    prepare_s = time.perf_counter() - t
    out = CACHE / f"out_{os.getpid()}.json"
    cmd = [sys.executable, __file__, "--child", "--corpus", str(corpus), "--pairs", str(pairs), "--out", str(out),
           "--engine", args.engine]  # fmt: skip
    load_before = list(os.getloadavg())
    subprocess.run(cmd, check=True)
    result = {
        "command": " ".join(["python", "benchmarks/big_corpus.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, no GPU",
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "loadavg_before": load_before,
        "loadavg_after": list(os.getloadavg()),
        "prepare_s": round(prepare_s, 1),
        "teacher": f"BagOfWordsEncoder (random {DIM}-dimension word vectors, cosine) in a DenseTeacher",
        **json.loads(out.read_text()),
    }
    out.unlink()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"big_corpus_{args.docs}_{args.engine}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
