"""Render the example Hub folders in hub_cards/: the embedded default mined with all-MiniLM-L6-v2.

python examples/render_card.py

- hub_cards/default-minilm/: what ``push_to_hub`` would push for two configurations selected from one pool,
  Naive Top-K and TopK-PercPos 95% (NV-Retriever's Figure 1 pair): parquet data, README.md (the card),
  mining_config.json and the score histograms. ECI is scored with the teacher.
- hub_cards/default-minilm-pool/README.md: the card ``pool.push_to_hub`` writes for that pool (the arrays are
  left out here).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.hub import save_for_hub, save_pool_for_hub
from st_hardneg.hub.source import DEFAULT_SOURCE
from st_hardneg.teachers import load_sentence_transformer

HUB_CARDS = Path(__file__).resolve().parents[1] / "hub_cards"


def main() -> None:
    pairs, corpus = load_default()
    model = load_sentence_transformer("sentence-transformers/all-MiniLM-L6-v2")
    pool = CandidatePool.build(pairs, model, corpus=corpus, depth=50, seed=0, show_progress=False)
    pool.config["source"] = DEFAULT_SOURCE.to_dict()  # what the st-hardneg command records
    selections = [
        pool.select(spec, num_negatives=4, sampling="top1_sampled", seed=0, show_progress=False, return_statistics=True)
        for spec in ("naive-topk", "topk-percpos:0.95")
    ]
    out = HUB_CARDS / "default-minilm"
    save_for_hub(selections, out, pool=pool, language="en", eci_model=model, overwrite=True, show_progress=False)
    print(out)
    with tempfile.TemporaryDirectory() as tmp:
        save_pool_for_hub(pool, Path(tmp) / "pool", language="en")
        (HUB_CARDS / "default-minilm-pool").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(tmp) / "pool" / "README.md", HUB_CARDS / "default-minilm-pool" / "README.md")
    print(HUB_CARDS / "default-minilm-pool" / "README.md")


if __name__ == "__main__":
    main()
