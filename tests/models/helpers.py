"""Small helpers shared by the model tests."""

from __future__ import annotations

import torch

from st_hardneg.models import BidirectionalDecoder, InstructionMeanPooling

PROMPT = "Given a claim, retrieve evidence: "
QUERIES = ["how do statins work", "what is the capital of france", "cat"]
PASSAGES = ["statins lower cholesterol by blocking an enzyme in the liver", "paris is the capital of france"]


def build_model(path, **backbone_kwargs):
    """SentenceTransformer([BidirectionalDecoder, InstructionMeanPooling]) on CPU from a tiny checkpoint."""
    from sentence_transformers import SentenceTransformer

    backbone = BidirectionalDecoder(str(path), **backbone_kwargs)
    pooling = InstructionMeanPooling(backbone.get_embedding_dimension())
    return SentenceTransformer(modules=[backbone, pooling], device="cpu")


def first_token_changes(backbone: BidirectionalDecoder, padded: bool) -> bool:
    """Whether changing only the LAST real token of a sequence changes the FIRST token's output.

    Two rows differ only in their last real token. With ``padded`` a pad column is appended, so the
    attention implementation receives an explicit padding mask instead of none.
    """
    input_ids = torch.tensor([[0, 10, 11, 12, 13], [0, 10, 11, 12, 14]])
    attention_mask = torch.ones_like(input_ids)
    if padded:
        input_ids = torch.cat([input_ids, torch.ones(2, 1, dtype=torch.long)], dim=1)
        attention_mask = torch.cat([attention_mask, torch.zeros(2, 1, dtype=torch.long)], dim=1)
    with torch.no_grad():
        out = backbone({"input_ids": input_ids, "attention_mask": attention_mask})["token_embeddings"]
    return not torch.allclose(out[0, 0], out[1, 0], atol=1e-6)
