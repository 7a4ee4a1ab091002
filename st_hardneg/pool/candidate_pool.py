"""The candidate pool: encode and search once, then select many mining configurations without encoding again.

Data flow: dataset -> :func:`~st_hardneg.pool.inputs.build_layout` (dedup anchors and documents) -> each teacher
ranks the corpus (:func:`~st_hardneg.pool.building.mine_teacher`) -> pool. ``pool.select`` then applies a mining
method (:mod:`st_hardneg.filters`), a sampler (:mod:`st_hardneg.sampling`) and a formatter
(:mod:`st_hardneg.formatting`). Several teachers can share one pool (``teacher=[...]``), each with its own
candidates and scores.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from st_hardneg.filters.methods import MiningMethod, TopKPercPos, get_method
from st_hardneg.formatting.formatters import OUTPUT_FORMATS, OutputFormat, format_dataset
from st_hardneg.pool.building import TeacherCandidates, mine_teacher
from st_hardneg.pool.inputs import FixedCorpus, build_layout, resolve_columns
from st_hardneg.pool.selection import OnShort, PositiveScore, row_positive_scores, select_negatives
from st_hardneg.pool.statistics import PoolStatistics, SelectionStatistics
from st_hardneg.sampling.samplers import Sampler
from st_hardneg.teachers.base import TeacherIndex
from st_hardneg.teachers.resolve import resolve_teacher

logger = logging.getLogger(__name__)


class Selection(NamedTuple):
    """A selection's result with its provenance: the dataset, what happened, and the configuration used."""

    dataset: Any
    statistics: SelectionStatistics
    config: dict[str, Any]


class CandidatePool:
    """Ranked candidates of one or more teachers for every anchor of a pairs dataset.

    Build with :meth:`build`, pick negatives with :meth:`select` (as often as you like, no encoding), persist with
    :meth:`save` / :meth:`load`.

    Attributes:
        queries: Arrow array of unique anchor texts.
        corpus: Arrow array of unique document texts.
        row_query / row_positive: per input row, the query index and the positive's corpus index.
        teachers: ``{name: TeacherCandidates}``.
        config: how the pool was built (columns, depth, seed, teachers).
        statistics: :class:`~st_hardneg.pool.statistics.PoolStatistics` of the build.
        history: ``[{"config": ..., "statistics": ...}]`` of every selection made from this pool.
    """

    def __init__(
        self,
        queries: pa.Array,
        corpus: pa.Array,
        row_query: np.ndarray,
        row_positive: np.ndarray,
        positives_indptr: np.ndarray,
        positives_indices: np.ndarray,
        teachers: dict[str, TeacherCandidates],
        config: dict[str, Any],
        statistics: PoolStatistics,
        history: list[dict[str, Any]] | None = None,
    ) -> None:
        self.queries = queries
        self.corpus = corpus
        self.row_query = row_query
        self.row_positive = row_positive
        self.positives_indptr = positives_indptr
        self.positives_indices = positives_indices
        self.teachers = teachers
        self.config = config
        self.statistics = statistics
        self.history = history or []

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        dataset: Any,
        teacher: Any | Sequence[Any],
        *,
        corpus: Iterable[str] | None = None,
        depth: int = 100,
        anchor_column: str | None = None,
        positive_column: str | None = None,
        num_random: int = 16,
        seed: int | None = None,
        show_progress: bool = True,
        query_prompt: str | None = None,
        query_prompt_name: str | None = None,
        corpus_prompt: str | None = None,
        corpus_prompt_name: str | None = None,
        batch_size: int = 32,
        backend: str = "exact",
        cache_folder: str | Path | None = None,
        _indexes: dict[str, TeacherIndex] | None = None,
        _fixed_corpus: FixedCorpus | None = None,
    ) -> CandidatePool:
        """Encode and search once for every teacher.

        Args:
            dataset: a :class:`datasets.Dataset` (or dict of columns) of (anchor, positive) rows; a repeated anchor
                means several positives. All of an anchor's positives are excluded from its candidates.
            teacher: a SentenceTransformer, a model name, ``"bm25"``, a :class:`~st_hardneg.teachers.Teacher`, or a
                list of these for a multi-teacher pool.
            corpus: documents to mine from; positives not in it are added. Default: the dataset's positives.
            depth: candidates kept per anchor (after removing positives). Selections may look at most this deep.
            anchor_column / positive_column: default "anchor"/"positive" when present, else the first two columns.
            num_random: random corpus documents (outside the candidates) kept and scored per anchor, to fill rows
                that end up short of negatives.
            seed: seeds the random fill documents; None draws one (recorded in ``config``).
            show_progress: tqdm bars.
            query_prompt, query_prompt_name, corpus_prompt, corpus_prompt_name, batch_size, backend,
                cache_folder: passed to :class:`~st_hardneg.teachers.DenseTeacher` when a teacher is a model.
        """
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        names = _column_names(dataset)
        anchor_column, positive_column = resolve_columns(names, anchor_column, positive_column)
        layout = build_layout(
            list(dataset[anchor_column]), list(dataset[positive_column]), corpus, fixed_corpus=_fixed_corpus
        )
        dense_kwargs = dict(
            query_prompt=query_prompt,
            query_prompt_name=query_prompt_name,
            corpus_prompt=corpus_prompt,
            corpus_prompt_name=corpus_prompt_name,
            batch_size=batch_size,
            backend=backend,
            cache_folder=cache_folder,
        )
        teacher_list = list(teacher) if isinstance(teacher, (list, tuple)) else [teacher]
        resolved = [resolve_teacher(t, **dense_kwargs) for t in teacher_list]
        names = [t.name for t in resolved]
        if len(set(names)) != len(names):
            raise ValueError(f"Teachers in one pool need distinct names, got {names}; pass name=... to tell them apart")
        seed = _fresh_seed() if seed is None else int(seed)
        rng = np.random.default_rng(seed)

        stats = PoolStatistics(
            rows=len(layout.row_query),
            queries=len(layout.queries),
            corpus_size=len(layout.corpus),
            queries_with_several_positives=int((np.diff(layout.positives_indptr) > 1).sum()),
            added_positives=layout.added_positives,
            duplicate_corpus_texts=layout.duplicate_corpus_texts,
        )
        teachers: dict[str, TeacherCandidates] = {}
        for t in resolved:
            logger.info("Mining candidates with teacher %s", t.name)
            index = _indexes[t.name] if _indexes is not None else t.index(layout.corpus, show_progress)
            tc, tstats = mine_teacher(
                layout,
                index,
                t.name,
                t.config(),
                depth=depth,
                num_random=num_random,
                rng=rng,
                show_progress=show_progress,
            )
            teachers[t.name] = tc
            stats.teachers[t.name] = tstats
        config = {
            "anchor_column": anchor_column,
            "positive_column": positive_column,
            "depth": depth,
            "num_random": num_random,
            "seed": seed,
            "corpus_given": corpus is not None,
            "teachers": {name: tc.config for name, tc in teachers.items()},
        }
        return cls(
            queries=pa.array(layout.queries, type=pa.large_string()),
            corpus=_fixed_corpus.arrow
            if _fixed_corpus is not None
            else pa.array(layout.corpus, type=pa.large_string()),
            row_query=layout.row_query,
            row_positive=layout.row_positive,
            positives_indptr=layout.positives_indptr,
            positives_indices=layout.positives_indices,
            teachers=teachers,
            config=config,
            statistics=stats,
        )

    # ------------------------------------------------------------------ selecting
    def select(
        self,
        method: MiningMethod | str | dict = TopKPercPos(),
        num_negatives: int = 4,
        sampling: str | Sampler = "top",
        *,
        sample_from: int = 10,
        weighting: str = "softmax",
        temperature: float = 1.0,
        output_format: OutputFormat = "n-tuple",
        output_scores: bool = False,
        on_short: OnShort | None = None,
        positive_score: PositiveScore = "row",
        min_score: float | None = None,
        teacher: str | None = None,
        seed: int | None = None,
        chunk_size: int = 16384,
        show_progress: bool = True,
        return_statistics: bool = False,
    ) -> Any:
        """Pick negatives for every row with one mining configuration; no encoding.

        Args:
            method: a mining method (:mod:`st_hardneg.filters`) or its CLI string, e.g. ``"topk-percpos:0.95"``.
                Default: TopK-PercPos at 95%, NV-Retriever's best.
            num_negatives: negatives per row (4 in NV-Retriever's experiments).
            sampling: ``"top"``, ``"sampled"`` or ``"top1_sampled"`` (or a :class:`~st_hardneg.sampling.Sampler`).
            sample_from / weighting / temperature: for the sampled strategies: draw from the top ``sample_from``
                survivors, weighted by ``softmax(score / temperature)`` (``weighting="softmax"``) or uniformly.
            output_format: "triplet", "n-tuple", "labeled-pair" or "labeled-list".
            output_scores: add the teacher scores (``scores`` = [pos, neg...]; ``score`` for labeled-pair) for
                distillation losses.
            on_short: what to do with rows that end with fewer than ``num_negatives`` survivors: ``"keep"`` them
                with what they have ("triplet", "labeled-pair", "labeled-list" only), ``"drop"`` them, or
                ``"fill"`` them with the anchor's random corpus negatives that obey the method's bound (n-tuple rows
                still short after that are dropped). Default: ``"fill"`` for "n-tuple", ``"keep"`` otherwise.
                Rows with no negative at all are always dropped. Every dropped row is counted in the statistics.
            positive_score: ``"row"`` compares candidates with the row's own positive score; ``"min"`` with the
                lowest score over the anchor's positives (the stricter choice of NeMo's and sentence-transformers'
                miners).
            min_score: also remove candidates scoring below this (too easy to teach anything), as
                sentence-transformers' ``min_score`` does; None (default) keeps them.
            teacher: which teacher's candidates to use; required when the pool has several.
            seed: seeds the sampler; None draws one (recorded in the returned config).
            chunk_size: rows processed at once; memory is about ``chunk_size * depth``.
            show_progress: tqdm bars.
            return_statistics: return a :class:`Selection` ``(dataset, statistics, config)`` instead of the dataset.

        Returns:
            A :class:`datasets.Dataset` ready for ``SentenceTransformerTrainer``, or a :class:`Selection`.
        """
        method = get_method(method)
        sampler = sampling if isinstance(sampling, Sampler) else Sampler(sampling, sample_from, weighting, temperature)
        sampler.check(num_negatives)
        if output_format not in OUTPUT_FORMATS:
            raise ValueError(f"output_format must be one of {OUTPUT_FORMATS}, got {output_format!r}")
        if on_short is None:
            on_short = "fill" if output_format == "n-tuple" else "keep"
        if on_short not in ("keep", "drop", "fill"):
            raise ValueError(f"on_short must be 'keep', 'drop' or 'fill', got {on_short!r}")
        if on_short == "keep" and output_format == "n-tuple":
            raise ValueError("n-tuple rows need num_negatives negatives each: use on_short='fill' or 'drop'")
        tc = self._teacher(teacher)
        depth = tc.candidates.shape[1]
        reachable = depth - getattr(method, "n", 0)
        if num_negatives > reachable:
            raise ValueError(
                f"num_negatives={num_negatives} cannot come from {reachable} reachable candidates ({method} in a pool "
                f"of depth {depth}); build the pool deeper or ask for fewer negatives"
            )
        seed = _fresh_seed() if seed is None else int(seed)
        rng = np.random.default_rng(seed)

        pos = row_positive_scores(tc, self.row_query, len(self.queries), positive_score)
        selected, stats = select_negatives(
            tc,
            self.row_query,
            self.row_positive,
            pos,
            method=method,
            sampler=sampler,
            num_negatives=num_negatives,
            on_short=on_short,
            need_full_rows=output_format == "n-tuple",
            min_score=min_score,
            rng=rng,
            chunk_size=chunk_size,
            show_progress=show_progress,
        )
        dataset = format_dataset(
            selected,
            self.queries,
            self.corpus,
            output_format,
            anchor_column=self.config["anchor_column"],
            positive_column=self.config["positive_column"],
            output_scores=output_scores,
        )
        stats.examples_out = len(dataset)
        config = {
            "teacher": tc.name,
            "teacher_config": tc.config,
            "method": method.to_dict(),
            "num_negatives": num_negatives,
            "sampling": sampler.to_dict(),
            "output_format": output_format,
            "output_scores": output_scores,
            "on_short": on_short,
            "positive_score": positive_score,
            "min_score": min_score,
            "seed": seed,
            "depth": depth,
        }
        self.history.append({"config": config, "statistics": stats.to_dict()})
        logger.info(
            "Selected %d negatives for %d rows with %s (%d removed by the method, %d filled, %d rows dropped)",
            int((selected.negatives >= 0).sum()),
            stats.rows_out,
            method,
            stats.removed_by_method,
            stats.negatives_filled,
            stats.rows_dropped,
        )
        return Selection(dataset, stats, config) if return_statistics else dataset

    def _teacher(self, name: str | None) -> TeacherCandidates:
        if name is None:
            if len(self.teachers) > 1:
                raise ValueError(f"This pool has several teachers {list(self.teachers)}; pass teacher=...")
            return next(iter(self.teachers.values()))
        if name not in self.teachers:
            raise ValueError(f"No teacher {name!r} in this pool; it has {list(self.teachers)}")
        return self.teachers[name]

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the pool to a folder (JSON, Arrow and ``.npy`` files); :meth:`load` reads it back."""
        from st_hardneg.pool.storage import save_pool

        save_pool(self, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> CandidatePool:
        """Read a pool written by :meth:`save`; large arrays are memory-mapped."""
        from st_hardneg.pool.storage import load_pool

        return load_pool(cls, Path(path))

    def __len__(self) -> int:
        return len(self.row_query)

    def __repr__(self) -> str:
        return (
            f"CandidatePool(rows={len(self)}, queries={len(self.queries)}, corpus={len(self.corpus)}, "
            f"teachers={list(self.teachers)}, depth={self.config.get('depth')})"
        )


def _column_names(dataset: Any) -> list[str]:
    if isinstance(dataset, dict):
        return list(dataset)
    if hasattr(dataset, "column_names"):
        return list(dataset.column_names)
    raise TypeError(f"dataset must be a datasets.Dataset or a dict of columns, got {type(dataset).__name__}")


def _fresh_seed() -> int:
    return int(np.random.SeedSequence().entropy % (2**32))
