"""The prompt mask marks exactly the instruction's tokens, for any padding side, BOS, and prompt source."""

from __future__ import annotations

import pytest
import torch
from helpers import PASSAGES, PROMPT, QUERIES, build_model

from st_hardneg.models import prompt_token_mask


def test_mask_from_offsets_right_and_left_padding():
    # Row 0: BOS, "task"(0,4), ":"(4,5), " how"(5,9), pad.  Row 1 left-padded: pad, BOS, "task", ":", " x".
    offsets = torch.tensor(
        [
            [[0, 0], [0, 4], [4, 5], [5, 9], [0, 0]],
            [[0, 0], [0, 0], [0, 4], [4, 5], [5, 7]],
        ]
    )
    attention_mask = torch.tensor([[1, 1, 1, 1, 0], [0, 1, 1, 1, 1]])
    mask = prompt_token_mask(offsets, attention_mask, prompt_chars=len("task: "))
    assert mask.tolist() == [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0]]
    assert mask.dtype == attention_mask.dtype


def test_trailing_special_token_is_not_prompt():
    # BOS, "task"(0,4), ":"(4,5), EOS(0,0): the EOS after the text is not part of the leading run.
    offsets = torch.tensor([[[0, 0], [0, 4], [4, 5], [5, 8], [0, 0]]])
    mask = prompt_token_mask(offsets, torch.ones(1, 5, dtype=torch.long), prompt_chars=5)
    assert mask.tolist() == [[1, 1, 1, 0, 0]]


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_mask_is_exactly_the_prompt_tokens(tiny_checkpoints, tiny_tokenizer, padding_side):
    """The masked tokens decode to the instruction, the rest to the query, in every row.

    The tokenizer merges the prompt's trailing space into the first query word ("Ġhow"), so the prompt
    tokenized alone has one token more ("Ġ") than it occupies in front of a query; that token is query text.
    """
    model = build_model(tiny_checkpoints["mistral"])
    model.tokenizer.padding_side = padding_side
    features = model.preprocess(QUERIES, prompt=PROMPT)
    mask, attention_mask, input_ids = features["prompt_mask"], features["attention_mask"], features["input_ids"]
    expected_prompt_tokens = len(tiny_tokenizer(PROMPT.rstrip())["input_ids"])  # BOS + instruction up to ":"
    for row, query in enumerate(QUERIES):
        real = attention_mask[row].bool()
        prompt_ids = input_ids[row][mask[row].bool()]
        rest_ids = input_ids[row][real & ~mask[row].bool()]
        assert int(mask[row].sum()) == expected_prompt_tokens
        assert tiny_tokenizer.decode(prompt_ids, skip_special_tokens=True) == PROMPT.rstrip()
        assert tiny_tokenizer.decode(rest_ids) == " " + query
        assert not (mask[row].bool() & ~real).any()  # never on padding
    if padding_side == "left":
        assert attention_mask[:, 0].min() == 0  # the batch really is left-padded


def test_no_prompt_no_mask(tiny_checkpoints):
    features = build_model(tiny_checkpoints["llama"]).preprocess(PASSAGES)
    assert "prompt_mask" not in features


def test_prompt_name_and_encode_query_reach_the_mask(tiny_checkpoints):
    model = build_model(tiny_checkpoints["qwen2"])
    model.prompts = {"query": PROMPT}
    explicit = model.encode(QUERIES, prompt=PROMPT, convert_to_tensor=True)
    by_name = model.encode(QUERIES, prompt_name="query", convert_to_tensor=True)
    by_task = model.encode_query(QUERIES, convert_to_tensor=True)  # picks the "query" prompt
    unprompted = model.encode(QUERIES, convert_to_tensor=True)
    torch.testing.assert_close(by_name, explicit)
    torch.testing.assert_close(by_task, explicit)
    assert not torch.allclose(unprompted, explicit, atol=1e-4)


def test_trainer_prompts_reach_the_mask(tiny_checkpoints):
    """The trainer's data collator calls preprocess(prompt=...) per column: the anchor gets the mask."""
    from sentence_transformers.sentence_transformer.data_collator import SentenceTransformerDataCollator

    model = build_model(tiny_checkpoints["mistral"])
    collator = SentenceTransformerDataCollator(preprocess_fn=model.preprocess, prompts={"anchor": PROMPT})
    batch = collator([{"anchor": q, "positive": p} for q, p in zip(QUERIES[:2], PASSAGES, strict=True)])
    expected = model.preprocess(QUERIES[:2], prompt=PROMPT)["prompt_mask"]
    assert torch.equal(batch["anchor_prompt_mask"], expected)
    assert "positive_prompt_mask" not in batch
