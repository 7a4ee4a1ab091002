"""Mine hard negatives, score them with ECI before training, then fine-tune with MultipleNegativesRankingLoss.

python examples/mine_score_train.py        # embedded default data, all-MiniLM-L6-v2, one short epoch on CPU
"""

from __future__ import annotations

from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from st_hardneg import TopKPercPos, mine_hard_negatives
from st_hardneg.data import load_default
from st_hardneg.eci import compare_eci
from st_hardneg.teachers import load_sentence_transformer


def main() -> None:
    pairs, corpus = load_default()
    model = load_sentence_transformer("sentence-transformers/all-MiniLM-L6-v2")

    naive = mine_hard_negatives(pairs, model, corpus=corpus, method="naive-topk", num_negatives=4, seed=0)
    result = mine_hard_negatives(
        pairs, model, corpus=corpus, method=TopKPercPos(0.95), num_negatives=4, seed=0, return_statistics=True
    )
    print(result.statistics.rows_out, "rows;", result.statistics.removed_by_method, "candidates removed")
    print(compare_eci({"naive-topk": naive, "topk-percpos-0.95": result.dataset}, model).to_markdown())

    args = SentenceTransformerTrainingArguments(
        output_dir="runs/example",
        num_train_epochs=1,
        per_device_train_batch_size=16,
        learning_rate=2e-5,
        report_to=[],
        save_strategy="no",
        seed=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=result.dataset, loss=MultipleNegativesRankingLoss(model)
    )
    trainer.train()


if __name__ == "__main__":
    main()
