"""Teachers rank a corpus for each anchor and score pairs: dense bi-encoders, BM25, cross-encoders."""

from st_hardneg.teachers.base import Teacher, TeacherIndex, TeacherOutput
from st_hardneg.teachers.bm25 import BM25Teacher
from st_hardneg.teachers.cross_encoder import CrossEncoderTeacher
from st_hardneg.teachers.dense import DenseTeacher
from st_hardneg.teachers.loading import load_sentence_transformer
from st_hardneg.teachers.random import RandomTeacher
from st_hardneg.teachers.resolve import check_teacher, resolve_teacher, resolve_teachers

__all__ = [
    "BM25Teacher",
    "CrossEncoderTeacher",
    "DenseTeacher",
    "RandomTeacher",
    "Teacher",
    "TeacherIndex",
    "TeacherOutput",
    "check_teacher",
    "load_sentence_transformer",
    "resolve_teacher",
    "resolve_teachers",
]
