"""Scale check on synthetic data: memory stays bounded by chunk sizes, not by queries x corpus.

    python benchmarks/scale_synthetic.py search   # exact top-k, 20k queries x 200k docs x 384 dims
    python benchmarks/scale_synthetic.py select   # selection + n-tuple formatting, 1M rows, depth 100

Each part runs in its own process so ``ru_maxrss`` (peak resident memory) belongs to that part alone. Results are
printed as JSON and written to benchmarks/results/scale_<part>.json.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def search() -> dict:
    from st_hardneg.teachers.search import exact_topk

    g = np.random.default_rng(0)
    nq, nd, dim, k = 20_000, 200_000, 384, 100
    q = g.standard_normal((nq, dim), dtype=np.float32)
    d = g.standard_normal((nd, dim), dtype=np.float32)
    base = peak_rss_mib()
    t = time.perf_counter()
    idx, _ = exact_topk(q, d, k, query_chunk_size=1024, corpus_chunk_size=65536)
    seconds = time.perf_counter() - t
    return {
        "part": "search",
        "queries": nq,
        "corpus": nd,
        "dim": dim,
        "k": k,
        "query_chunk_size": 1024,
        "corpus_chunk_size": 65536,
        "seconds": round(seconds, 1),
        "peak_rss_mib_inputs_loaded": round(base),
        "peak_rss_mib": round(peak_rss_mib()),
        "full_matrix_would_need_mib": round(nq * nd * 4 / 2**20),
        "checksum": int(idx[:, 0].sum()),
    }


def select() -> dict:
    import pyarrow as pa

    from st_hardneg import CandidatePool, TopKPercPos
    from st_hardneg.pool import PoolStatistics, TeacherCandidates
    from st_hardneg.settings import PoolSettings

    g = np.random.default_rng(0)
    rows, corpus_size, depth = 1_000_000, 1_000_000, 100
    corpus = pa.array([f"document {i} " + "lorem ipsum " * 8 for i in range(corpus_size)], type=pa.large_string())
    queries = pa.array([f"query {i}" for i in range(rows)], type=pa.large_string())
    scores = np.sort(g.random((rows, depth), dtype=np.float32), axis=1)[:, ::-1].copy()
    tc = TeacherCandidates(
        name="synthetic",
        config={"type": "synthetic"},
        candidates=g.integers(0, corpus_size, (rows, depth), dtype=np.int32),
        scores=scores,
        positive_scores=(0.5 + 0.5 * g.random(rows, dtype=np.float32)),
        random_candidates=g.integers(0, corpus_size, (rows, 16), dtype=np.int32),
        random_scores=g.random((rows, 16), dtype=np.float32) * 0.3,
        min_positive_scores=np.zeros(rows, dtype=np.float32),
    )
    pool = CandidatePool(
        queries,
        corpus,
        np.arange(rows),
        g.integers(0, corpus_size, rows),
        np.arange(rows + 1),
        np.arange(rows),
        {"synthetic": tc},
        {"settings": PoolSettings(depth=depth, anchor_column="anchor", positive_column="positive").to_dict()},
        PoolStatistics(rows, rows, corpus_size, 0, 0, 0),
    )
    base = peak_rss_mib()
    t = time.perf_counter()
    res = pool.select(TopKPercPos(0.95), num_negatives=4, seed=0, show_progress=False, return_statistics=True)
    seconds = time.perf_counter() - t
    arrays = (tc.candidates, tc.scores, tc.random_candidates, tc.random_scores)
    arrays_mib = sum(a.nbytes for a in arrays) / 2**20
    return {
        "part": "select",
        "rows": rows,
        "corpus": corpus_size,
        "depth": depth,
        "num_negatives": 4,
        "seconds": round(seconds, 1),
        "rows_out": res.statistics.rows_out,
        "negatives_filled": res.statistics.negatives_filled,
        "pool_arrays_mib": round(arrays_mib),
        "peak_rss_mib_pool_loaded": round(base),
        "peak_rss_mib": round(peak_rss_mib()),
        "output_arrow_mib": round(res.dataset.data.nbytes / 2**20),
    }


if __name__ == "__main__":
    part = sys.argv[1] if len(sys.argv) > 1 else "search"
    result = {"search": search, "select": select}[part]()
    out = Path(__file__).parent / "results" / f"scale_{part}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
