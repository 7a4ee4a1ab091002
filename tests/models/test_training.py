"""One SentenceTransformerTrainer step with MultipleNegativesRankingLoss, LoRA and gradient checkpointing."""

from __future__ import annotations

import pytest
import torch
from helpers import PROMPT, first_token_changes

from st_hardneg.models import bidirectional_embedder, decoder_lora_config

pytestmark = pytest.mark.slow

ROWS = [
    {"anchor": "how do statins work", "positive": "statins lower cholesterol by blocking an enzyme"},
    {"anchor": "what is the capital of france", "positive": "paris is the capital of france"},
    {"anchor": "where did the cat sit", "positive": "a cat sat on the mat"},
    {"anchor": "does exercise help", "positive": "evidence supports the claim that exercise helps"},
]


def _train_one_step(model, output_dir, cached: bool = False, **args):
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )

    arguments = SentenceTransformerTrainingArguments(
        output_dir=str(output_dir),
        max_steps=1,
        per_device_train_batch_size=4,
        learning_rate=1e-2,
        warmup_steps=0,
        gradient_checkpointing=True,
        prompts={"anchor": PROMPT},
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        **args,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=arguments,
        train_dataset=Dataset.from_list(ROWS),
        loss=CachedMultipleNegativesRankingLoss(model, mini_batch_size=2)
        if cached
        else MultipleNegativesRankingLoss(model),
    )
    trainer.train()
    return trainer


@pytest.mark.parametrize("family_name", ["mistral", "qwen2"])
def test_lora_step_changes_adapter_weights_only(tiny_checkpoints, tmp_path, family_name):
    from sentence_transformers import SentenceTransformer

    model = bidirectional_embedder(
        str(tiny_checkpoints[family_name]),
        lora=decoder_lora_config(r=4, lora_alpha=8, lora_dropout=0.0),
        torch_dtype=torch.float32,
        device="cpu",
    )
    backbone = model[0].auto_model
    before = {name: p.detach().clone() for name, p in backbone.named_parameters()}
    trainable = {name for name, p in backbone.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in name for name in trainable)

    _train_one_step(model, tmp_path / "run")
    assert any(getattr(module, "gradient_checkpointing", False) for module in backbone.modules())

    changed = {name for name, p in backbone.named_parameters() if not torch.equal(p, before[name])}
    assert changed, "the step changed nothing"
    assert changed <= trainable  # base weights untouched
    # LoRA starts with B = 0, so the first step moves every B (A's gradient is B-weighted, hence zero).
    assert {name for name in trainable if "lora_B" in name} <= changed

    # The adapter folder reloads bi-directional with the same embeddings.
    model.eval()
    queries = model.encode_query([r["anchor"] for r in ROWS], prompt=PROMPT, convert_to_tensor=True)
    model.save(str(tmp_path / "saved"))
    loaded = SentenceTransformer(str(tmp_path / "saved"), trust_remote_code=True, device="cpu")
    assert (tmp_path / "saved" / "adapter_config.json").exists()
    assert first_token_changes(loaded[0], padded=True)
    torch.testing.assert_close(
        loaded.encode_query([r["anchor"] for r in ROWS], prompt=PROMPT, convert_to_tensor=True), queries
    )


@pytest.mark.parametrize("cached", [False, True], ids=["mnrl", "cached-mnrl"])
def test_full_finetuning_step_without_lora(tiny_checkpoints, tmp_path, cached):
    """No adapter: the step updates the decoder's own weights (the path the LoRA test rules out).

    The cached variant slices the prompt mask into mini-batches along with the attention mask.
    """
    model = bidirectional_embedder(str(tiny_checkpoints["llama"]), torch_dtype=torch.float32, device="cpu")
    weight = model[0].auto_model.layers[0].self_attn.q_proj.weight
    before = weight.detach().clone()
    _train_one_step(model, tmp_path / "run", cached=cached)
    assert not torch.equal(weight, before)
