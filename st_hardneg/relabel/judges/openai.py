"""A judge behind any OpenAI-compatible chat-completions endpoint: vLLM, TGI, llama.cpp's server, or OpenAI itself.

Requests go out concurrently (``concurrency`` at a time, in threads, so it works the same in scripts and in
notebooks that already run an event loop) through the ``openai`` client, whose own retry logic handles timeouts,
429 and 5xx answers (exponential backoff with jitter, honouring ``Retry-After``). A request that still fails becomes
a ``"failed"`` reply; a reply without text content is also ``"failed"`` (not stored in the cache, asked again by a
later run); text that does not follow the prompt's format is ``"unparseable"``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from st_hardneg.relabel.judges.chat import ChatJudge, Conversation, Failure
from st_hardneg.relabel.prompts import Prompts
from st_hardneg.relabel.settings import ChatSettings, OpenAIJudgeSettings
from st_hardneg.settings.base import document_options, split_kwargs

logger = logging.getLogger(__name__)

__all__ = ["OpenAIJudge"]


@document_options(OpenAIJudgeSettings, ChatSettings)
class OpenAIJudge(ChatJudge):
    """Ask a model served with an OpenAI-compatible API.

    Args:
        base_url: the server's API root, e.g. ``"http://localhost:8000/v1"`` for ``vllm serve``; default: the
            ``openai`` client's (``$OPENAI_BASE_URL`` or OpenAI's).
        model: the served model's name, e.g. ``"Qwen/Qwen2.5-7B-Instruct"``.
        api_key: default ``$OPENAI_API_KEY``, else ``"EMPTY"`` (local servers need none). Never recorded.
        prompts: the templates (:class:`~st_hardneg.relabel.prompts.Prompts`; default: ARHN's two stages).
        settings: an :class:`~st_hardneg.relabel.settings.OpenAIJudgeSettings`.
        chat: a :class:`~st_hardneg.relabel.settings.ChatSettings`.
        extra_body: extra JSON fields for every request (e.g. vLLM's ``{"top_k": 1}``); part of the cache key.
        **kwargs: fields of both settings classes:

            {options}

    Examples:
        >>> judge = OpenAIJudge(base_url="http://localhost:8000/v1", model="Qwen/Qwen2.5-7B-Instruct", concurrency=16)
        >>> judge.settings.concurrency, judge.chat.temperature
        (16, 0.0)
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        *,
        api_key: str | None = None,
        prompts: Prompts | None = None,
        settings: OpenAIJudgeSettings | None = None,
        chat: ChatSettings | None = None,
        extra_body: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ValueError("OpenAIJudge needs model=, the name the server serves (e.g. 'Qwen/Qwen2.5-7B-Instruct')")
        if base_url is not None and not isinstance(base_url, str):
            raise TypeError(f"base_url must be a URL string, got {base_url!r}")
        if extra_body is not None and not isinstance(extra_body, dict):
            raise TypeError(f"extra_body must be a dict, got {type(extra_body).__name__}")
        own, chat_kwargs = split_kwargs(kwargs, OpenAIJudgeSettings, ChatSettings)
        super().__init__(prompts, ChatSettings.from_kwargs(chat, **chat_kwargs))
        self.settings = OpenAIJudgeSettings.from_kwargs(settings, **own)
        self.base_url = base_url
        self.model = model
        self.extra_body = dict(extra_body or {})
        self._api_key = api_key
        self._client: Any = None

    @property
    def name(self) -> str:
        return self.model

    @property
    def client(self) -> Any:
        """The ``openai.OpenAI`` client (created on first use)."""
        if self._client is None:
            try:
                import openai
            except ImportError as err:  # pragma: no cover - openai is in the llm extra
                raise ImportError('OpenAIJudge needs the openai client: pip install "st-hardneg[llm]"') from err
            key = self._api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
            self._client = openai.OpenAI(
                base_url=self.base_url,
                api_key=key,
                timeout=self.settings.timeout,
                max_retries=self.settings.max_retries,
            )
        return self._client

    def config(self) -> dict[str, Any]:
        return {
            "type": "openai",
            "model": self.model,
            "base_url": self.base_url,
            **self.chat_config(),
            "extra_body": self.extra_body,
            **self.settings.to_dict(),
        }

    def fingerprint(self) -> str:
        """Model, prompts, generation settings and ``extra_body``: not the address, concurrency or timeouts (the same
        model served elsewhere gives the same replies)."""
        key = {"type": "openai", "model": self.model, **self.chat_config(), "extra_body": self.extra_body}
        return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]

    def check(self) -> None:
        """Ask the server which models it serves (``GET /models``, one quick request); raise when it cannot be
        reached or does not serve :attr:`model`. Servers without that route are let through."""
        import openai

        probe = self.client.with_options(timeout=min(self.settings.timeout, 30.0), max_retries=1)
        try:
            served = [m.id for m in probe.models.list()]
        except openai.NotFoundError:
            logger.info("%s does not list its models; asking anyway", self.base_url)
            return
        except openai.APIConnectionError as err:
            raise ValueError(f"cannot reach the judge at {self._address()}: {err}") from None
        except openai.APIStatusError as err:
            raise ValueError(f"the judge at {self._address()} answered HTTP {err.status_code}: {err.message}") from None
        if served and self.model not in served:
            raise ValueError(f"the judge at {self._address()} does not serve {self.model!r}; it serves {served}")

    def generate(self, conversations: Sequence[Conversation]) -> list[str | Failure]:
        if not conversations:
            return []
        workers = min(self.settings.concurrency, len(conversations))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="st-hardneg-judge") as pool:
            return list(pool.map(self._complete, conversations))

    def _complete(self, messages: Conversation) -> str | Failure:
        import openai

        kwargs: dict[str, Any] = {"temperature": self.chat.temperature, "max_tokens": self.chat.max_tokens}
        if self.extra_body:
            kwargs["extra_body"] = self.extra_body
        try:
            response = self.client.chat.completions.create(model=self.model, messages=messages, **kwargs)
        except openai.APITimeoutError:
            return Failure(f"timed out after {self.settings.timeout:g} s ({self.settings.max_retries} retries)")
        except openai.APIStatusError as err:
            return Failure(f"HTTP {err.status_code}: {err.message}")
        except openai.APIError as err:
            return Failure(f"{type(err).__name__}: {err}")
        except (ValueError, TypeError, KeyError, AttributeError) as err:  # a body the client could not read
            return Failure(f"unreadable response ({type(err).__name__}: {err})")
        choices = getattr(response, "choices", None) or []
        message = getattr(choices[0], "message", None) if choices else None
        content = getattr(message, "content", None)
        if not isinstance(content, str):
            return Failure("the response has no message content")
        return content

    def _address(self) -> str:
        return self.base_url or str(self.client.base_url)

    def __repr__(self) -> str:
        return f"OpenAIJudge(base_url={self.base_url!r}, model={self.model!r})"
