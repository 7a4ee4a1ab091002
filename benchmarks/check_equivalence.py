"""Do st-hardneg's selections and sentence-transformers' mine_hard_negatives pick the same negatives on SciFact?

Uses the pool and the warm ST embedding cache that benchmarks/mining_speed.py leaves in benchmarks/cache/.
Usage: python benchmarks/check_equivalence.py  -> benchmarks/results/equivalence.json
For each "top" configuration of mining_speed.CONFIGS: over the (anchor, positive) rows both tools output, the share
of rows whose 4 negatives are the same set, and how many rows each outputs.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mining_speed as S  # noqa: E402


def main() -> None:
    from sentence_transformers.util.hard_negatives import mine_hard_negatives

    from st_hardneg import CandidatePool

    pairs, corpus = S.load_data()
    model, _ = S.load_model()
    pool = CandidatePool.load(S.POOL)
    out = []
    for name, method, sampling, kwargs in S.CONFIGS:
        if sampling != "top":
            continue
        ours = pool.select(
            method, num_negatives=S.NUM_NEG, positive_score="min", on_short="drop", seed=0, show_progress=False
        )
        st = mine_hard_negatives(
            pairs,
            model,
            corpus=corpus,
            range_max=S.DEPTH,
            num_negatives=S.NUM_NEG,
            output_format="n-tuple",
            cache_folder=str(S.ST_CACHE),
            verbose=False,
            **kwargs,
        )
        neg = [f"negative_{i}" for i in range(1, S.NUM_NEG + 1)]

        def rows(ds, neg=neg):
            return {(r["anchor"], r["positive"]): frozenset(r[c] for c in neg) for r in ds}

        a, b = rows(ours), rows(st)
        common = set(a) & set(b)
        same = sum(a[k] == b[k] for k in common)
        out.append(
            {
                "name": name,
                "ours_rows_drop_mode": len(ours),
                "st_rows": len(st),
                "common_rows": len(common),
                "same_negative_set": same,
                "only_ours": len(set(a) - set(b)),
                "only_st": len(set(b) - set(a)),
            }
        )
        print(out[-1], flush=True)
    (S.RESULTS / "equivalence.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
