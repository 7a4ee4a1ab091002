"""Cross-encoder teacher: a first stage (BM25 or a dense model) retrieves, a sentence-transformers ``CrossEncoder``
rescores every candidate and every requested pair, and the candidates are re-ranked by its scores.

This is the ECI paper's cross-encoder mining (Sinha et al., 2026, section 3.2: "all candidate passages excluding
known positives are paired with the query and scored using a pretrained cross-encoder ... then ranked by
cross-encoder score") and, in a pool next to its first stage, the material of its BM25+Cross-Encoder hybrid
(``ensemble="concat"``). Every mining method, TopK-PercPos included, then runs on the cross-encoder's scores, and
the positives are scored by the cross-encoder too. Rescoring always happens when the teacher is used (unlike
sentence-transformers' ``mine_hard_negatives``, which consults its cross-encoder only when a margin or
``max_score`` is set). As one teacher of a pool its scores are computed once and selected from many times.

Scores: the cross-encoder's single logit, passed through a sigmoid (default: scores in (0, 1), so percentage and
absolute thresholds have their usual meaning) or kept raw (``activation="raw"``); the choice is in the teacher's
configuration and so in ``mining.json`` and the dataset card.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from st_hardneg.settings.base import document_options
from st_hardneg.teachers.base import Teacher, TeacherIndex, TeacherOutput, pad_topk
from st_hardneg.teachers.provenance import model_reference
from st_hardneg.teachers.settings import CrossEncoderSettings

logger = logging.getLogger(__name__)

__all__ = ["CrossEncoderTeacher"]

#: Pairs handed to one ``CrossEncoder.predict`` call, in units of the batch size (the progress bar's step).
_BATCHES_PER_CALL = 8


@document_options(CrossEncoderSettings)
class CrossEncoderTeacher(Teacher):
    """Rescore a first stage's candidates with a :class:`sentence_transformers.CrossEncoder`.

    Args:
        cross_encoder: a ``CrossEncoder`` (one score per pair, ``num_labels=1``), or its name or path, loaded on
            first use (after every check of the inputs).
        first_stage: the teacher that retrieves the candidates: ``"bm25"`` (default), a SentenceTransformer, a
            model name, or any :class:`~st_hardneg.teachers.Teacher`. When the same teacher object is also a
            teacher of the pool, its index is shared (the corpus is encoded once).
        settings: a :class:`~st_hardneg.settings.CrossEncoderSettings`; keyword arguments override its fields.
        name: the teacher's key in a pool; defaults to the cross-encoder's name.
        **kwargs: fields of :class:`~st_hardneg.settings.CrossEncoderSettings`:

            {options}

    Each distinct (anchor, document) pair is scored once per run, however many roles it has (candidate,
    positive, fill reserve), in batches ordered by text length, with a progress bar.

    Examples:
        >>> teacher = CrossEncoderTeacher("cross-encoder/ms-marco-MiniLM-L6-v2", first_stage="bm25", depth=200)
        >>> teacher.name, teacher.config()["first_stage"]["type"], teacher.config()["activation"]
        ('cross-encoder/ms-marco-MiniLM-L6-v2', 'bm25', 'sigmoid')
    """

    def __init__(
        self,
        cross_encoder: Any,
        first_stage: Any = "bm25",
        settings: CrossEncoderSettings | None = None,
        *,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        from st_hardneg.teachers.resolve import resolve_teacher

        self.settings = CrossEncoderSettings.from_kwargs(settings, **kwargs)
        if isinstance(cross_encoder, Path):
            cross_encoder = str(cross_encoder)
        if isinstance(cross_encoder, str):
            if not cross_encoder.strip():
                raise ValueError("cross_encoder is an empty string; give a CrossEncoder model name or path")
            self._model, self._model_id = None, cross_encoder
        elif hasattr(cross_encoder, "predict"):
            self._model, self._model_id = cross_encoder, _model_name(cross_encoder)
        else:
            kind = type(cross_encoder).__name__
            raise TypeError(f"cross_encoder must be a sentence_transformers.CrossEncoder or its name, got {kind}")
        self.first_stage: Teacher = resolve_teacher(first_stage)
        # Provenance names the Hub id when known, never a path on this machine (teachers/provenance.py).
        self._reference = model_reference(self._model_id)
        self._name = name or self._reference.hub_id or self._reference.name
        if self._name == self.first_stage.name:
            raise ValueError(f"the cross-encoder teacher and its first stage are both named {self._name!r}; pass name=")

    @property
    def model(self) -> Any:
        """The CrossEncoder (loaded here on first use when a name was given), checked to give one score per pair."""
        if self._model is None:
            from sentence_transformers import CrossEncoder

            from st_hardneg.teachers.loading import load_model

            logger.info("Loading the cross-encoder %s", self._model_id)
            self._model = load_model(CrossEncoder, self._model_id)
        labels = getattr(self._model, "num_labels", 1)
        if labels != 1:
            raise ValueError(
                f"the cross-encoder {self._model_id!r} has num_labels={labels}; a teacher needs one relevance score "
                "per (anchor, document) pair (num_labels=1)"
            )
        return self._model

    @property
    def name(self) -> str:
        return self._name

    def config(self) -> dict[str, Any]:
        s = self.settings
        return {
            "type": "cross-encoder",
            "name": self.name,
            "model": self._reference.hub_id,
            "revision": self._reference.revision,
            **({"local_model": self._reference.name} if self._reference.local else {}),
            "activation": s.activation,
            "depth": s.depth,
            "first_stage": self.first_stage.config(),
        }

    def index(
        self, corpus: Sequence[str], show_progress: bool = True, *, first_stage_index: TeacherIndex | None = None
    ) -> CrossEncoderIndex:
        """Bind to ``corpus``: the first stage's index (``first_stage_index`` when the pool already built it)."""
        first = first_stage_index if first_stage_index is not None else self.first_stage.index(corpus, show_progress)
        self.model  # noqa: B018 - loads and checks the model before any scoring
        return CrossEncoderIndex(self, corpus, first)

    def score_pairs(self, corpus, queries, pair_queries, pair_docs, show_progress=True) -> np.ndarray:
        return self.predict_pairs(queries, corpus, np.asarray(pair_queries), np.asarray(pair_docs), show_progress)

    def predict_pairs(
        self,
        queries: Sequence[str],
        corpus: Sequence[str],
        pair_queries: np.ndarray,
        pair_docs: np.ndarray,
        show_progress: bool = True,
    ) -> np.ndarray:
        """The cross-encoder's score of each (``queries[i]``, ``corpus[j]``) pair; each distinct pair predicted once."""
        import torch

        pair_queries = np.asarray(pair_queries, dtype=np.int64)
        pair_docs = np.asarray(pair_docs, dtype=np.int64)
        if len(pair_queries) == 0:
            return np.zeros(0, dtype=np.float32)
        n = max(len(corpus), 1)
        unique, inverse = np.unique(pair_queries * n + pair_docs, return_inverse=True)
        uq, ud = unique // n, unique % n
        # Similar lengths in one batch: less padding to compute.
        lengths = np.fromiter((len(queries[a]) + len(corpus[b]) for a, b in zip(uq, ud)), np.int64, len(unique))
        order = np.argsort(lengths, kind="stable")
        activation = torch.nn.Sigmoid() if self.settings.activation == "sigmoid" else torch.nn.Identity()
        model, batch = self.model, self.settings.batch_size
        step = batch * _BATCHES_PER_CALL
        scores = np.empty(len(unique), dtype=np.float32)
        with tqdm(total=len(unique), desc="Cross-encoder scores", unit="pair", disable=not show_progress) as bar:
            for start in range(0, len(unique), step):
                part = order[start : start + step]
                pairs = [(queries[uq[i]], corpus[ud[i]]) for i in part]
                out = model.predict(
                    pairs, batch_size=batch, show_progress_bar=False, activation_fn=activation, convert_to_numpy=True
                )
                scores[part] = np.asarray(out, dtype=np.float32).reshape(len(part))
                bar.update(len(part))
        return scores[inverse.ravel()]


class CrossEncoderIndex(TeacherIndex):
    def __init__(self, teacher: CrossEncoderTeacher, corpus: Sequence[str], first_stage: TeacherIndex) -> None:
        super().__init__(corpus)
        self.teacher = teacher
        self.first_stage = first_stage

    def run(self, queries, k, pair_queries, pair_docs, show_progress=True) -> TeacherOutput:
        depth = self.teacher.settings.depth or k
        none = np.zeros(0, dtype=np.int64)
        first = self.first_stage.run(queries, depth, none, none, show_progress)
        candidates = first.candidates
        valid = candidates >= 0
        cand_q = np.repeat(np.arange(len(queries), dtype=np.int64), candidates.shape[1]).reshape(candidates.shape)
        all_q = np.concatenate([cand_q[valid], np.asarray(pair_queries, np.int64)])
        all_d = np.concatenate([candidates[valid].astype(np.int64), np.asarray(pair_docs, np.int64)])
        scores = self.teacher.predict_pairs(queries, self.corpus, all_q, all_d, show_progress)
        cand_scores = np.full(candidates.shape, -np.inf, dtype=np.float32)
        cand_scores[valid] = scores[: int(valid.sum())]
        idx, sc = pad_topk(candidates, cand_scores, k)
        return TeacherOutput(idx, sc, scores[int(valid.sum()) :])


def _model_name(model: Any) -> str:
    card = getattr(model, "model_card_data", None)
    for value in (getattr(card, "base_model", None), getattr(card, "model_name", None)):
        if value:
            return str(value)
    for get in (lambda: model[0].auto_model.config._name_or_path, lambda: model.config._name_or_path):
        try:
            value = get()
        except Exception:  # noqa: BLE001 - any module layout; the class name is the last resort
            continue
        if value:
            return str(value)
    return "cross-encoder"
