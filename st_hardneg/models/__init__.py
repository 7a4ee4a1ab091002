"""Embedding models: bi-directional decoders (Mistral, Llama, Qwen2) with instruction-masked mean pooling.

Importing this package does not import peft; LoRA helpers import it when called.
"""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SUPPORTED_MODEL_TYPES": "st_hardneg.models.bidirectional",
        "BidirectionalDecoder": "st_hardneg.models.bidirectional",
        "BidirectionalLlama": "st_hardneg.models.bidirectional",
        "BidirectionalMistral": "st_hardneg.models.bidirectional",
        "BidirectionalQwen2": "st_hardneg.models.bidirectional",
        "add_lora_adapter": "st_hardneg.models.lora",
        "decoder_lora_config": "st_hardneg.models.lora",
        "merge_lora_adapter": "st_hardneg.models.lora",
        "bidirectional_embedder": "st_hardneg.models.nv_retriever",
        "nv_retriever_v1": "st_hardneg.models.nv_retriever",
        "InstructionMeanPooling": "st_hardneg.models.pooling",
        "save_portable": "st_hardneg.models.portable",
        "prompt_token_mask": "st_hardneg.models.prompt_mask",
    },
)
