"""Mean pooling that leaves the instruction tokens out of the average (NV-Embed-v1, NV-Retriever-v1)."""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import Tensor

from st_hardneg._compat import Pooling
from st_hardneg.models.bidirectional import PROMPT_MASK_KEY

logger = logging.getLogger(__name__)


class InstructionMeanPooling(Pooling):
    """Average the token embeddings over the real tokens that are not part of the prompt.

    The instruction ("{task_definition}: ") is still seen by every other token through attention; it is only
    left out of the average. Which positions are prompt comes from ``features["prompt_mask"]``, set per row by
    :class:`~st_hardneg.models.BidirectionalDecoder` for prompts given through ``encode(prompt=...)``,
    ``prompt_name``, ``encode_query`` or the trainer's ``prompts``. Texts without a prompt (passages) are
    averaged over all their real tokens. Behind another input module, or on a flash-attention unpadded batch,
    it falls back to sentence-transformers' ``Pooling`` with ``include_prompt=False`` (one prompt length
    per batch).

    A subclass of ``Pooling``, so ``SentenceTransformer.set_pooling_include_prompt`` reaches it.

    Args:
        embedding_dimension: Hidden size of the token embeddings.
        include_prompt: ``True`` averages the prompt tokens too (plain mean pooling).

    Examples:
        >>> import torch
        >>> pool = InstructionMeanPooling(2)
        >>> features = {
        ...     "token_embeddings": torch.tensor([[[9.0, 9.0], [1.0, 2.0], [3.0, 4.0]]]),
        ...     "attention_mask": torch.tensor([[1, 1, 1]]),
        ...     "prompt_mask": torch.tensor([[1, 0, 0]]),
        ... }
        >>> pool(features)["sentence_embedding"].tolist()
        [[2.0, 3.0]]
    """

    config_keys: list[str] = ["embedding_dimension", "include_prompt"]

    def __init__(self, embedding_dimension: int, include_prompt: bool = False, **kwargs: Any) -> None:
        pooling_mode = kwargs.pop("pooling_mode", "mean")
        if pooling_mode != "mean" or kwargs:
            raise ValueError(f"InstructionMeanPooling only does mean pooling; got {pooling_mode!r}, {kwargs}")
        super().__init__(embedding_dimension, pooling_mode="mean", include_prompt=include_prompt)

    def forward(self, features: dict[str, Tensor | Any], **kwargs: Any) -> dict[str, Tensor | Any]:
        """Write ``features["sentence_embedding"]``, the mean over non-prompt, non-padding tokens.

        Args:
            features: Needs ``token_embeddings``; uses ``attention_mask`` and ``prompt_mask`` when present.
            **kwargs: Unused, accepted for the module contract.

        Returns:
            ``features`` with ``sentence_embedding`` added.
        """
        token_embeddings = features["token_embeddings"]
        attention_mask = features.get("attention_mask")
        prompt_mask = features.get(PROMPT_MASK_KEY)
        padded = (
            "cu_seq_lens_q" not in features
            and attention_mask is not None
            and attention_mask.shape == token_embeddings.shape[:2]
        )
        if not padded or (prompt_mask is None and not self.include_prompt and "prompt_length" in features):
            return super().forward(features, **kwargs)
        keep = attention_mask
        if prompt_mask is not None and not self.include_prompt:
            keep = attention_mask * (1 - prompt_mask.to(attention_mask.dtype))
        features["sentence_embedding"] = masked_mean(token_embeddings, keep)
        return features


def masked_mean(token_embeddings: Tensor, keep: Tensor) -> Tensor:
    """Mean of ``token_embeddings`` ``(batch, seq, dim)`` over the positions where ``keep`` ``(batch, seq)`` is 1.

    Sums in float32 for half-precision inputs and returns the input dtype; a row with nothing to keep gives
    zeros.

    Args:
        token_embeddings: Token embeddings.
        keep: 1 for the positions to average, 0 elsewhere.

    Returns:
        ``(batch, dim)`` mean embeddings.
    """
    accumulate = torch.float32 if token_embeddings.dtype in (torch.float16, torch.bfloat16) else None
    weights = keep.unsqueeze(-1).to(token_embeddings.dtype)
    summed = (token_embeddings * weights).sum(dim=1, dtype=accumulate)
    counts = keep.sum(dim=1, keepdim=True).to(summed.dtype).clamp(min=1)
    return (summed / counts).to(token_embeddings.dtype)
