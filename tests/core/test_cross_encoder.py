"""The cross-encoder teacher, with a tiny randomly initialised sentence-transformers ``CrossEncoder`` built here
(a 1-layer, 16-wide BERT with a word-level vocabulary; its scores mean nothing, but they are not the first stage's):
the cross-encoder's scores rank the candidates, score the positives and decide every method's bound; each
(anchor, document) pair is predicted once; raw logits or a sigmoid; the model loads after the inputs are checked."""

from __future__ import annotations

import numpy as np
import pytest
from datasets import Dataset

from st_hardneg import CandidatePool, NaiveTopK, TopKPercPos
from st_hardneg.teachers import BM25Teacher, CrossEncoderTeacher

CORPUS = [
    "statins lower cholesterol",
    "statins block an enzyme in the liver",
    "cholesterol drugs lower heart disease",
    "the liver makes cholesterol",
    "heart disease and cholesterol",
    "paris is the capital of france",
    "the eiffel tower is in paris",
    "the seine river is in paris",
    "the louvre museum is in paris",
    "aspirin thins blood",
    "cats purr and dogs bark",
    "cats sleep",
    "dogs bark at cats",
]
PAIRS = {
    "anchor": ["statins cholesterol liver", "paris museum tower", "cats dogs"],
    "positive": ["statins lower cholesterol", "the eiffel tower is in paris", "cats purr and dogs bark"],
}


@pytest.fixture(scope="module")
def tiny_cross_encoder_path(tmp_path_factory):
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-cross-encoder")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(" ".join(CORPUS + PAIRS["anchor"]).split()))]
    words = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    words.normalizer = normalizers.Lowercase()
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    words.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=words, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]",
    )  # fmt: skip
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=1,
        initializer_range=0.4,  # scores spread enough to reorder the first stage's candidates
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def cross_encoder(tiny_cross_encoder_path):
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(tiny_cross_encoder_path), device="cpu")


def raw(cross_encoder, pairs):
    import torch

    return cross_encoder.predict(pairs, activation_fn=torch.nn.Identity(), show_progress_bar=False)


def test_the_cross_encoders_scores_rank_the_candidates_and_score_the_positives(cross_encoder):
    teacher = CrossEncoderTeacher(cross_encoder, first_stage="bm25", activation="raw")
    pool = CandidatePool.build(Dataset.from_dict(PAIRS), teacher, corpus=CORPUS, depth=4, show_progress=False)
    tc = pool.teachers[teacher.name]
    bm25 = CandidatePool.build(Dataset.from_dict(PAIRS), "bm25", corpus=CORPUS, depth=4, show_progress=False)
    corpus, queries = pool.corpus.to_pylist(), pool.queries.to_pylist()
    reordered = False
    for q, anchor in enumerate(queries):
        first_stage = [i for i in bm25.teachers["bm25"].candidates[q] if i >= 0]
        got = [i for i in tc.candidates[q] if i >= 0]
        assert sorted(got) == sorted(first_stage)  # the same candidates (depth = the pool's), re-ranked
        scores = raw(cross_encoder, [(anchor, corpus[i]) for i in got])
        np.testing.assert_allclose(tc.scores[q][: len(got)], scores, rtol=1e-5, atol=1e-6)
        assert (np.diff(scores) <= 1e-6).all()  # highest cross-encoder score first
        reordered |= got != first_stage
    assert reordered  # the cross-encoder's order is not BM25's
    positives = raw(cross_encoder, list(zip(PAIRS["anchor"], PAIRS["positive"])))
    np.testing.assert_allclose(tc.positive_scores, positives, rtol=1e-5, atol=1e-6)


def test_its_scores_not_the_first_stages_decide_the_bounds(cross_encoder):
    teacher = CrossEncoderTeacher(cross_encoder, first_stage="bm25", activation="raw")
    pool = CandidatePool.build(Dataset.from_dict(PAIRS), teacher, corpus=CORPUS, depth=6, show_progress=False)
    method = TopKPercPos(0.99)
    result = pool.select(method, num_negatives=2, output_format="triplet", show_progress=False, return_statistics=True)
    ds = result.dataset
    assert len(ds) > 0
    kept = raw(cross_encoder, list(zip(ds["anchor"], ds["negative"])))
    pos = raw(cross_encoder, list(zip(ds["anchor"], ds["positive"])))
    assert (kept <= method.threshold(pos) + 1e-6).all()
    # Expected rows worked out from cross-encoder scores alone: the candidates under the bound, best first, top 2.
    corpus = pool.corpus.to_pylist()
    bm25 = BM25Teacher().index(corpus, show_progress=False)
    want = []
    for anchor, positive in zip(PAIRS["anchor"], PAIRS["positive"]):
        cands = [int(i) for i in bm25.run([anchor], 7, np.zeros(0, int), np.zeros(0, int), False).candidates[0]]
        cands = [i for i in cands if i >= 0 and corpus[i] != positive][:6]
        s = raw(cross_encoder, [(anchor, corpus[i]) for i in cands])
        bound = method.threshold(raw(cross_encoder, [(anchor, positive)]))[0]
        ranked = sorted(zip(-s, cands))
        want += [corpus[i] for neg, i in ranked if -neg <= bound][:2]
    assert ds["negative"] == want
    # BM25's own scores would decide otherwise (its bound sits among its own scores, not the cross-encoder's).
    by_bm25 = CandidatePool.build(Dataset.from_dict(PAIRS), "bm25", corpus=CORPUS, depth=6, show_progress=False)
    assert by_bm25.select(method, num_negatives=2, output_format="triplet", show_progress=False)["negative"] != want


def test_each_pair_is_predicted_once(cross_encoder):
    seen: list[tuple[str, str]] = []

    class Recording:
        num_labels = 1

        def predict(self, pairs, **kwargs):
            seen.extend(pairs)
            return cross_encoder.predict(pairs, **kwargs)

    teacher = CrossEncoderTeacher(Recording(), first_stage="bm25", name="ce")
    index = teacher.index(CORPUS, show_progress=False)
    # Requested pairs: (0, 0) is among query 0's candidates, (0, 7) twice, (1, 9) once.
    out = index.run(PAIRS["anchor"], 4, np.array([0, 0, 0, 1]), np.array([0, 7, 7, 9]), show_progress=False)
    assert len(seen) == len(set(seen))
    candidates = {(PAIRS["anchor"][q], CORPUS[i]) for q in range(3) for i in out.candidates[q] if i >= 0}
    requested = {(PAIRS["anchor"][0], CORPUS[0]), (PAIRS["anchor"][0], CORPUS[7]), (PAIRS["anchor"][1], CORPUS[9])}
    assert set(seen) == candidates | requested
    assert out.pair_scores[1] == out.pair_scores[2]


def test_sigmoid_or_raw_scores_as_chosen_and_recorded(cross_encoder):
    kw = dict(corpus=CORPUS, depth=3, show_progress=False)
    logits = CandidatePool.build(PAIRS, CrossEncoderTeacher(cross_encoder, activation="raw", name="ce"), **kw)
    probs = CandidatePool.build(PAIRS, CrossEncoderTeacher(cross_encoder, name="ce"), **kw)
    a, b = logits.teachers["ce"], probs.teachers["ce"]
    np.testing.assert_allclose(b.positive_scores, 1 / (1 + np.exp(-a.positive_scores)), rtol=1e-5)
    finite = np.isfinite(a.scores)
    assert (np.isfinite(b.scores) == finite).all()  # the same padding
    np.testing.assert_allclose(b.scores[finite], 1 / (1 + np.exp(-a.scores[finite])), rtol=1e-5)
    assert probs.config["teachers"]["ce"]["activation"] == "sigmoid"
    recorded = logits.config["teachers"]["ce"]
    # a local model is recorded by its folder's name, never by its path on this machine (as dense teachers are)
    assert recorded["local_model"] and "/" not in recorded["local_model"]
    assert recorded == {
        "type": "cross-encoder", "name": "ce", "model": None, "revision": None, "local_model": recorded["local_model"],
        "activation": "raw", "depth": None, "first_stage": BM25Teacher().config(),
    }  # fmt: skip
    result = logits.select(NaiveTopK(), num_negatives=1, show_progress=False, return_statistics=True)
    from st_hardneg.hub.card import MinedDatasetCard

    assert "cross-encoder" in MinedDatasetCard.from_selection(result, logits).text


def test_rescoring_depth_and_the_first_stage_index_shared_with_the_pool(cross_encoder):
    class CountingBM25(BM25Teacher):
        indexed = 0

        def index(self, corpus, show_progress=True):
            CountingBM25.indexed += 1
            return super().index(corpus, show_progress)

    first = CountingBM25()
    ce = CrossEncoderTeacher(cross_encoder, first_stage=first, name="ce", depth=2)
    pool = CandidatePool.build(PAIRS, [first, ce], corpus=CORPUS, depth=4, show_progress=False)
    assert CountingBM25.indexed == 1
    # depth=2: the cross-encoder rescores BM25's top 2 only (of the pool's 4 + positives asked).
    assert ((pool.teachers["ce"].candidates >= 0).sum(axis=1) <= 2).all()
    # BM25 + its cross-encoder, concatenated: the ECI paper's hybrid set.
    hybrid = pool.select(ensemble="concat", num_negatives=1, output_format="triplet", output_teachers=True,
                         method=NaiveTopK(), show_progress=False)  # fmt: skip
    assert set(hybrid["teacher"]) <= {"bm25", "ce", "bm25+ce"}


def test_a_model_name_loads_after_the_inputs_are_checked(tiny_cross_encoder_path, monkeypatch):
    import sentence_transformers

    loads = []
    real = sentence_transformers.CrossEncoder

    def counting(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(sentence_transformers, "CrossEncoder", counting)
    teacher = CrossEncoderTeacher(str(tiny_cross_encoder_path), name="ce")
    with pytest.raises(ValueError, match="data row 2: the anchor"):
        CandidatePool.build({"anchor": ["x", ""], "positive": ["y", "z"]}, teacher, show_progress=False)
    assert loads == []
    CandidatePool.build(PAIRS, teacher, corpus=CORPUS, depth=2, show_progress=False)
    assert len(loads) == 1


def test_clear_errors(cross_encoder, tiny_cross_encoder_path):
    from sentence_transformers import CrossEncoder

    with pytest.raises(TypeError, match="CrossEncoderTeacher\\(cross_encoder, first_stage='bm25'\\)"):
        CandidatePool.build(PAIRS, cross_encoder, corpus=CORPUS)
    with pytest.raises(ValueError, match="activation must be one of"):
        CrossEncoderTeacher(cross_encoder, activation="softmax")
    with pytest.raises(ValueError, match="depth must be a whole number >= 1"):
        CrossEncoderTeacher(cross_encoder, depth=0)
    two_labels = CrossEncoder(
        str(tiny_cross_encoder_path), num_labels=2, device="cpu", model_kwargs={"ignore_mismatched_sizes": True}
    )
    with pytest.raises(ValueError, match="num_labels=2"):
        CandidatePool.build(PAIRS, CrossEncoderTeacher(two_labels), corpus=CORPUS, show_progress=False)
    with pytest.raises(ValueError, match="both named 'bm25'"):
        CrossEncoderTeacher(cross_encoder, name="bm25")
