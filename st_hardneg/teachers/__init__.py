"""Teachers rank a corpus for each anchor and score pairs: dense bi-encoders, BM25, cross-encoders."""

from st_hardneg.teachers.base import Teacher, TeacherIndex, TeacherOutput
from st_hardneg.teachers.bm25 import BM25Teacher
from st_hardneg.teachers.dense import DenseTeacher
from st_hardneg.teachers.resolve import load_sentence_transformer, resolve_teacher

__all__ = [
    "BM25Teacher",
    "DenseTeacher",
    "Teacher",
    "TeacherIndex",
    "TeacherOutput",
    "load_sentence_transformer",
    "resolve_teacher",
]
