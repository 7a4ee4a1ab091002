"""Which token positions of a prompted text belong to the prompt, read from the tokenizer's character offsets."""

from __future__ import annotations

import torch
from torch import Tensor


def prompt_token_mask(offset_mapping: Tensor, attention_mask: Tensor, prompt_chars: int) -> Tensor:
    """Mark the leading tokens of each row that come from a prompt of ``prompt_chars`` characters.

    A position is prompt when it lies in the row's leading run of real tokens whose character span ends
    inside the prompt (``end <= prompt_chars``). Special tokens added in front (BOS, CLS: offsets ``(0, 0)``)
    therefore count as prompt, padding never does, and left padding does not interrupt the run. A token that
    straddles the boundary (for example ``"Ġhow"`` after a prompt ending in a space, where the space merged
    with the first query word) carries query text and is kept out of the prompt. Counting per row from the
    offsets, rather than tokenizing the prompt alone, stays exact where the prompt's last token merges with
    the text that follows it.

    Args:
        offset_mapping: ``(batch, seq_len, 2)`` character ``(start, end)`` of each token in its text.
        attention_mask: ``(batch, seq_len)``, 1 for real tokens and 0 for padding.
        prompt_chars: Length of the prompt in characters (``len(prompt)``).

    Returns:
        ``(batch, seq_len)`` tensor with the dtype of ``attention_mask``: 1 at prompt positions, else 0.

    Examples:
        >>> import torch
        >>> offsets = torch.tensor([[[0, 0], [0, 4], [4, 5], [5, 9], [0, 0]]])  # BOS "task" ":" " how" pad
        >>> prompt_token_mask(offsets, torch.tensor([[1, 1, 1, 1, 0]]), prompt_chars=6).tolist()
        [[1, 1, 1, 0, 0]]
    """
    real = attention_mask.bool()
    in_prompt = (offset_mapping[..., 1] <= prompt_chars) | ~real
    leading_run = torch.cumprod(in_prompt.to(torch.int64), dim=1).bool()
    return (leading_run & real).to(attention_mask.dtype)
