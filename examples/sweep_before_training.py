"""Choose a mining configuration before training: score every combination from one pool, keep short rows by
searching their anchors deeper, and mine with the best.

python examples/sweep_before_training.py                        # the embedded default, all-MiniLM-L6-v2
python examples/sweep_before_training.py ../shared/data/scifact  # a BEIR folder (train split)
"""

from __future__ import annotations

import sys

from st_hardneg import CandidatePool
from st_hardneg.data import load_default, load_pairs
from st_hardneg.teachers import load_sentence_transformer


def main() -> None:
    pairs, corpus = load_pairs(sys.argv[1], split="train") if len(sys.argv) > 1 else load_default()
    teacher = load_sentence_transformer("sentence-transformers/all-MiniLM-L6-v2")
    pool = CandidatePool.build(pairs, teacher, corpus=corpus, depth=50, seed=0)

    sweep = pool.sweep(
        methods=["naive-topk", "topk-shifted:10", "topk-marginpos:0.05", "topk-percpos:0.9", "topk-percpos:0.95"],
        num_negatives=[2],  # S_n, the ranking, compares sets with the same number of negatives
        on_short="deepen",  # short rows get the hardest documents within the bound, not random ones
        show_progress=False,
    )
    print(sweep.to_markdown())
    print(f"{len(sweep)} configurations in {sweep.seconds:.2f} s; best: {sweep.best().method.spec}")

    result = pool.select(sweep.best(), return_statistics=True, show_progress=False)
    s = result.statistics
    print(f"{s.rows_out} rows; {s.rows_deepened} searched deeper (depths {s.deepened_depths}), {s.rows_filled} filled")


if __name__ == "__main__":
    main()
