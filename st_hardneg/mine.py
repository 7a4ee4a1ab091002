"""``mine_hard_negatives``: :meth:`CandidatePool.build` followed by :meth:`CandidatePool.select`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from st_hardneg.filters.methods import MiningMethod, TopKPercPos, get_method
from st_hardneg.formatting.formatters import OutputFormat
from st_hardneg.pool.candidate_pool import CandidatePool
from st_hardneg.pool.selection import OnShort, PositiveScore
from st_hardneg.sampling.samplers import Sampler


def mine_hard_negatives(
    dataset: Any,
    teacher: Any,
    *,
    corpus: Iterable[str] | None = None,
    method: MiningMethod | str = TopKPercPos(),
    num_negatives: int = 4,
    sampling: str | Sampler = "top",
    sample_from: int = 10,
    weighting: str = "softmax",
    temperature: float = 1.0,
    output_format: OutputFormat = "n-tuple",
    output_scores: bool = False,
    on_short: OnShort | None = None,
    positive_score: PositiveScore = "row",
    min_score: float | None = None,
    depth: int | None = None,
    anchor_column: str | None = None,
    positive_column: str | None = None,
    query_prompt: str | None = None,
    query_prompt_name: str | None = None,
    corpus_prompt: str | None = None,
    corpus_prompt_name: str | None = None,
    batch_size: int = 32,
    backend: str = "exact",
    cache_folder: str | Path | None = None,
    seed: int | None = None,
    show_progress: bool = True,
    return_statistics: bool = False,
) -> Any:
    """Mine hard negatives for (anchor, positive) pairs with one of NV-Retriever's methods.

    Equivalent to ``CandidatePool.build(...).select(...)``; build the pool yourself to try several configurations
    without encoding again. See :meth:`CandidatePool.build` and :meth:`CandidatePool.select` for every argument.

    Args:
        depth: candidates retrieved per anchor; default: enough for the method and sampler
            (``max(num_negatives, sample_from) + shift``, at least 30), so thresholds have room to remove candidates.
        seed: seeds the fill documents and the sampler; every draw is reproducible given it.

    Returns:
        A :class:`datasets.Dataset`, or a :class:`~st_hardneg.pool.Selection` with ``return_statistics=True``.

    Examples:
        >>> from st_hardneg import mine_hard_negatives, TopKPercPos
        >>> from st_hardneg.data import load_default
        >>> pairs, corpus = load_default()
        >>> mined = mine_hard_negatives(pairs, "bm25", corpus=corpus, method=TopKPercPos(0.95), num_negatives=2,
        ...                             seed=0, show_progress=False)
        >>> mined.column_names
        ['anchor', 'positive', 'negative_1', 'negative_2']
    """
    method = get_method(method)
    if depth is None:
        window = max(num_negatives, sample_from if sampling != "top" else num_negatives)
        depth = max(30, window + getattr(method, "n", 0))
    pool = CandidatePool.build(
        dataset,
        teacher,
        corpus=corpus,
        depth=depth,
        anchor_column=anchor_column,
        positive_column=positive_column,
        seed=seed,
        show_progress=show_progress,
        query_prompt=query_prompt,
        query_prompt_name=query_prompt_name,
        corpus_prompt=corpus_prompt,
        corpus_prompt_name=corpus_prompt_name,
        batch_size=batch_size,
        backend=backend,
        cache_folder=cache_folder,
    )
    return pool.select(
        method,
        num_negatives,
        sampling,
        sample_from=sample_from,
        weighting=weighting,
        temperature=temperature,
        output_format=output_format,
        output_scores=output_scores,
        on_short=on_short,
        positive_score=positive_score,
        min_score=min_score,
        seed=seed,
        show_progress=show_progress,
        return_statistics=return_statistics,
    )
