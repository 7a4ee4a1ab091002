"""CrossEncoderJudge: a candidate scoring close to or above the positive becomes a positive, one below it that the
cross-encoder still scores as an answer is filtered (RocketQA-style denoising), no stage-1 text. Checked with a
scorer whose scores are written in the test, and with a tiny randomly initialised CrossEncoder built in the test
against its own ``predict``."""

from __future__ import annotations

import numpy as np
import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.relabel import ARHN, CrossEncoderJudge
from tests.relabel.test_arhn import labels_by_text

# Raw scores (activation "none"), threshold 0.5, margin 0.1. Min positive: q0 .6 (p1), q1 .95, q2 .2.
SCORES = {
    ("q0", "p0"): 0.8, ("q0", "p1"): 0.6,
    ("q0", "c0"): 0.65,  # above the lowest positive -> relabeled
    ("q0", "c1"): 0.55,  # .55 + .1 >= .6: within the margin -> relabeled
    ("q0", "c2"): 0.45,  # below, under the threshold -> negative
    ("q0", "c3"): 0.48,  # below, under the threshold -> negative
    ("q1", "p2"): 0.95,
    ("q1", "c1"): 0.9,  # within the margin -> relabeled
    ("q1", "c5"): 0.7,  # below, >= .5 -> filtered
    ("q1", "c6"): 0.3,  # negative
    ("q1", "c0"): 0.84,  # .94 < .95: below, >= .5 -> filtered
    ("q2", "p3"): 0.2,
    ("q2", "c2"): 0.1,  # .1 + .1 == .2: a tie goes to the candidate -> relabeled
    ("q2", "c7"): -0.5, ("q2", "c3"): 0.05,
}  # fmt: skip
EXPECTED = {
    ("q0", "c0"): "relabeled", ("q0", "c1"): "relabeled", ("q0", "c2"): "negative", ("q0", "c3"): "negative",
    ("q1", "c1"): "relabeled", ("q1", "c5"): "filtered", ("q1", "c6"): "negative", ("q1", "c0"): "filtered",
    ("q2", "c2"): "relabeled", ("q2", "c7"): "negative", ("q2", "c3"): "negative",
}  # fmt: skip


class TableScorer:
    """Anything with ``predict(pairs)``; counts the pairs it scores."""

    def __init__(self):
        self.scored = []

    def predict(self, pairs):
        self.scored.extend(map(tuple, pairs))
        return np.array([SCORES[tuple(p)] for p in pairs])


def test_scores_close_to_or_above_the_positive_relabel_and_confident_ones_below_filter(pool, tmp_path):
    scorer = TableScorer()
    judge = CrossEncoderJudge(scorer, threshold=0.5, margin=0.1, activation="none")
    judgments = pool.relabel(ARHN(judge, candidates=4, cache_folder=tmp_path), show_progress=False)
    assert labels_by_text(pool, judgments) == EXPECTED
    assert len(scorer.scored) == len(set(scorer.scored)) == 11 + 4  # each pair scored once, both stages
    rows = judgments.to_dataset(pool).to_list()
    assert all(r["snippet"] is None for r in rows)  # no stage-1 text
    counts = judgments.statistics.by_mode["both"]
    assert (counts["relabeled"], counts["filtered"], counts["negative"]) == (4, 2, 5)


def test_sigmoid_scores_and_the_threshold():
    class Logits:
        def predict(self, pairs):
            return np.array([0.0, 3.0])  # sigmoid .5 and .953

    judge = CrossEncoderJudge(Logits(), threshold=0.9)
    assert [a.status for a in judge.answer(["q", "q"], ["a", "b"])] == ["no answer", "answer"]
    assert judge.answer(["q"], ["b"])[0].raw == pytest.approx(1 / (1 + np.exp(-3.0)))


def build_tiny_cross_encoder(folder, texts):
    import re

    from sentence_transformers import CrossEncoder
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = sorted({w.lower() for t in texts for w in re.findall(r"\w+|[^\w\s]", t)})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    tokenizer.save_pretrained(folder)
    import torch

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=512, num_labels=1, initializer_range=0.5,  # varied scores from random weights
    )  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(folder)
    return CrossEncoder(str(folder), device="cpu")


@pytest.mark.slow
def test_a_tiny_cross_encoder_decides_by_its_own_scores(tmp_path):
    pairs, corpus = load_default()
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=5, show_progress=False)
    ce = build_tiny_cross_encoder(tmp_path / "ce", list(corpus) + list(pairs["anchor"]))
    queries, docs = pool.queries.to_pylist(), pool.corpus.to_pylist()
    top = pool.teacher_candidates().candidates[:, :3]
    score = {}
    for qi, q in enumerate(queries):
        ids = [int(d) for d in top[qi] if d >= 0]
        ids += pool.positives_indices[pool.positives_indptr[qi] : pool.positives_indptr[qi + 1]].tolist()
        values = ce.predict([(q, docs[d]) for d in ids], show_progress_bar=False)  # sigmoid by default
        score.update({(qi, d): float(v) for d, v in zip(ids, values)})
    candidate_scores = [v for (qi, d), v in score.items() if d in set(top[qi].tolist())]
    threshold, margin = float(np.median(candidate_scores)), 0.1 * float(np.std(candidate_scores))
    judge = CrossEncoderJudge(ce, threshold=threshold, margin=margin)
    judgments = pool.relabel(ARHN(judge, candidates=3, cache_folder=tmp_path / "cache"), show_progress=False)
    labels = judgments.to_dataset(pool).to_list()
    checked = 0
    for qi, q in enumerate(queries):
        pos = pool.positives_indices[pool.positives_indptr[qi] : pool.positives_indptr[qi + 1]]
        lowest = min(score[(qi, int(d))] for d in pos)
        for d in (int(d) for d in top[qi] if d >= 0):
            s = score[(qi, d)]
            expected = "relabeled" if s + margin >= lowest else "filtered" if s >= threshold else "negative"
            got = next(r["label"] for r in labels if r["query"] == q and r["passage"] == docs[d])
            assert got == expected, (q, docs[d], s, lowest)
            checked += 1
    counts = judgments.statistics.by_mode["both"]
    assert checked > 100 and counts["relabeled"] > 0 and counts["filtered"] > 0 and counts["negative"] > 0
    assert judgments.config["judge"]["type"] == "cross-encoder"
