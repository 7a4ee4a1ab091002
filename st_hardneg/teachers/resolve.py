"""Turning what users pass as ``teacher=`` into :class:`~st_hardneg.teachers.base.Teacher` objects.

Shorthands: ``"bm25"`` is a :class:`~st_hardneg.teachers.BM25Teacher` with its defaults, ``"random"`` a
:class:`~st_hardneg.teachers.RandomTeacher`; a model name or path, or a SentenceTransformer, is a
:class:`~st_hardneg.teachers.DenseTeacher` with its defaults. For prompts, a backend or a cache, build the teacher
yourself: ``DenseTeacher(model, query_prompt="query: ", backend="faiss")``; a cross-encoder needs a first stage:
``CrossEncoderTeacher(cross_encoder, first_stage="bm25")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from st_hardneg.teachers.base import Teacher
from st_hardneg.teachers.bm25 import BM25Teacher
from st_hardneg.teachers.dense import DenseTeacher
from st_hardneg.teachers.random import RandomTeacher

__all__ = ["check_teacher", "resolve_teacher", "resolve_teachers"]


def check_teacher(teacher: Any) -> None:
    """Raise a ``TypeError`` for anything that cannot be a teacher (cheap: nothing is loaded)."""
    if isinstance(teacher, Teacher):
        return
    if isinstance(teacher, (str, Path)):
        if not str(teacher).strip():
            raise ValueError("teacher is an empty string; give a model name or path, 'bm25' or 'random'")
        return
    if hasattr(teacher, "encode_document") or hasattr(teacher, "encode"):
        return
    if hasattr(teacher, "predict") and hasattr(teacher, "rank"):
        raise TypeError(
            "teacher is a CrossEncoder: it scores pairs but cannot search a corpus; give it a first stage, "
            "CrossEncoderTeacher(cross_encoder, first_stage='bm25') (st_hardneg.teachers)"
        )
    raise TypeError(
        "teacher must be a SentenceTransformer, a model name or path, 'bm25' or a st_hardneg Teacher, "
        f"got {type(teacher).__name__}"
    )


def resolve_teacher(teacher: Any) -> Teacher:
    """A Teacher from a Teacher, ``"bm25"``, ``"random"``, a SentenceTransformer, or a model name/path (loaded on
    first use)."""
    check_teacher(teacher)
    if isinstance(teacher, Teacher):
        return teacher
    if isinstance(teacher, str) and teacher.strip().lower() == "bm25":
        return BM25Teacher()
    if isinstance(teacher, str) and teacher.strip().lower() == "random":
        return RandomTeacher()
    return DenseTeacher(teacher)


def resolve_teachers(teacher: Any) -> list[Teacher]:
    """A list of teachers from one teacher or a list of them, with distinct names."""
    specs = list(teacher) if isinstance(teacher, (list, tuple)) else [teacher]
    if not specs:
        raise ValueError("teacher is an empty list; give at least one teacher")
    for spec in specs:
        check_teacher(spec)
    teachers = [resolve_teacher(t) for t in specs]
    names = [t.name for t in teachers]
    if len(set(names)) != len(names):
        raise ValueError(f"Teachers in one pool need distinct names, got {names}; pass name=... to tell them apart")
    return teachers
