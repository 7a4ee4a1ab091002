"""Bi-directional attention in every layer, for eager and sdpa (flash-attention on CUDA), after save/load."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import build_model, first_token_changes

from st_hardneg.models import BidirectionalDecoder, BidirectionalLlama, BidirectionalMistral, BidirectionalQwen2

ATTENTION = ["eager", "sdpa"]


@pytest.mark.parametrize("padded", [False, True], ids=["unpadded", "padded"])
@pytest.mark.parametrize("attn", ATTENTION)
def test_last_token_reaches_first_token(tiny_checkpoints, family, attn, padded):
    backbone = BidirectionalDecoder(str(tiny_checkpoints[family]), model_kwargs={"attn_implementation": attn})
    assert backbone.auto_model.config._attn_implementation == attn
    assert backbone.bidirectional
    assert first_token_changes(backbone, padded)


@pytest.mark.parametrize("attn", ATTENTION)
def test_causal_control_does_not_see_the_future(tiny_checkpoints, family, attn):
    """The same probe on the same weights with the switch off: the first token cannot see the last."""
    path = str(tiny_checkpoints[family])
    backbone = BidirectionalDecoder(path, bidirectional=False, model_kwargs={"attn_implementation": attn})
    assert not first_token_changes(backbone, padded=True)
    backbone.bidirectional = True
    assert first_token_changes(backbone, padded=True)


def test_every_layer_is_bidirectional(tiny_checkpoints):
    """Each layer's hidden state at position 0 depends on the last token (not only the final layer's)."""
    backbone = BidirectionalDecoder(str(tiny_checkpoints["llama"]))
    ids = torch.tensor([[0, 10, 11, 12, 13], [0, 10, 11, 12, 14]])
    with torch.no_grad():
        hidden = backbone.auto_model(input_ids=ids, output_hidden_states=True).hidden_states
    # hidden[0] is the embedding output (position-wise); hidden[i] is the output of layer i.
    assert torch.equal(hidden[0][0, 0], hidden[0][1, 0])
    for layer_output in hidden[1:]:
        assert not torch.allclose(layer_output[0, 0], layer_output[1, 0], atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="flash-attention needs a CUDA GPU")
def test_flash_attention_is_bidirectional(tiny_checkpoints, family):
    pytest.importorskip("flash_attn")
    backbone = BidirectionalDecoder(
        str(tiny_checkpoints[family]),
        model_kwargs={"attn_implementation": "flash_attention_2", "dtype": torch.bfloat16, "device_map": "cuda"},
    )
    assert first_token_changes(backbone.to("cuda"), padded=True)


def test_family_classes_check_model_type(tiny_checkpoints):
    assert BidirectionalMistral(str(tiny_checkpoints["mistral"])).bidirectional
    assert BidirectionalLlama(str(tiny_checkpoints["llama"])).bidirectional
    assert BidirectionalQwen2(str(tiny_checkpoints["qwen2"])).bidirectional
    with pytest.raises(ValueError, match="expects a 'mistral' model"):
        BidirectionalMistral(str(tiny_checkpoints["llama"]))


def test_pad_token_is_added_for_decoder_tokenizers(tiny_checkpoints, tiny_tokenizer):
    assert tiny_tokenizer.pad_token is None
    backbone = BidirectionalDecoder(str(tiny_checkpoints["mistral"]))
    assert backbone.tokenizer.pad_token == "</s>"


@pytest.mark.parametrize("attn", ATTENTION)
def test_bidirectional_after_save_and_load(tiny_checkpoints, family, attn, tmp_path):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules.transformer import Transformer

    model = build_model(tiny_checkpoints[family], model_kwargs={"attn_implementation": attn})
    model.save(str(tmp_path))
    assert json.loads((tmp_path / "config.json").read_text())["is_causal"] is False
    assert json.loads((tmp_path / "sentence_bert_config.json").read_text())["bidirectional"] is True

    # The attention implementation is a load-time choice (model_kwargs), not saved with the model.
    loaded = SentenceTransformer(
        str(tmp_path), trust_remote_code=True, device="cpu", model_kwargs={"attn_implementation": attn}
    )
    assert type(loaded[0]) is BidirectionalDecoder
    assert loaded[0].auto_model.config._attn_implementation == attn
    assert first_token_changes(loaded[0], padded=False)

    # A stock sentence-transformers Transformer reading the same folder is bi-directional via config.json.
    stock = Transformer(str(tmp_path), model_kwargs={"attn_implementation": attn})
    assert first_token_changes(stock, padded=False)


def test_module_config_alone_restores_bidirectional(tiny_checkpoints, tmp_path):
    """With is_causal removed from config.json, the module's own `bidirectional` key still re-applies it."""
    from sentence_transformers import SentenceTransformer

    build_model(tiny_checkpoints["mistral"]).save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    del config["is_causal"]
    (tmp_path / "config.json").write_text(json.dumps(config))

    loaded = SentenceTransformer(str(tmp_path), trust_remote_code=True, device="cpu")
    assert first_token_changes(loaded[0], padded=True)


def test_plain_load_needs_trust_remote_code(tiny_checkpoints, tmp_path):
    """sentence-transformers >= 6 refuses module classes outside its namespace without trust_remote_code."""
    from sentence_transformers import SentenceTransformer

    build_model(tiny_checkpoints["mistral"]).save(str(tmp_path))
    with pytest.raises(ValueError, match="trust_remote_code"):
        SentenceTransformer(str(tmp_path), device="cpu")
