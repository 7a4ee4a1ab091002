"""Teachers rebuilt from the configuration they record (``Teacher.config()``), to mine a recorded set again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from st_hardneg.teachers.bm25 import BM25Teacher
from st_hardneg.teachers.cross_encoder import CrossEncoderTeacher
from st_hardneg.teachers.dense import DenseTeacher
from st_hardneg.teachers.random import RandomTeacher

__all__ = ["teacher_from_config"]


def teacher_from_config(t: Mapping[str, Any]) -> Any:
    """A teacher (a list of them for an ensemble) rebuilt from its ``config()`` (a model name loads on first use).

    Raises:
        ValueError: the teacher cannot be rebuilt from what was recorded (a local model, a custom stemmer or
            teacher type): the caller passes its own.
    """
    kind = t.get("type")
    if kind == "ensemble":
        return [teacher_from_config(member) for member in t.get("members", {}).values()]
    if kind == "random":
        return RandomTeacher(seed=t.get("seed", 0), name=t.get("name", "random"))
    if kind == "cross-encoder":
        if not t.get("model"):
            raise ValueError(
                f"the cross-encoder was a local model ({t.get('local_model', 'its path is not recorded')}); pass "
                "teacher=CrossEncoderTeacher('path/to/that/model', first_stage=...)"
            )
        return CrossEncoderTeacher(
            t["model"],
            first_stage=teacher_from_config(t.get("first_stage") or {}),
            name=t.get("name"),
            depth=t.get("depth"),
            activation=t.get("activation", "sigmoid"),
        )
    if kind == "dense":
        if not t.get("model"):
            raise ValueError(
                f"the teacher was a local model ({t.get('local_model', 'its path is not recorded')}); pass it: "
                "config.mine(pairs, corpus=corpus, teacher=DenseTeacher('path/to/that/model', ...))"
            )
        return DenseTeacher(
            t["model"],
            name=t.get("name"),
            query_prompt=t.get("query_prompt"),
            corpus_prompt=t.get("corpus_prompt"),
            backend=t.get("backend", "exact"),
            dtype=t.get("dtype"),
        )
    if kind == "bm25":
        if t.get("stemmer"):
            raise ValueError(f"the BM25 teacher used the stemmer {t['stemmer']!r}; pass teacher=BM25Teacher(...)")
        keys = ("k1", "b", "delta", "method", "stopwords", "name")
        return BM25Teacher(**{k: t[k] for k in keys if k in t})
    raise ValueError(f"cannot rebuild a teacher of type {kind!r} from its configuration; pass teacher=...")
