"""Mine once, select many: compare NV-Retriever's methods on one candidate pool without encoding again.

python examples/select_many.py                      # the embedded default, all-MiniLM-L6-v2
python examples/select_many.py ../shared/data/scifact  # a BEIR folder (train split)
"""

from __future__ import annotations

import sys

from st_hardneg import CandidatePool, NaiveTopK, TopKAbs, TopKMarginPos, TopKPercPos, TopKShifted
from st_hardneg.data import load_default, load_pairs
from st_hardneg.teachers import load_sentence_transformer


def main() -> None:
    pairs, corpus = load_pairs(sys.argv[1], split="train") if len(sys.argv) > 1 else load_default()
    teacher = load_sentence_transformer("sentence-transformers/all-MiniLM-L6-v2")
    pool = CandidatePool.build(pairs, teacher, corpus=corpus, depth=50, seed=0)

    print(f"{'method':<32} {'rows':>5} {'removed':>8} {'filled':>7} {'dropped':>8} {'neg mean':>9} {'margin p05':>11}")
    for method in [NaiveTopK(), TopKShifted(10), TopKAbs(0.7), TopKMarginPos(0.05), TopKPercPos(0.95)]:
        s = pool.select(method, num_negatives=4, seed=0, show_progress=False, return_statistics=True).statistics
        print(
            f"{method!s:<32} {s.rows_out:>5} {s.removed_by_method:>8} {s.negatives_filled:>7} {s.rows_dropped:>8} "
            f"{s.negative_scores.mean:>9.3f} {s.margins.p05:>11.3f}"
        )


if __name__ == "__main__":
    main()
