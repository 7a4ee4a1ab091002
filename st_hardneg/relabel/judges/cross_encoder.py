"""A cheap judge: a ``sentence_transformers.CrossEncoder`` instead of an LLM, with no stage-1 text.

In the spirit of RocketQA's denoised hard negatives (Qu et al., 2021: retrieved passages that a cross-encoder
scores as confident positives are not used as negatives) and of negminer's false-negative rule (a negative whose
cross-encoder score is within a threshold of the positive's), mapped onto ARHN's two stages:

- stage 1: a passage "answers" when its score is at least ``threshold`` (no snippet: the score is the reply);
- stage 2: passages are ranked by score, and a candidate scoring within ``margin`` of a labelled positive (or
  above it) is ranked above that positive.

So with ARHN's ``mode="both"``, a candidate whose score is close to or above the positive's becomes a positive, and
one below it that the cross-encoder still scores as an answer (>= ``threshold``) leaves the negatives.
Each (query, passage) is scored once per judge, whichever stage asks first.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from st_hardneg.relabel.judges.base import Answer, Judge, Ranking
from st_hardneg.relabel.settings import CrossEncoderJudgeSettings
from st_hardneg.settings.base import document_options

logger = logging.getLogger(__name__)

__all__ = ["CrossEncoderJudge"]


@document_options(CrossEncoderJudgeSettings)
class CrossEncoderJudge(Judge):
    """Judge with a cross-encoder's scores (see the module docstring for the rule).

    Args:
        model: a :class:`~sentence_transformers.CrossEncoder` (or anything with its ``predict(pairs, ...)``), or a
            name or folder to load on first use.
        settings: a :class:`~st_hardneg.relabel.settings.CrossEncoderJudgeSettings`.
        **kwargs: its fields:

            {options}

    Examples:
        >>> judge = CrossEncoderJudge("cross-encoder/ms-marco-MiniLM-L6-v2", threshold=0.8)
        >>> judge.settings.threshold, judge.gives_snippets
        (0.8, False)
    """

    gives_snippets = False

    def __init__(self, model: Any, settings: CrossEncoderJudgeSettings | None = None, **kwargs: Any) -> None:
        self.settings = CrossEncoderJudgeSettings.from_kwargs(settings, **kwargs)
        if isinstance(model, Path):
            model = str(model)
        if isinstance(model, str):
            if not model.strip():
                raise ValueError("model is an empty string; give a cross-encoder name or folder")
            self._model, self._model_id = None, model
        elif hasattr(model, "predict"):
            card = getattr(model, "model_card_data", None)
            self._model = model
            name = getattr(card, "base_model", None) or getattr(model, "name_or_path", None)
            self._model_id = name or "cross-encoder"
        else:
            raise TypeError(f"model must be a CrossEncoder or its name, got {type(model).__name__}")
        self._scores: dict[bytes, float] = {}
        self._weights: str | None = None

    @property
    def name(self) -> str:
        return self._model_id

    @property
    def model(self) -> Any:
        if self._model is None:
            from sentence_transformers import CrossEncoder

            logger.info("Loading the judge cross-encoder %s", self._model_id)
            self._model = CrossEncoder(self._model_id)
        return self._model

    def config(self) -> dict[str, Any]:
        return {
            "type": "cross-encoder",
            "model": self._model_id,
            "weights": self._weights_fingerprint(),
            **self.settings.to_dict(),
        }

    def check(self) -> None:
        """The cross-encoder loads (before the first question)."""
        try:
            _ = self.model  # loads it
        except OSError as err:
            raise ValueError(f"cannot load the cross-encoder {self._model_id!r}: {err}") from None

    def fingerprint(self) -> str:
        s = self.settings
        key = f"{self._weights_fingerprint()}|{s.threshold!r}|{s.margin!r}|{s.activation}"
        return hashlib.sha256(key.encode()).hexdigest()[:24]

    def _weights_fingerprint(self) -> str:
        if self._weights is None:
            from st_hardneg.teachers.cache import model_fingerprint

            model = self.model
            self._weights = (
                model_fingerprint(model) if hasattr(model, "parameters") else f"{type(model).__qualname__}:{self.name}"
            )
        return self._weights

    def scores(self, queries: Sequence[str], passages: Sequence[str]) -> np.ndarray:
        """The judge's score of each pair (``sigmoid`` of the logit, or the logit), each pair scored once."""
        keys = [_pair_key(q, p) for q, p in zip(queries, passages)]
        todo = {k: (q, p) for k, q, p in zip(keys, queries, passages) if k not in self._scores}
        if todo:
            pairs = list(todo.values())
            if _is_cross_encoder(self.model):
                import torch

                activation = torch.nn.Sigmoid() if self.settings.activation == "sigmoid" else torch.nn.Identity()
                raw = self.model.predict(
                    pairs, batch_size=self.settings.batch_size, show_progress_bar=False, activation_fn=activation
                )
                raw = np.asarray(raw, dtype=np.float64).reshape(len(pairs), -1)[:, -1]
            else:  # any scorer with predict(pairs) -> logits
                raw = np.asarray(self.model.predict(pairs), dtype=np.float64).reshape(len(pairs))
                if self.settings.activation == "sigmoid":
                    raw = 1.0 / (1.0 + np.exp(-raw))
            self._scores.update(zip(todo, raw.tolist()))
        return np.array([self._scores[k] for k in keys], dtype=np.float64)

    def answer(self, queries: Sequence[str], passages: Sequence[str]) -> list[Answer]:
        scores = self.scores(queries, passages)
        t = self.settings.threshold
        return [Answer("answer" if s >= t else "no answer", raw=float(s)) for s in scores]

    def rank(
        self,
        queries: Sequence[str],
        passage_lists: Sequence[Sequence[str]],
        positives: Sequence[Sequence[int]] | None = None,
    ) -> list[Ranking]:
        flat_q = [q for q, ps in zip(queries, passage_lists) for _ in ps]
        flat_p = [p for ps in passage_lists for p in ps]
        flat = self.scores(flat_q, flat_p)
        out, start = [], 0
        for i, ps in enumerate(passage_lists):
            s = flat[start : start + len(ps)]
            start += len(ps)
            is_positive = np.zeros(len(ps), dtype=bool)
            if positives is not None:
                is_positive[list(positives[i])] = True
            # A candidate within the margin of a positive (or above it) ranks above it; on a tie, the candidate first.
            lifted = np.where(is_positive, s, s + self.settings.margin)
            order = np.lexsort((np.arange(len(ps)), is_positive, -lifted))
            out.append(Ranking("ranked", order=tuple(order.tolist()), raw=[round(float(x), 6) for x in s]))
        return out


def _pair_key(query: str, passage: str) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    h.update(query.encode("utf-8"))
    h.update(b"\x00")
    h.update(passage.encode("utf-8"))
    return h.digest()


def _is_cross_encoder(model: Any) -> bool:
    try:
        from sentence_transformers import CrossEncoder
    except ImportError:  # pragma: no cover - sentence-transformers is a dependency
        return False
    return isinstance(model, CrossEncoder)
