"""Scoring a student on the held-out anchors: sentence-transformers' ``InformationRetrievalEvaluator`` over the whole
corpus (the corpus is encoded once per call), NDCG@10 and MRR@10."""

from __future__ import annotations

from typing import Any

from st_hardneg.sweep_training.holdout import HeldOut

__all__ = ["METRICS", "evaluate_retrieval"]

#: The figures a training-scored sweep reports, as its table names them.
METRICS: tuple[str, ...] = ("ndcg@10", "mrr@10")


def _evaluator_class() -> Any:
    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
    except ImportError:  # 5.x
        from sentence_transformers.evaluation import InformationRetrievalEvaluator
    return InformationRetrievalEvaluator


def evaluate_retrieval(model: Any, heldout: HeldOut, *, batch_size: int = 64, show_progress: bool = False) -> dict:
    """NDCG@10 and MRR@10 of ``model`` retrieving each held-out anchor's positives from ``heldout.corpus``, with the
    model's own similarity function (cosine for most models)."""
    evaluator = _evaluator_class()(
        queries=heldout.queries,
        corpus=heldout.corpus,
        relevant_docs=heldout.relevant_docs,
        mrr_at_k=[10],
        ndcg_at_k=[10],
        accuracy_at_k=[1],
        precision_recall_at_k=[10],
        map_at_k=[10],
        batch_size=batch_size,
        show_progress_bar=show_progress,
        name="holdout",
        write_csv=False,
    )
    results = evaluator(model)
    out = {}
    for metric in METRICS:
        keys = [k for k in results if k.endswith(f"_{metric}") and k.startswith("holdout_")]
        if len(keys) != 1:
            raise RuntimeError(f"InformationRetrievalEvaluator returned no single {metric} ({sorted(results)})")
        out[metric] = float(results[keys[0]])
    return out
