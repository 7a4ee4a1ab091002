"""Render the example dataset card in hub_cards/: the embedded default mined with all-MiniLM-L6-v2.

python examples/render_card.py      # -> hub_cards/example-default-topk-percpos.md
"""

from __future__ import annotations

from pathlib import Path

from st_hardneg import CandidatePool, TopKPercPos
from st_hardneg.data import load_default
from st_hardneg.eci import compute_eci
from st_hardneg.hub import MinedDatasetCard
from st_hardneg.teachers import load_sentence_transformer


def main() -> None:
    pairs, corpus = load_default()
    model = load_sentence_transformer("sentence-transformers/all-MiniLM-L6-v2")
    pool = CandidatePool.build(pairs, model, corpus=corpus, depth=50, seed=0, show_progress=False)
    result = pool.select(
        TopKPercPos(0.95), num_negatives=4, sampling="top1_sampled", seed=0, show_progress=False, return_statistics=True
    )
    card = MinedDatasetCard.from_selection(
        result,
        pool,
        source="the st-hardneg embedded example (63 pairs, 161 passages)",
        license="apache-2.0",
        language="en",
        eci_report=compute_eci(result.dataset, model, show_progress=False),
    )
    out = Path(__file__).resolve().parents[1] / "hub_cards" / "example-default-topk-percpos.md"
    card.save(out)
    print(out)


if __name__ == "__main__":
    main()
