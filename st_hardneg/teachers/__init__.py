"""Teachers rank a corpus for each anchor and score pairs: dense bi-encoders, BM25, cross-encoders."""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Teacher": "st_hardneg.teachers.base",
        "TeacherIndex": "st_hardneg.teachers.base",
        "TeacherOutput": "st_hardneg.teachers.base",
        "BM25Teacher": "st_hardneg.teachers.bm25",
        "CrossEncoderTeacher": "st_hardneg.teachers.cross_encoder",
        "DenseTeacher": "st_hardneg.teachers.dense",
        "load_sentence_transformer": "st_hardneg.teachers.loading",
        "RandomTeacher": "st_hardneg.teachers.random",
        "check_teacher": "st_hardneg.teachers.resolve",
        "resolve_teacher": "st_hardneg.teachers.resolve",
        "resolve_teachers": "st_hardneg.teachers.resolve",
    },
)
