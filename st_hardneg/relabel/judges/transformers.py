"""A judge that runs a local causal LM with ``transformers``: any instruct model with a chat template.

Prompts are rendered with the tokenizer's chat template, sorted by length, and generated in batches of
``batch_size`` with left padding (so every prompt ends where generation starts; batched replies equal one-by-one
replies under greedy decoding). The model loads on first use, after every check of the inputs.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from st_hardneg.relabel.judges.chat import ChatJudge, Conversation, Failure
from st_hardneg.relabel.prompts import Prompts
from st_hardneg.relabel.settings import ChatSettings, TransformersJudgeSettings
from st_hardneg.settings.base import document_options, split_kwargs

logger = logging.getLogger(__name__)

__all__ = ["TransformersJudge"]


@document_options(TransformersJudgeSettings, ChatSettings)
class TransformersJudge(ChatJudge):
    """Ask a local causal LM (``AutoModelForCausalLM``) with a chat template.

    Args:
        model: a model name or folder (loaded on first use), or a loaded ``PreTrainedModel``.
        tokenizer: its tokenizer; default: loaded from the model's name or folder. It needs a chat template.
        prompts: the templates (default: ARHN's two stages).
        settings: a :class:`~st_hardneg.relabel.settings.TransformersJudgeSettings`.
        chat: a :class:`~st_hardneg.relabel.settings.ChatSettings`.
        **kwargs: fields of both settings classes:

            {options}

    Examples:
        >>> judge = TransformersJudge("Qwen/Qwen2.5-0.5B-Instruct", batch_size=4, max_tokens=128)
        >>> judge.name, judge.settings.batch_size   # nothing is loaded yet
        ('Qwen/Qwen2.5-0.5B-Instruct', 4)
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        prompts: Prompts | None = None,
        settings: TransformersJudgeSettings | None = None,
        chat: ChatSettings | None = None,
        **kwargs: Any,
    ) -> None:
        own, chat_kwargs = split_kwargs(kwargs, TransformersJudgeSettings, ChatSettings)
        super().__init__(prompts, ChatSettings.from_kwargs(chat, **chat_kwargs))
        self.settings = TransformersJudgeSettings.from_kwargs(settings, **own)
        if isinstance(model, Path):
            model = str(model)
        if isinstance(model, str):
            if not model.strip():
                raise ValueError("model is an empty string; give a model name or folder")
            self._model, self._model_id = None, model
        elif hasattr(model, "generate"):
            self._model, self._model_id = model, getattr(model, "name_or_path", None) or type(model).__name__
        else:
            raise TypeError(f"model must be a model name, a folder or a causal LM, got {type(model).__name__}")
        self._tokenizer = tokenizer
        self._weights: str | None = None

    @property
    def name(self) -> str:
        return self._model_id

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self._model_id)
        return self._tokenizer

    @property
    def model(self) -> Any:
        """The causal LM (loaded here on first use when a name was given)."""
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM

            dtype = self.settings.dtype if self.settings.dtype == "auto" else getattr(torch, self.settings.dtype)
            logger.info("Loading the judge model %s", self._model_id)
            self._model = AutoModelForCausalLM.from_pretrained(self._model_id, dtype=dtype).to(self.device)
            self._model.eval()
        return self._model

    @property
    def device(self) -> Any:
        import torch

        if self.settings.device is not None:
            return torch.device(self.settings.device)
        if self._model is not None and hasattr(self._model, "device"):
            return self._model.device
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def check(self) -> None:
        """The tokenizer has a chat template and the model loads (before the first question)."""
        try:
            tokenizer = self.tokenizer
        except OSError as err:
            raise ValueError(f"cannot load the tokenizer of {self._model_id!r}: {err}") from None
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                f"the tokenizer of {self._model_id!r} has no chat template; TransformersJudge needs an instruct model "
                "(or pass tokenizer= with a chat_template)"
            )
        try:
            _ = self.model  # loads it
        except OSError as err:
            raise ValueError(f"cannot load the judge model {self._model_id!r}: {err}") from None

    def config(self) -> dict[str, Any]:
        return {
            "type": "transformers",
            "model": self._model_id,
            "weights": self.weights_fingerprint(),
            **self.chat_config(),
            "dtype": self.settings.dtype,
        }

    def fingerprint(self) -> str:
        key = {k: v for k, v in self.config().items() if k != "dtype"}
        key["dtype"] = str(getattr(self.model, "dtype", self.settings.dtype))
        return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]

    def weights_fingerprint(self) -> str:
        """A digest of the model's name and weights (a fine-tuned checkpoint under the same name differs)."""
        if self._weights is None:
            from st_hardneg.teachers.cache import model_fingerprint

            self._weights = model_fingerprint(self.model)
        return self._weights

    def render(self, conversation: Conversation) -> str:
        """The prompt text of one conversation (chat template, generation prompt added). Templates that refuse a
        system message get it merged into the first user message."""
        tok = self.tokenizer
        try:
            return tok.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        except Exception:  # noqa: BLE001 - jinja raises its own errors for templates without a system role
            if conversation and conversation[0]["role"] == "system" and len(conversation) > 1:
                merged = [{"role": "user", "content": conversation[0]["content"] + "\n\n" + conversation[1]["content"]}]
                return tok.apply_chat_template(merged + conversation[2:], tokenize=False, add_generation_prompt=True)
            raise

    def generate(self, conversations: Sequence[Conversation]) -> list[str | Failure]:
        import torch

        if not conversations:
            return []
        tok = self.tokenizer
        model = self.model
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        tok.padding_side = "left"
        texts = [self.render(c) for c in conversations]
        lengths = [len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        out: list[str | Failure] = [Failure("not generated")] * len(texts)
        size = self.settings.batch_size
        sampling = self.chat.temperature > 0
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            try:
                enc = tok([texts[i] for i in batch], return_tensors="pt", padding=True, add_special_tokens=False).to(
                    self.device
                )
                kwargs: dict[str, Any] = {"max_new_tokens": self.chat.max_tokens, "do_sample": sampling}
                if sampling:
                    kwargs["temperature"] = self.chat.temperature
                with torch.inference_mode():
                    generated = model.generate(**enc, pad_token_id=tok.pad_token_id, **kwargs)
                replies = tok.batch_decode(generated[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
                for i, reply in zip(batch, replies):
                    out[i] = reply
            except (RuntimeError, ValueError) as err:  # e.g. out of memory: these prompts fail, the run goes on
                logger.warning("The judge failed on %d prompts: %s", len(batch), err)
                for i in batch:
                    out[i] = Failure(f"{type(err).__name__}: {err}")
        return out

    def __repr__(self) -> str:
        return f"TransformersJudge({self._model_id!r})"
