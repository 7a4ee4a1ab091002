"""What a relabeled pool's judgments cost a selection, on synthetic data (no judge is run: judgments are drawn).

    python benchmarks/relabel_selection.py

200,000 anchors with one positive each, depth 100, 1,000,000 documents; judgments for the top 20 candidates of every
anchor (4,000,000 candidate rows, plus the positives), with random ranks and answers. The same pool is selected
with the judgments off, applied ("both"; looking up the judged teacher's top 20 columns, and every column as for
another teacher of the pool), and with relabeled positives added as rows (random ranks put about half the judged
candidates above the positive: 2 million extra rows, a stress case). Results are printed as JSON and
written to benchmarks/results/relabel_selection.json with the machine's load.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_pool(rows: int, corpus_size: int, depth: int):
    import pyarrow as pa

    from st_hardneg import CandidatePool
    from st_hardneg.pool import PoolStatistics, TeacherCandidates
    from st_hardneg.settings import PoolSettings

    g = np.random.default_rng(0)
    corpus = pa.array([f"document {i}" for i in range(corpus_size)], type=pa.large_string())
    queries = pa.array([f"query {i}" for i in range(rows)], type=pa.large_string())
    scores = np.sort(g.random((rows, depth), dtype=np.float32), axis=1)[:, ::-1].copy()
    tc = TeacherCandidates(
        name="synthetic",
        config={"type": "synthetic"},
        # distinct ids per anchor, as in a built pool (9973 is prime to the range, so no repeat within a row)
        candidates=(
            rows + (g.integers(0, corpus_size, (rows, 1)) + 9973 * np.arange(depth)) % (corpus_size - rows)
        ).astype(np.int32),
        scores=scores,
        positive_scores=(0.5 + 0.5 * g.random(rows, dtype=np.float32)),
        random_candidates=g.integers(rows, corpus_size, (rows, 16), dtype=np.int32),
        random_scores=g.random((rows, 16), dtype=np.float32) * 0.3,
        min_positive_scores=np.zeros(rows, dtype=np.float32),
    )
    return CandidatePool(
        queries,
        corpus,
        np.arange(rows),
        np.arange(rows),  # positive of anchor i: document i (never among the candidates)
        np.arange(rows + 1),
        np.arange(rows),
        {"synthetic": tc},
        {"settings": PoolSettings(depth=depth, anchor_column="anchor", positive_column="positive").to_dict()},
        PoolStatistics(rows, rows, corpus_size, 0, 0, 0),
    )


def synthetic_judgments(pool, candidates: int):
    """Each anchor's top ``candidates`` and its positive in one random ranking; answers drawn 1 in 3."""
    import pyarrow as pa

    from st_hardneg.relabel.judgments import Judgments, reference_ranks

    g = np.random.default_rng(1)
    rows = len(pool.queries)
    width = candidates + 1
    top = np.asarray(pool.teacher_candidates().candidates[:, :candidates], dtype=np.int32)
    documents = np.concatenate([top, np.arange(rows, dtype=np.int32)[:, None]], axis=1)
    ranks = np.argsort(g.random((rows, width)), axis=1).astype(np.int16)
    is_positive = np.zeros((rows, width), dtype=bool)
    is_positive[:, -1] = True
    answer = np.where(g.random((rows, width)) < 1 / 3, 1, 2).astype(np.int8)  # "answer" / "no answer"
    answer[is_positive] = 0
    query = np.repeat(np.arange(rows, dtype=np.int32), width)
    position = np.tile(np.append(np.arange(candidates), -1).astype(np.int16), rows)
    rank_status = np.zeros(rows * width, dtype=np.int8)
    judgments = Judgments(
        query=query,
        document=documents.ravel(),
        is_positive=is_positive.ravel(),
        position=position,
        rank=ranks.ravel(),
        positive_rank=reference_ranks(query, is_positive.ravel(), ranks.ravel(), rank_status),
        rank_status=rank_status,
        answer=answer.ravel(),
        snippet=pa.nulls(rows * width, type=pa.large_string()),
        mode="both",
        config={"method": "ARHN", "teacher": "synthetic"},
    )
    return judgments


def main() -> dict:
    from st_hardneg import TopKPercPos

    rows, corpus_size, depth, candidates = 200_000, 1_000_000, 100, 20
    pool = synthetic_pool(rows, corpus_size, depth)
    t = time.perf_counter()
    pool.judgments = synthetic_judgments(pool, candidates)
    make_s = time.perf_counter() - t
    base = peak_rss_mib()
    results = []
    for label, kwargs in (
        ("judgments off", {"relabel_mode": "off"}),
        ("judgments applied (both)", {}),
        ("judgments applied, judged through another teacher (every column looked up)", {}),
        ("relabeled positives as rows", {"relabeled_output": "rows"}),
    ):
        pool.judgments.config["teacher"] = "another" if "another teacher" in label else "synthetic"
        t = time.perf_counter()
        res = pool.select(
            TopKPercPos(0.95), num_negatives=4, seed=0, show_progress=False, return_statistics=True, **kwargs
        )
        s = res.statistics
        results.append(
            {
                "selection": label,
                "seconds": round(time.perf_counter() - t, 2),
                "rows_out": s.rows_out,
                "excluded_relabeled": s.excluded_relabeled,
                "excluded_filtered": s.excluded_filtered,
                "relabeled_rows": s.relabeled_rows,
                "peak_rss_mib": round(peak_rss_mib()),
            }
        )
    return {
        "rows": rows,
        "corpus": corpus_size,
        "depth": depth,
        "judged_candidates_per_anchor": candidates,
        "judgment_rows": len(pool.judgments),
        "judgments_mib": round(pool.judgments.to_table().nbytes / 2**20),
        "seconds_to_make_judgments": round(make_s, 2),
        "peak_rss_mib_pool_and_judgments_loaded": round(base),
        "selections": results,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
    }


if __name__ == "__main__":
    result = main()
    out = Path(__file__).parent / "results" / "relabel_selection.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
