"""Save and load give identical embeddings; the portable export loads with a stock SentenceTransformer."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import torch
from helpers import PASSAGES, PROMPT, QUERIES, build_model, first_token_changes

import st_hardneg.models
from st_hardneg.models import (
    BidirectionalDecoder,
    InstructionMeanPooling,
    add_lora_adapter,
    decoder_lora_config,
    save_portable,
)


def test_save_load_identical_embeddings(tiny_checkpoints, family, tmp_path):
    from sentence_transformers import SentenceTransformer

    model = build_model(tiny_checkpoints[family])
    model.prompts = {"query": PROMPT}
    queries = model.encode_query(QUERIES, convert_to_tensor=True)
    passages = model.encode_document(PASSAGES, convert_to_tensor=True)
    model.save(str(tmp_path))

    loaded = SentenceTransformer(str(tmp_path), trust_remote_code=True, device="cpu")
    assert [type(m) for m in loaded] == [BidirectionalDecoder, InstructionMeanPooling]
    assert loaded[1].include_prompt is False
    assert loaded.prompts["query"] == PROMPT
    assert torch.equal(loaded.encode_query(QUERIES, convert_to_tensor=True), queries)
    assert torch.equal(loaded.encode_document(PASSAGES, convert_to_tensor=True), passages)


def test_portable_export_loads_without_trust_remote_code(tiny_checkpoints, tmp_path):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules.transformer import Transformer
    from sentence_transformers.sentence_transformer.modules.pooling import Pooling

    model = build_model(tiny_checkpoints["mistral"])
    save_portable(model, tmp_path)
    stock = SentenceTransformer(str(tmp_path), device="cpu")  # no trust_remote_code
    assert type(stock[0]) is Transformer and type(stock[1]) is Pooling
    assert stock[1].include_prompt is False
    assert first_token_changes(stock[0], padded=True)
    torch.testing.assert_close(
        stock.encode(PASSAGES, convert_to_tensor=True), model.encode(PASSAGES, convert_to_tensor=True)
    )
    # A prompt that does not end in whitespace keeps its tokens apart from the query's: same embeddings.
    stable_prompt, queries = PROMPT.rstrip(), [" " + q for q in QUERIES]
    torch.testing.assert_close(
        stock.encode(queries, prompt=stable_prompt, convert_to_tensor=True),
        model.encode(queries, prompt=stable_prompt, convert_to_tensor=True),
    )
    # The documented caveat: with a trailing space the stock Pooling also drops the first query token.
    assert not torch.allclose(
        stock.encode(QUERIES, prompt=PROMPT, convert_to_tensor=True),
        model.encode(QUERIES, prompt=PROMPT, convert_to_tensor=True),
        atol=1e-4,
    )


def test_package_import_does_not_import_peft():
    """peft is optional (the `models` extra): no module of the package imports it at module level."""
    package_dir = Path(st_hardneg.models.__file__).parent
    for source in package_dir.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in tree.body:  # module level only; imports inside functions are fine
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(name.split(".")[0] == "peft" for name in names), source.name


def test_saved_module_config_keys(tiny_checkpoints, tmp_path):
    build_model(tiny_checkpoints["qwen2"]).save(str(tmp_path))
    backbone_config = json.loads((tmp_path / "sentence_bert_config.json").read_text())
    pooling_config = json.loads((tmp_path / "1_InstructionMeanPooling" / "config.json").read_text())
    assert backbone_config["bidirectional"] is True
    assert backbone_config["modality_config"] == {
        "text": {"method": "forward", "method_output_name": "last_hidden_state"}
    }
    assert pooling_config == {"embedding_dimension": 32, "include_prompt": False}


def test_portable_export_refuses_unmerged_adapters(tiny_checkpoints, tmp_path):
    model = add_lora_adapter(build_model(tiny_checkpoints["llama"]), decoder_lora_config(r=2))
    with pytest.raises(ValueError, match="merge the LoRA adapter"):
        save_portable(model, tmp_path)
