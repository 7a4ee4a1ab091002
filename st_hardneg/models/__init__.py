"""Embedding models: bi-directional decoders (Mistral, Llama, Qwen2) with instruction-masked mean pooling.

Importing this package does not import peft; LoRA helpers import it when called.
"""

from __future__ import annotations

from st_hardneg.models.bidirectional import (
    SUPPORTED_MODEL_TYPES,
    BidirectionalDecoder,
    BidirectionalLlama,
    BidirectionalMistral,
    BidirectionalQwen2,
)
from st_hardneg.models.lora import add_lora_adapter, decoder_lora_config, merge_lora_adapter
from st_hardneg.models.nv_retriever import bidirectional_embedder, nv_retriever_v1
from st_hardneg.models.pooling import InstructionMeanPooling
from st_hardneg.models.portable import save_portable
from st_hardneg.models.prompt_mask import prompt_token_mask

__all__ = [
    "SUPPORTED_MODEL_TYPES",
    "add_lora_adapter",
    "BidirectionalDecoder",
    "BidirectionalLlama",
    "BidirectionalMistral",
    "BidirectionalQwen2",
    "InstructionMeanPooling",
    "bidirectional_embedder",
    "decoder_lora_config",
    "merge_lora_adapter",
    "nv_retriever_v1",
    "prompt_token_mask",
    "save_portable",
]
