"""Ready-made NV-Retriever-v1 layout: bi-directional Mistral-7B-v0.1, instruction-masked mean pooling, LoRA."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import torch

from st_hardneg.models.bidirectional import BidirectionalDecoder
from st_hardneg.models.lora import add_lora_adapter, decoder_lora_config
from st_hardneg.models.pooling import InstructionMeanPooling

if TYPE_CHECKING:
    from peft import LoraConfig
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

NV_RETRIEVER_V1_BASE = "mistralai/Mistral-7B-v0.1"


def default_dtype() -> torch.dtype:
    """bfloat16 on a CUDA device that supports it, else float32 (CPU training in bf16 is slow and lossy)."""
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def bidirectional_embedder(
    model_name_or_path: str,
    *,
    lora: bool | LoraConfig = False,
    torch_dtype: torch.dtype | str | None = None,
    attn_implementation: str | None = None,
    max_seq_length: int | None = 512,
    device: str | None = None,
    **backbone_kwargs: Any,
) -> SentenceTransformer:
    """Build ``SentenceTransformer([BidirectionalDecoder, InstructionMeanPooling])`` from a decoder checkpoint.

    Args:
        model_name_or_path: Mistral, Llama or Qwen2 checkpoint (Hub id or folder).
        lora: ``True`` adds :func:`decoder_lora_config`; a ``LoraConfig`` adds that one; ``False`` none.
        torch_dtype: Weights dtype; defaults to :func:`default_dtype`.
        attn_implementation: ``"sdpa"`` (default in transformers), ``"eager"`` or ``"flash_attention_2"``.
        max_seq_length: Truncation length in tokens.
        device: Device for the model; sentence-transformers picks one when ``None``.
        **backbone_kwargs: More :class:`BidirectionalDecoder` arguments (``processor_kwargs``, ...).

    Returns:
        The model, bi-directional, with instruction-masked mean pooling and optionally a LoRA adapter.
    """
    from sentence_transformers import SentenceTransformer

    model_kwargs = dict(backbone_kwargs.pop("model_kwargs", None) or {})
    model_kwargs.setdefault("dtype", torch_dtype if torch_dtype is not None else default_dtype())
    if attn_implementation is not None:
        model_kwargs["attn_implementation"] = attn_implementation
    backbone = BidirectionalDecoder(
        model_name_or_path, model_kwargs=model_kwargs, max_seq_length=max_seq_length, **backbone_kwargs
    )
    pooling = InstructionMeanPooling(backbone.get_embedding_dimension())
    model = SentenceTransformer(modules=[backbone, pooling], device=device)
    if lora:
        add_lora_adapter(model, decoder_lora_config() if lora is True else lora)
    return model


def nv_retriever_v1(
    model_name_or_path: str = NV_RETRIEVER_V1_BASE, *, lora: bool | LoraConfig = True, **kwargs: Any
) -> SentenceTransformer:
    """The NV-Retriever-v1 architecture (paper sections 4.1-4.2), untrained: Mistral-7B-v0.1 base with the
    causal mask removed, mean pooling that leaves out the instruction, and a LoRA adapter to fine-tune.

    Queries take the instruction as a prompt in the form ``"{task_definition}: "`` (for example
    ``model.encode_query(texts, prompt="Given a claim, retrieve evidence: ")``); passages take none.

    Args:
        model_name_or_path: The base checkpoint; the paper uses ``mistralai/Mistral-7B-v0.1``.
        lora: As in :func:`bidirectional_embedder`; on by default.
        **kwargs: Passed to :func:`bidirectional_embedder`.

    Returns:
        The model, ready for ``SentenceTransformerTrainer``.
    """
    return bidirectional_embedder(model_name_or_path, lora=lora, **kwargs)
