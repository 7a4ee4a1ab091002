"""InstructionMeanPooling averages exactly the non-instruction tokens, checked against a hand-computed mean."""

from __future__ import annotations

import pytest
import torch
from helpers import PASSAGES, PROMPT, QUERIES, build_model

from st_hardneg.models import InstructionMeanPooling


def _token_embeddings(model, texts, prompt=None):
    features = model.preprocess(texts, prompt=prompt)
    with torch.no_grad():
        out = model[0](dict(features))
    return out["token_embeddings"], features["attention_mask"]


def test_pooled_query_is_the_mean_over_query_tokens(tiny_checkpoints, tiny_tokenizer, family):
    model = build_model(tiny_checkpoints[family])  # right padding: real tokens first
    tokens, attention_mask = _token_embeddings(model, QUERIES, prompt=PROMPT)
    n_prompt = len(tiny_tokenizer(PROMPT.rstrip())["input_ids"])  # BOS + instruction tokens, by construction
    expected, with_prompt = [], []
    for row in range(len(QUERIES)):
        length = int(attention_mask[row].sum())
        expected.append(tokens[row, n_prompt:length].mean(dim=0))
        with_prompt.append(tokens[row, :length].mean(dim=0))
    pooled = model.encode(QUERIES, prompt=PROMPT, convert_to_tensor=True)
    torch.testing.assert_close(pooled, torch.stack(expected), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(pooled, torch.stack(with_prompt), atol=1e-3)


def test_pooled_passage_is_the_mean_over_all_real_tokens(tiny_checkpoints):
    model = build_model(tiny_checkpoints["mistral"])
    tokens, attention_mask = _token_embeddings(model, PASSAGES)
    expected = torch.stack([tokens[r, : int(attention_mask[r].sum())].mean(0) for r in range(len(PASSAGES))])
    torch.testing.assert_close(model.encode(PASSAGES, convert_to_tensor=True), expected, atol=1e-5, rtol=1e-5)


def test_instruction_still_shapes_the_query_through_attention(tiny_checkpoints):
    """Masked from the average, the instruction still changes the query tokens' states (bi-directional)."""
    model = build_model(tiny_checkpoints["llama"])
    other = model.encode(["cat"], prompt="Retrieve passages that answer the question: ", convert_to_tensor=True)
    this = model.encode(["cat"], prompt=PROMPT, convert_to_tensor=True)
    assert not torch.allclose(this, other, atol=1e-4)


def test_padding_side_does_not_change_embeddings(tiny_checkpoints):
    model = build_model(tiny_checkpoints["mistral"])
    right = model.encode(QUERIES, prompt=PROMPT, convert_to_tensor=True)
    model.tokenizer.padding_side = "left"
    left = model.encode(QUERIES, prompt=PROMPT, convert_to_tensor=True)
    torch.testing.assert_close(left, right, atol=1e-5, rtol=1e-4)


def test_include_prompt_switch(tiny_checkpoints):
    model = build_model(tiny_checkpoints["mistral"])
    masked = model.encode(QUERIES, prompt=PROMPT, convert_to_tensor=True)
    model.set_pooling_include_prompt(True)
    tokens, attention_mask = _token_embeddings(model, QUERIES, prompt=PROMPT)
    plain = torch.stack([tokens[r, : int(attention_mask[r].sum())].mean(0) for r in range(len(QUERIES))])
    included = model.encode(QUERIES, prompt=PROMPT, convert_to_tensor=True)
    torch.testing.assert_close(included, plain, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(included, masked, atol=1e-3)


def test_only_mean_pooling_is_accepted():
    with pytest.raises(ValueError, match="only does mean pooling"):
        InstructionMeanPooling(8, pooling_mode="max")


def test_bf16_forward_matches_float32(tiny_checkpoints):
    """bf16 weights (what the GPU recipe uses) give nearly the same embeddings; CPU bf16 kernels stand in."""
    fp32 = build_model(tiny_checkpoints["mistral"])
    bf16 = build_model(tiny_checkpoints["mistral"], model_kwargs={"dtype": torch.bfloat16})
    assert bf16[0].auto_model.dtype == torch.bfloat16
    a = fp32.encode(QUERIES, prompt=PROMPT, convert_to_tensor=True)
    b = bf16.encode(QUERIES, prompt=PROMPT, convert_to_tensor=True).float()
    assert torch.nn.functional.cosine_similarity(a, b).min() > 0.99
