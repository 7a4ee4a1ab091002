"""Tiny randomly initialised Mistral, Llama and Qwen2 checkpoints with a trained byte-level BPE tokenizer.

Each checkpoint folder is written once per session. The tokenizer behaves like the Llama-3 / Qwen2 ones that
matter here: it adds a BOS token, has no pad token, and merges a space with the word after it (``"Ġhow"``), so
a prompt ending in a space tokenizes differently alone than in front of a query.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FAMILIES = ("mistral", "llama", "qwen2")
CORPUS = [
    "how do statins work",
    "statins lower cholesterol by blocking an enzyme in the liver",
    "Given a claim, retrieve evidence: how do statins work",
    "retrieve passages that answer the question",
    "what is the capital of france",
    "paris is the capital and largest city of france",
    "a cat sat on the mat while the dog slept",
    "evidence supports the claim that exercise helps",
] * 20


def build_tokenizer():
    """A byte-level BPE tokenizer trained on CORPUS, adding ``<s>`` in front like Llama/Mistral, no pad token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", bos)]),
        ]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", padding_side="right")


def build_config(family: str, vocab_size: int):
    """A 2-layer, 32-wide config of the family, with grouped-query attention (and a short Mistral window)."""
    from transformers import LlamaConfig, MistralConfig, Qwen2Config

    common = dict(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        bos_token_id=0,
        eos_token_id=1,
    )
    if family == "mistral":
        return MistralConfig(sliding_window=4, **common)
    if family == "llama":
        return LlamaConfig(**common)
    if family == "qwen2":
        return Qwen2Config(**common)
    raise ValueError(family)


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory, tiny_tokenizer) -> dict[str, Path]:
    """Family name -> folder with config.json, weights and tokenizer of a random causal checkpoint."""
    from transformers import AutoModel

    paths = {}
    for family in FAMILIES:
        torch.manual_seed(0)
        # Room above the tokenizer's vocabulary: AutoTokenizer picks Qwen2Tokenizer for a qwen2 folder, which
        # adds its own pad token "<|endoftext|>" (id 400).
        model = AutoModel.from_config(build_config(family, len(tiny_tokenizer) + 16))
        path = tmp_path_factory.mktemp(f"tiny-{family}")
        model.save_pretrained(path)
        tiny_tokenizer.save_pretrained(path)
        paths[family] = path
    return paths


@pytest.fixture(params=FAMILIES)
def family(request) -> str:
    return request.param
