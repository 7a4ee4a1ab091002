"""A decoder-only transformer (Mistral, Llama, Qwen2) as a bi-directional sentence-transformers input module."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from st_hardneg._compat import Transformer
from st_hardneg.models.lora import base_model_reference
from st_hardneg.models.prompt_mask import prompt_token_mask

logger = logging.getLogger(__name__)

#: Decoder families whose attention honours ``config.is_causal = False`` in the installed transformers (tested).
SUPPORTED_MODEL_TYPES: tuple[str, ...] = ("mistral", "llama", "qwen2")

#: Text-only modality: prompts are prepended as text, never rendered through a chat template.
TEXT_MODALITY_CONFIG: dict[str, dict[str, str]] = {
    "text": {"method": "forward", "method_output_name": "last_hidden_state"}
}

PROMPT_MASK_KEY = "prompt_mask"


class BidirectionalDecoder(Transformer):
    """sentence-transformers ``Transformer`` whose decoder attends in both directions in every layer.

    The causal mask is removed through transformers' own switch, ``config.is_causal = False``, which the
    eager, sdpa and flash-attention paths of Mistral, Llama and Qwen2 read at every forward (transformers
    >= 5.2). The switch is kept in this module's ``sentence_bert_config.json`` (``bidirectional``) and
    re-applied on load, and it is also written to ``config.json`` so a plain ``AutoModel`` or a stock
    ``Transformer`` loading the folder is bi-directional too. (Passing ``config_kwargs={"is_causal": False}``
    to a stock ``Transformer`` does not work: ``AutoConfig.from_pretrained`` drops the unknown key.)

    When a prompt is given (``encode(prompt=...)``, ``prompt_name``, ``encode_query``, or the trainer's
    ``prompts``), ``preprocess`` adds ``features["prompt_mask"]``: 1 at the tokens that came from the prompt,
    computed per row from the tokenizer's character offsets (see
    :func:`~st_hardneg.models.prompt_mask.prompt_token_mask`), so that
    :class:`~st_hardneg.models.InstructionMeanPooling` can leave the instruction out of the average whatever
    the tokenizer's BOS and padding side. Prompted batches are kept padded (no flash-attention unpadding)
    so the mask lines up with the tokens.

    Args:
        model_name_or_path: Hugging Face model id or local folder of a decoder-only model.
        bidirectional: Remove the causal mask. ``False`` keeps the model causal (useful as a control).
        modality_config: Defaults to text only, so chat templates never wrap the inputs.
        module_output_name: Defaults to ``"token_embeddings"``.
        **kwargs: Passed on to ``Transformer`` (``model_kwargs``, ``processor_kwargs``, ``max_seq_length``, ...).

    Examples:
        >>> from sentence_transformers import SentenceTransformer  # doctest: +SKIP
        >>> from st_hardneg.models import BidirectionalMistral, InstructionMeanPooling  # doctest: +SKIP
        >>> backbone = BidirectionalMistral("mistralai/Mistral-7B-v0.1")  # doctest: +SKIP
        >>> model = SentenceTransformer(  # doctest: +SKIP
        ...     modules=[backbone, InstructionMeanPooling(backbone.get_embedding_dimension())]
        ... )
    """

    config_keys: list[str] = [*Transformer.config_keys, "bidirectional"]
    expected_model_type: str | None = None

    def __init__(
        self,
        model_name_or_path: str,
        *,
        bidirectional: bool = True,
        modality_config: dict[str, Any] | None = None,
        module_output_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if modality_config is None:
            modality_config, module_output_name = TEXT_MODALITY_CONFIG, "token_embeddings"
        super().__init__(
            model_name_or_path, modality_config=modality_config, module_output_name=module_output_name, **kwargs
        )
        self._prompted_call = False
        model_type = getattr(self.config, "model_type", None)
        if self.expected_model_type is not None and model_type != self.expected_model_type:
            raise ValueError(
                f"{type(self).__name__} expects a {self.expected_model_type!r} model, got {model_type!r}; "
                "use BidirectionalDecoder for other decoder families."
            )
        if model_type not in SUPPORTED_MODEL_TYPES:
            logger.warning(
                "model_type %r is not among the families tested for bi-directional attention %s; "
                "check that config.is_causal=False reaches its attention layers.",
                model_type,
                SUPPORTED_MODEL_TYPES,
            )
        self.bidirectional = bidirectional
        self._ensure_pad_token()

    @property
    def bidirectional(self) -> bool:
        """Whether the causal mask is removed (``config.is_causal is False``)."""
        return getattr(self.config, "is_causal", True) is False

    @bidirectional.setter
    def bidirectional(self, value: bool) -> None:
        self.config.is_causal = not value

    def _load_model(
        self,
        model_name_or_path: str,
        transformer_task: str,
        config: Any,
        backend: str,
        is_peft_model: bool,
        **model_kwargs: Any,
    ) -> Any:
        """Load an adapter folder with peft directly: the base checkpoint, then the adapter on top.

        transformers 5.24 would load it through its own adapter integration, which refuses peft < 0.22. A base
        recorded as a relative folder (adapters saved before st-hardneg made it absolute) is made absolute
        once found, so saving the model again fixes the folder.
        """
        if not is_peft_model or backend != "torch":
            return super()._load_model(
                model_name_or_path, transformer_task, config, backend, is_peft_model, **model_kwargs
            )
        from peft import PeftConfig, PeftModel

        hub_kwargs = {
            key: model_kwargs[key]
            for key in ("revision", "subfolder", "token", "cache_dir", "local_files_only")
            if model_kwargs.get(key)
        }
        base_path = PeftConfig.from_pretrained(model_name_or_path, **hub_kwargs).base_model_name_or_path
        for key in ("revision", "subfolder"):  # they locate the adapter, not the base model
            model_kwargs.pop(key, None)
        base = super()._load_model(base_path, transformer_task, config, backend, False, **model_kwargs)
        logger.info("Loading the adapter in %s on top of %s.", model_name_or_path, base_path)
        model = PeftModel.from_pretrained(base, model_name_or_path, is_trainable=True, **hub_kwargs)
        for peft_config in model.peft_config.values():  # an adapter saved with a relative base path: fix on resave
            peft_config.base_model_name_or_path = base_model_reference(peft_config.base_model_name_or_path)
        return model

    def _ensure_pad_token(self) -> None:
        """Decoder tokenizers (Mistral, Llama) often ship without a pad token; reuse EOS (or UNK) for padding."""
        tokenizer = self.tokenizer
        if tokenizer is None or tokenizer.pad_token is not None:
            return
        fallback = tokenizer.eos_token or tokenizer.unk_token
        if fallback is None:
            raise ValueError("The tokenizer has no pad, eos or unk token to pad batches with; set one first.")
        tokenizer.pad_token = fallback
        logger.info("Tokenizer has no pad token; padding with %r (masked out by the attention mask).", fallback)

    def preprocess(
        self,
        inputs: Sequence[Any],
        prompt: str | None = None,
        processing_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Tokenize like ``Transformer.preprocess`` and, for prompted text, add ``features["prompt_mask"]``.

        Args:
            inputs: Texts (or other inputs ``Transformer`` accepts).
            prompt: Instruction prepended to every text, e.g. ``"Given a claim, retrieve evidence: "``.
            processing_kwargs: Per-call processor overrides, as for ``Transformer.preprocess``.
            **kwargs: Passed on (``task``, ``max_length``, ...).

        Returns:
            The features; with a prompt also ``prompt_length`` (sentence-transformers' single count) and
            ``prompt_mask`` (this module's per-row, per-position mask).
        """
        if not prompt:
            return super().preprocess(inputs, prompt=prompt, processing_kwargs=processing_kwargs, **kwargs)
        processing_kwargs = dict(processing_kwargs or {})
        processing_kwargs["text"] = {**processing_kwargs.get("text", {}), "return_offsets_mapping": True}
        previous, self._prompted_call = self._prompted_call, True
        try:
            features = super().preprocess(inputs, prompt=prompt, processing_kwargs=processing_kwargs, **kwargs)
        finally:
            self._prompted_call = previous
        offsets = features.pop("offset_mapping", None)
        if offsets is not None and features.get("modality") == "text" and "attention_mask" in features:
            features[PROMPT_MASK_KEY] = prompt_token_mask(offsets, features["attention_mask"], len(prompt))
        return features

    def _should_flatten_inputs(self, modality: str, processor_inputs: dict[str, Any], **kwargs: Any) -> bool:
        # A prompted batch stays padded so that the per-position prompt mask lines up with the tokens.
        if self._prompted_call:
            return False
        return super()._should_flatten_inputs(modality, processor_inputs, **kwargs)

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Run the decoder; the prompt mask is bookkeeping for pooling and is not passed to the model."""
        prompt_mask = features.pop(PROMPT_MASK_KEY, None)
        try:
            return super().forward(features, **kwargs)
        finally:
            if prompt_mask is not None:
                features[PROMPT_MASK_KEY] = prompt_mask


class BidirectionalMistral(BidirectionalDecoder):
    """:class:`BidirectionalDecoder` that checks the checkpoint is a Mistral (NV-Retriever-v1, NV-Embed, GritLM)."""

    expected_model_type = "mistral"


class BidirectionalLlama(BidirectionalDecoder):
    """:class:`BidirectionalDecoder` that checks the checkpoint is a Llama."""

    expected_model_type = "llama"


class BidirectionalQwen2(BidirectionalDecoder):
    """:class:`BidirectionalDecoder` that checks the checkpoint is a Qwen2 (as in gte-Qwen2-instruct)."""

    expected_model_type = "qwen2"
