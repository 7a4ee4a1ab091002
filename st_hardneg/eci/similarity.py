"""Model I/O: similarities of each query to its positives and negatives.

A bi-encoder (``SentenceTransformer``, or anything with ``encode`` and ``similarity_pairwise``) encodes each unique
anchor once with ``encode_query`` and each unique document once with ``encode_document`` (the plain ``encode``
when a model predates those), then scores only the needed pairs with the model's own similarity function.
A cross-encoder (``CrossEncoder``, anything with ``predict`` and no ``encode``) scores each unique
``(query, document)`` pair once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from st_hardneg.eci.groups import QueryGroup

logger = logging.getLogger(__name__)

__all__ = ["score_groups"]

_PAIR_CHUNK = 65_536


def _index(texts: Sequence[str]) -> dict[str, int]:
    """Unique texts -> position, first-seen order."""
    return {t: i for i, t in enumerate(dict.fromkeys(texts))}


def _is_cross_encoder(model: Any) -> bool:
    return hasattr(model, "predict") and not hasattr(model, "encode")


def _encode(model: Any, texts: list[str], role: str, batch_size: int, show_progress: bool) -> Any:
    fn = getattr(model, f"encode_{role}", None) or model.encode
    return fn(texts, batch_size=batch_size, show_progress_bar=show_progress, convert_to_tensor=True)


def _pair_scores_bi_encoder(
    model: Any,
    pairs: list[tuple[str, str]],
    batch_size: int,
    show_progress: bool,
) -> np.ndarray:
    queries = _index([q for q, _ in pairs])
    documents = _index([d for _, d in pairs])
    logger.info("Encoding %d unique queries and %d unique documents", len(queries), len(documents))
    q_emb = _encode(model, list(queries), "query", batch_size, show_progress)
    d_emb = _encode(model, list(documents), "document", batch_size, show_progress)
    q_idx = np.fromiter((queries[q] for q, _ in pairs), dtype=np.int64, count=len(pairs))
    d_idx = np.fromiter((documents[d] for _, d in pairs), dtype=np.int64, count=len(pairs))
    out = np.empty(len(pairs), dtype=np.float64)
    for start in range(0, len(pairs), _PAIR_CHUNK):
        stop = start + _PAIR_CHUNK
        sims = model.similarity_pairwise(q_emb[q_idx[start:stop]], d_emb[d_idx[start:stop]])
        out[start:stop] = sims.detach().float().cpu().numpy()
    return out


def _pair_scores_cross_encoder(
    model: Any, pairs: list[tuple[str, str]], batch_size: int, show_progress: bool
) -> np.ndarray:
    logger.info("Scoring %d unique pairs with a cross-encoder", len(pairs))
    scores = model.predict(pairs, batch_size=batch_size, show_progress_bar=show_progress, convert_to_numpy=True)
    return np.asarray(scores, dtype=np.float64).reshape(len(pairs), -1)[:, 0]


def score_groups(
    groups: Sequence[QueryGroup],
    model: Any,
    *,
    batch_size: int = 32,
    show_progress: bool = False,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Score every query's positives and negatives under ``model``.

    Args:
        groups: Queries from :func:`~st_hardneg.eci.groups.group_queries` (may come from several datasets; each
            unique text or pair is still scored once).
        model: A ``SentenceTransformer`` (or another encoder with ``encode`` and ``similarity_pairwise``) or a
            ``CrossEncoder``. For cross-encoders, ECI expects bounded scores: keep the model's default
            activation (a sigmoid for single-label rerankers) rather than raw logits.
        batch_size: Encoding / prediction batch size.
        show_progress: Show the model's progress bars.

    Returns:
        ``(positive_scores, negative_scores)``: per query, arrays aligned with ``group.positives`` and
        ``group.negatives``.
    """
    pairs_index = _index(
        [(g.anchor, d) for g in groups for d in (*g.positives, *g.negatives)]  # type: ignore[misc]
    )
    pairs = list(pairs_index)
    if _is_cross_encoder(model):
        flat = _pair_scores_cross_encoder(model, pairs, batch_size, show_progress)
    else:
        flat = _pair_scores_bi_encoder(model, pairs, batch_size, show_progress)

    positive_scores, negative_scores = [], []
    for g in groups:
        positive_scores.append(np.asarray([flat[pairs_index[(g.anchor, d)]] for d in g.positives]))
        negative_scores.append(np.asarray([flat[pairs_index[(g.anchor, d)]] for d in g.negatives]))
    return positive_scores, negative_scores
