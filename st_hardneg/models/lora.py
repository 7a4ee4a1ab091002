"""LoRA adapters on a bi-directional decoder, through peft directly.

transformers 5.24's own adapter integration (``model.add_adapter``, adapter folders in ``from_pretrained``)
requires peft >= 0.22, which is not released at the time of writing; wrapping the backbone with
``peft.get_peft_model`` works with the peft versions that are (tested with 0.21.2).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peft import LoraConfig
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

#: Attention and MLP projections of Mistral, Llama and Qwen2.
DECODER_LORA_TARGETS: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
PEFT_MISSING = 'LoRA needs peft: pip install "st-hardneg[models]"'


def decoder_lora_config(r: int = 16, lora_alpha: int = 32, lora_dropout: float = 0.1, **kwargs: Any) -> LoraConfig:
    """LoRA on every attention and MLP projection of a Mistral, Llama or Qwen2 decoder.

    The defaults (r=16, alpha=32, dropout=0.1) are the values NV-Embed-v1 reports; the NV-Retriever-v1
    hyperparameter table (its Appendix D) is not reproduced here, so treat them as a starting point.

    Args:
        r: LoRA rank.
        lora_alpha: LoRA scaling numerator.
        lora_dropout: Dropout on the LoRA input.
        **kwargs: Further ``peft.LoraConfig`` fields (``target_modules`` overrides the default list).

    Returns:
        A ``peft.LoraConfig`` for feature extraction.

    Raises:
        ImportError: When peft is not installed.
    """
    try:
        from peft import LoraConfig, TaskType
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(PEFT_MISSING) from err
    kwargs.setdefault("target_modules", list(DECODER_LORA_TARGETS))
    return LoraConfig(
        r=r, lora_alpha=lora_alpha, lora_dropout=lora_dropout, task_type=TaskType.FEATURE_EXTRACTION, **kwargs
    )


def add_lora_adapter(model: SentenceTransformer, lora_config: LoraConfig | None = None) -> SentenceTransformer:
    """Wrap the first module's decoder in a ``peft`` LoRA model: only the adapter weights stay trainable.

    ``model.save(path)`` then writes the adapter (``adapter_config.json``, ``adapter_model.safetensors``)
    instead of the full weights, and :class:`~st_hardneg.models.BidirectionalDecoder` loads it back on top
    of the base checkpoint named in ``adapter_config.json``.

    Args:
        model: A SentenceTransformer whose first module is a sentence-transformers ``Transformer``.
        lora_config: Defaults to :func:`decoder_lora_config`.

    Returns:
        The same ``model``, modified in place.

    Raises:
        ImportError: When peft is not installed.
    """
    try:
        from peft import get_peft_model
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(PEFT_MISSING) from err
    backbone = model[0]
    backbone.model = get_peft_model(backbone.model, lora_config or decoder_lora_config())
    trainable = sum(p.numel() for p in backbone.model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in backbone.model.parameters())
    logger.info("LoRA adapter added: %d of %d parameters trainable.", trainable, total)
    return model
