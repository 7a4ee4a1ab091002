"""``mine_hard_negatives``: :meth:`CandidatePool.build` followed by :meth:`CandidatePool.select`."""

from __future__ import annotations

from typing import Any

from st_hardneg.candidate_pool import CandidatePool
from st_hardneg.pool.input_columns import check_output_ids
from st_hardneg.pool.settings import PoolSettings
from st_hardneg.select.judged import check_no_judgments_needed
from st_hardneg.select.settings import SelectionSettings
from st_hardneg.settings.base import document_options, split_kwargs

__all__ = ["mine_hard_negatives", "settings_from_kwargs"]

#: Options of sentence-transformers' ``mine_hard_negatives`` that belong to the teacher here.
_TEACHER_OPTIONS = {
    "query_prompt",
    "query_prompt_name",
    "corpus_prompt",
    "corpus_prompt_name",
    "batch_size",
    "backend",
    "cache_folder",
    "use_faiss",
}


def settings_from_kwargs(
    kwargs: dict[str, Any],
    pool_settings: PoolSettings | None = None,
    settings: SelectionSettings | None = None,
) -> tuple[PoolSettings, SelectionSettings]:
    """Pool and selection settings from one set of keyword arguments (``seed`` goes to both), checked together.

    The one place where :func:`mine_hard_negatives`, :class:`~st_hardneg.HardNegativeMiner` and the command turn
    options into settings.
    """
    teacher_options = sorted(_TEACHER_OPTIONS & set(kwargs))
    if teacher_options:
        raise TypeError(
            f"{', '.join(teacher_options)} belong to the teacher: pass DenseTeacher(model, "
            f"{teacher_options[0]}=...) as the teacher (st_hardneg.teachers.DenseTeacher)"
        )
    pool_kwargs, selection_kwargs = split_kwargs(kwargs, PoolSettings, SelectionSettings, shared=("seed",))
    pool_settings = PoolSettings.from_kwargs(pool_settings, **pool_kwargs)
    settings = SelectionSettings.from_kwargs(settings, **selection_kwargs)
    settings.check_depth(pool_settings.depth)
    check_no_judgments_needed(settings)  # a new pool has no judgments (st_hardneg.relabel)
    return pool_settings, settings


@document_options(PoolSettings, SelectionSettings)
def mine_hard_negatives(
    dataset: Any,
    teacher: Any,
    *,
    corpus: Any = None,
    settings: SelectionSettings | None = None,
    pool_settings: PoolSettings | None = None,
    show_progress: bool = True,
    return_statistics: bool = False,
    **kwargs: Any,
) -> Any:
    """Mine hard negatives for (anchor, positive) pairs with one of NV-Retriever's methods.

    The defaults are sentence-transformers' ``mine_hard_negatives`` defaults (3 negatives, triplets, top sampling)
    with ``method="auto"``: with fewer than 2 distinct positives per anchor on average that is Naive Top-K, and the
    negatives are those ``sentence_transformers.util.mine_hard_negatives`` gives; with more, TopK-PercPos 95%
    (NV-Retriever Eq. 2), which trained the better student on such data (benchmarks/REPORT.md section 8). Name a
    method to choose yourself (``method="naive-topk"``, ``method=TopKPercPos(0.95)``).

    Equivalent to ``CandidatePool.build(...).select(...)``; build the pool yourself to try several configurations
    without encoding again. Every setting, column and text is checked before the teacher loads or encodes anything.

    Args:
        dataset: a :class:`datasets.Dataset` (or dict of columns) of (anchor, positive) rows.
        teacher: a SentenceTransformer, a model name, ``"bm25"``, ``"random"``, or a
            :class:`~st_hardneg.teachers.Teacher` (``DenseTeacher(model, query_prompt=..., backend="faiss",
            cache_folder=...)`` for prompts and the rest; ``CrossEncoderTeacher(cross_encoder, first_stage=...)``);
            or a list of them with ``ensemble=`` (:mod:`st_hardneg.ensembles`) to combine their negatives.
        corpus: document texts to mine from; positives not in it are added. Default: the dataset's positives.
        settings: a :class:`~st_hardneg.settings.SelectionSettings`; keyword arguments override its fields.
        pool_settings: a :class:`~st_hardneg.settings.PoolSettings`; keyword arguments override its fields.
        show_progress: tqdm bars.
        return_statistics: return a :class:`~st_hardneg.pool.Selection` (dataset, statistics, settings, context).
        **kwargs: fields of the two settings classes (``seed`` sets both):

            {options}

    Returns:
        A :class:`datasets.Dataset`, or a :class:`~st_hardneg.pool.Selection` with ``return_statistics=True``.

    Examples:
        >>> from st_hardneg import mine_hard_negatives, TopKPercPos
        >>> from st_hardneg.data import load_default
        >>> pairs, corpus = load_default()
        >>> mined = mine_hard_negatives(pairs, "bm25", corpus=corpus, show_progress=False)
        >>> mined.column_names
        ['anchor', 'positive', 'negative']
        >>> paper = mine_hard_negatives(pairs, "bm25", corpus=corpus, method=TopKPercPos(0.95), num_negatives=2,
        ...                             output_format="n-tuple", show_progress=False)
        >>> paper.column_names
        ['anchor', 'positive', 'negative_1', 'negative_2']
    """
    pool_settings, settings = settings_from_kwargs(kwargs, pool_settings, settings)
    if settings.output_ids:  # before anything is encoded
        check_output_ids(dataset, corpus, pool_settings.anchor_column, pool_settings.positive_column)
    pool = CandidatePool.build(dataset, teacher, corpus=corpus, settings=pool_settings, show_progress=show_progress)
    return pool.select(settings, show_progress=show_progress, return_statistics=return_statistics)
