"""TransformersJudge end to end with a tiny randomly initialised causal LM built in the test (Llama config, a
word-level tokenizer with a chat template, saved to tmp_path). Its replies are nonsense: this exercises rendering,
left-padded batched generation, the unparseable path and a whole ARHN run, never the quality of a judgment."""

from __future__ import annotations

import re

import numpy as np
import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.relabel import ARHN, Prompts, TransformersJudge

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

CHAT_TEMPLATE = (
    "{% for m in messages %}<s> {{ m['role'] }} : {{ m['content'] }} </s> {% endfor %}"
    "{% if add_generation_prompt %}<s> assistant : {% endif %}"
)


def build_tiny_lm(folder, texts, *, chat_template=CHAT_TEMPLATE, seed=0):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t)} | {str(i) for i in range(40)})
    ordered = dict.fromkeys(["<unk>", "<s>", "</s>", "<pad>", "ANSWER", "NO", ":", "[", "]", ">", *words])
    vocab = {w: i for i, w in enumerate(ordered)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )
    if chat_template is not None:
        fast.chat_template = chat_template
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=4096, bos_token_id=1, eos_token_id=2, pad_token_id=3,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def default_data():
    return load_default()


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory, default_data):
    pairs, corpus = default_data
    p = Prompts()
    texts = list(corpus) + list(pairs["anchor"]) + [p.system, p.answer, p.rank, CHAT_TEMPLATE]
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-llama"), texts)


def test_batched_left_padded_generation_equals_one_at_a_time(tiny_lm, default_data):
    pairs, corpus = default_data
    prompts = Prompts()
    conversations = [prompts.answer_messages(pairs["anchor"][i], corpus[i * 7]) for i in range(5)]
    conversations.append(prompts.rank_messages(pairs["anchor"][0], corpus[:4]))  # a much longer prompt
    one = TransformersJudge(tiny_lm, batch_size=1, max_tokens=6, device="cpu")
    four = TransformersJudge(tiny_lm, batch_size=4, max_tokens=6, device="cpu")
    replies_one, replies_four = one.generate(conversations), four.generate(conversations)
    assert all(isinstance(r, str) for r in replies_one)
    assert replies_four == replies_one
    assert four.tokenizer.padding_side == "left"
    assert any(r.strip() for r in replies_one)  # it generated something


def test_nonsense_replies_are_unparseable_and_change_nothing(tiny_lm, default_data, tmp_path):
    pairs, corpus = default_data
    pairs = pairs.select(range(16))  # 14 anchors, 2 candidates each: 42 generations
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=5, show_progress=False)
    before = pool.select("naive-topk", num_negatives=2, show_progress=False)
    judge = TransformersJudge(tiny_lm, batch_size=8, max_tokens=6, device="cpu")
    judgments = pool.relabel(ARHN(judge, candidates=2, cache_folder=tmp_path), show_progress=False)
    s = judgments.statistics
    n_anchors, n_pairs = len(pool.queries), int((pool.teacher_candidates().candidates[:, :2] >= 0).sum())
    assert (s.anchors, s.candidates) == (n_anchors, n_pairs) and n_pairs > 20
    assert (s.rankings.asked, s.answers.asked) == (n_anchors, n_pairs)
    assert s.answers.failed == s.rankings.failed == 0
    assert s.answers.unparseable > 0  # nonsense
    counts = judgments.counts()
    assert sum(counts.values()) == n_pairs
    # every decision rests on replies that were read: relabeled = ranked above the positive, filtered = ranked below
    # it with a snippet; everything unreadable is labelled so and selected as if never judged
    rows = judgments.to_dataset(pool).to_list()
    for r in rows:
        if r["label"] == "relabeled":
            assert r["rank_status"] == "ranked" and 0 <= r["rank"] < r["positive_rank"]
        if r["label"] == "filtered":
            assert r["answer"] == "answer" and r["rank"] > r["positive_rank"] >= 0
        if r["rank_status"] != "ranked" and not r["is_positive"]:
            assert r["label"] in ("unparseable", "failed", "negative")
    changed = {r["query"] for r in rows if r["label"] in ("relabeled", "filtered")}
    after = pool.select("naive-topk", num_negatives=2, show_progress=False)
    for b, a in zip(before.to_list(), after.to_list()):
        if b["anchor"] not in changed:
            assert a == b
    assert judgments.config["judge"]["type"] == "transformers" and judgments.config["judge"]["max_tokens"] == 6


def test_a_loaded_model_a_template_without_system_role_and_the_checks(tmp_path, default_data):
    pairs, corpus = default_data
    no_system = (
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
        "<s> {{ m['role'] }} : {{ m['content'] }} </s> {% endfor %}{% if add_generation_prompt %}<s> assistant : "
        "{% endif %}"
    )
    folder = build_tiny_lm(tmp_path / "lm", list(corpus[:20]), chat_template=no_system)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    judge = TransformersJudge(model, tokenizer, max_tokens=4, device="cpu")
    judge.check()
    text = judge.render(Prompts().answer_messages("q", "p"))
    assert text.startswith("<s> user : " + Prompts().system)  # the system message went into the user turn
    assert len(judge.answer(["q"], ["p"])) == 1
    fingerprint = judge.fingerprint()
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    assert TransformersJudge(model, tokenizer, max_tokens=4).fingerprint() != fingerprint  # other weights

    bare = build_tiny_lm(tmp_path / "bare", ["a b"], chat_template=None)
    with pytest.raises(ValueError, match="has no chat template"):
        TransformersJudge(bare).check()
    with pytest.raises(TypeError, match="must be a model name"):
        TransformersJudge(np.zeros(3))
