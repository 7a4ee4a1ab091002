"""The bi-directional Mistral module in bfloat16 under every attention implementation transformers offers on this
machine (eager and sdpa always; flex attention where torch has it; flash attention 2/3/4 where installed, on CUDA):
changing a later token changes an earlier token's output, with and without padding."""

from __future__ import annotations

import pytest
import torch
from helpers import first_token_changes

from st_hardneg.models import BidirectionalMistral


def offered_attention() -> list[str]:
    """The attention implementations transformers registers, less the paged ones (generation caches only)."""
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    return ["eager", *(name for name in ALL_ATTENTION_FUNCTIONS.keys() if not name.startswith("paged"))]


def usable_here(name: str) -> str | None:
    """Why ``name`` cannot run on this machine, or None when it can."""
    import transformers.utils as tu

    if name.startswith("flash_attention_"):
        available = getattr(tu, f"is_flash_attn_{name.rsplit('_', 1)[1]}_available", lambda: False)()
        if not available or not torch.cuda.is_available():
            return f"{name} needs its flash-attn package and a CUDA GPU"
    if name == "flex_attention" and not tu.is_torch_flex_attn_available():
        return "this torch has no flex attention"
    return None


def test_the_implementations_checked_include_eager_and_sdpa():
    assert {"eager", "sdpa"} <= set(offered_attention())


@pytest.mark.parametrize("padded", [False, True], ids=["unpadded", "padded"])
@pytest.mark.parametrize(
    "attn",
    # flex attention compiles its kernel on first use: minutes on two CPU cores
    [pytest.param(a, marks=pytest.mark.slow) if a == "flex_attention" else a for a in offered_attention()],
)
def test_bf16_mistral_is_bidirectional_under_every_attention(tiny_checkpoints, attn, padded):
    reason = usable_here(attn)
    if reason:
        pytest.skip(reason)
    device = "cuda" if attn.startswith("flash") else "cpu"
    backbone = BidirectionalMistral(
        str(tiny_checkpoints["mistral"]), model_kwargs={"attn_implementation": attn, "dtype": torch.bfloat16}
    ).to(device)
    assert backbone.auto_model.config._attn_implementation == attn
    assert next(backbone.auto_model.parameters()).dtype == torch.bfloat16
    assert first_token_changes(backbone, padded)
    backbone.bidirectional = False  # the control: the same weights, causal, cannot see the later token
    assert not first_token_changes(backbone, padded)
