"""LoRA adapters on a bi-directional decoder, through peft directly.

transformers 5.24's own adapter integration (``model.add_adapter``, adapter folders in ``from_pretrained``)
requires peft >= 0.22, which is not released at the time of writing; wrapping the backbone with
``peft.get_peft_model`` works with the peft versions that are (tested with 0.21.2).
"""

from __future__ import annotations

import logging
import os
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
    of the base checkpoint named in ``adapter_config.json`` (``base_model_name_or_path``). That name is the
    Hub id for a decoder loaded from the Hub and an absolute path for one loaded from a local folder (a
    relative folder name is resolved against the current working directory here), so the saved adapter
    loads from any working directory. :func:`merge_lora_adapter` folds the adapter into the base weights.

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
    for config in backbone.model.peft_config.values():
        config.base_model_name_or_path = base_model_reference(config.base_model_name_or_path)
    trainable = sum(p.numel() for p in backbone.model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in backbone.model.parameters())
    logger.info("LoRA adapter added: %d of %d parameters trainable.", trainable, total)
    return model


def base_model_reference(name_or_path: str | os.PathLike | None) -> str | None:
    """How a saved adapter should name its base model: a local folder as an absolute path, anything else as is.

    ``peft`` records the string the base was loaded with, so a decoder loaded from ``"models/base"`` gives an
    adapter that only loads from the working directory it was saved in. A name that is not a local folder is
    kept (a Hub id, or a path that no longer exists); one that cannot be a Hub id is logged.

    Args:
        name_or_path: The base model's ``name_or_path`` (``None`` or ``""`` for a model built from a config).

    Returns:
        The absolute folder path, the unchanged name, or ``None`` when there is no name.

    Examples:
        >>> import os
        >>> base_model_reference("mistralai/Mistral-7B-v0.1")
        'mistralai/Mistral-7B-v0.1'
        >>> base_model_reference(".") == os.getcwd()
        True
        >>> base_model_reference("") is None
        True
    """
    if not name_or_path:
        return None
    name = os.fspath(name_or_path)
    if os.path.isdir(name):
        return os.path.abspath(name)
    if not os.path.isabs(name) and not _is_repo_id(name):
        logger.warning(
            "The base model %r is neither a local folder nor a Hub id; the saved adapter will not find it.", name
        )
    return name


def _is_repo_id(name: str) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def merge_lora_adapter(model: SentenceTransformer) -> SentenceTransformer:
    """Fold the first module's LoRA adapter into the decoder's weights and drop the ``peft`` wrapper, in place.

    Use it before :func:`~st_hardneg.models.save_portable`, or to serve without ``peft``: the merged model
    gives the same embeddings, ``model.save`` writes full weights instead of an adapter, and no ``peft``
    module is left. The bi-directional setting (``config.is_causal``) is kept, and every weight is trainable
    again, as in a model loaded from the merged folder.

    Assigning ``model[0].auto_model = model[0].auto_model.merge_and_unload()`` does not do this:
    ``auto_model`` is a read-only property returning ``model[0].model``, and ``torch.nn.Module`` stores the
    assignment as an extra submodule instead. ``model[0].model`` stays a ``PeftModel`` (now with no LoRA
    layers), so ``model.save`` writes an empty adapter next to the base model's name and the fine-tuning is
    lost on reload. This function replaces ``model[0].model`` (and removes such a stray ``auto_model``).

    Args:
        model: A SentenceTransformer whose first module's decoder carries a ``peft`` LoRA adapter, from
            :func:`add_lora_adapter` or loaded from a saved adapter folder.

    Returns:
        The same ``model``, modified in place.

    Raises:
        ValueError: When the decoder has no ``peft`` adapter, or one that cannot be merged (prompt learning,
            or adapters attached through transformers' own integration).
    """
    backbone = model[0]
    wrapped = getattr(backbone, "model", None)
    try:
        from peft import PeftModel
    except ImportError:  # pragma: no cover - depends on the environment
        PeftModel = None  # noqa: N806 - without peft there is no adapter to merge
    if PeftModel is None or not isinstance(wrapped, PeftModel):
        if hasattr(wrapped, "peft_config"):
            raise ValueError(
                "merge_lora_adapter handles adapters added with add_lora_adapter or loaded from an adapter folder "
                "(a peft.PeftModel); this one was attached through transformers' integration (add_adapter)."
            )
        raise ValueError(f"model[0] ({type(backbone).__name__}) has no LoRA adapter to merge.")
    if wrapped.peft_config[wrapped.active_adapter].is_prompt_learning:
        raise ValueError("Prompt-learning adapters have no weights to merge into the decoder.")
    is_causal = getattr(wrapped.config, "is_causal", None)
    merged = wrapped.merge_and_unload()
    if is_causal is not None:
        merged.config.is_causal = is_causal
    merged.requires_grad_(True)
    backbone.model = merged
    backbone._modules.pop("auto_model", None)  # left by `model[0].auto_model = ...`, see above
    logger.info("Merged the LoRA adapter into %s.", getattr(merged, "name_or_path", None) or "the decoder")
    return model
