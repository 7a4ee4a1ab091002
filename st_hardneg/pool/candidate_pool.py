"""The candidate pool: encode and search once, then select many mining configurations without encoding again.

Data flow: dataset -> :func:`~st_hardneg.pool.inputs.read_pairs` and :func:`~st_hardneg.pool.inputs.build_layout`
(checked texts; deduplicated anchors and documents) -> each teacher ranks the corpus
(:func:`~st_hardneg.pool.building.mine_teacher`) -> pool. ``pool.select`` then applies a mining method
(:mod:`st_hardneg.filters`), a sampler (:mod:`st_hardneg.sampling`) and a formatter (:mod:`st_hardneg.formatting`).
Several teachers can share one pool (``teacher=[...]``), each with its own candidates and scores; a selection uses
one of them or combines several (``ensemble=``, :mod:`st_hardneg.ensembles`), and ``pool.agreement(k)`` measures
how much they agree (NV-Retriever Appendix A).

How a pool is built is a :class:`~st_hardneg.settings.PoolSettings`; how a selection is made, a
:class:`~st_hardneg.settings.SelectionSettings`. Both are checked before anything is encoded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from st_hardneg.formatting.formatters import Selected, format_dataset
from st_hardneg.keyed_random import combine, salt, text_keys
from st_hardneg.pool.building import TeacherCandidates, index_teachers, mine_teacher, pool_config
from st_hardneg.pool.deepening import CandidateExtension, DeepeningPlan, extra_candidates, plan_deepening
from st_hardneg.pool.inputs import (
    FixedCorpus,
    PairLayout,
    build_layout,
    corpus_fingerprint,
    csr_matrix_rows,
    dataset_fingerprint,
    read_corpus,
    read_pairs,
)
from st_hardneg.pool.judged import extra_positive_lists, extra_positive_rows, resolve_relabel_mode
from st_hardneg.pool.lookup import lookup_scores
from st_hardneg.pool.selection import row_positive_scores, select_negatives
from st_hardneg.pool.statistics import PoolStatistics, SelectionStatistics, TeacherStatistics
from st_hardneg.settings.base import document_options, split_kwargs
from st_hardneg.settings.engine import EngineSettings
from st_hardneg.settings.pool import PoolSettings
from st_hardneg.settings.selection import SelectionSettings
from st_hardneg.teachers.base import Teacher, TeacherIndex
from st_hardneg.teachers.resolve import resolve_teacher, resolve_teachers

if TYPE_CHECKING:
    from st_hardneg.pool.sweep import Sweep

if TYPE_CHECKING:
    from st_hardneg.ensembles.agreement import TeacherAgreement

logger = logging.getLogger(__name__)

__all__ = ["CandidatePool", "Selection"]

_ROW_SALT = salt("st-hardneg selection row")


class Selection(NamedTuple):
    """A selection's result with its provenance.

    Attributes:
        dataset: the mined :class:`datasets.Dataset`.
        statistics: what the selection kept, removed, filled and dropped.
        settings: the :class:`~st_hardneg.settings.SelectionSettings` used (``teacher`` and ``on_short`` resolved).
        context: what the settings ran on: the teacher's configuration and the pool's depth and fingerprints.
    """

    dataset: Any
    statistics: SelectionStatistics
    settings: SelectionSettings
    context: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        """``{"settings": ..., "teacher": ..., "pool": ...}``: what ``mining.json``, the history and cards record."""
        return {"settings": self.settings.to_dict(), **self.context}


class CandidatePool:
    """Ranked candidates of one or more teachers for every anchor of a pairs dataset.

    Build with :meth:`build`, pick negatives with :meth:`select` (as often as you like, no encoding), persist with
    :meth:`save` / :meth:`load`.

    Attributes:
        queries: Arrow array of unique anchor texts.
        corpus: Arrow array of unique document texts.
        row_query / row_positive: per input row, the query index and the positive's corpus index.
        teachers: ``{name: TeacherCandidates}``.
        settings: the :class:`~st_hardneg.settings.PoolSettings` it was built with (columns resolved).
        config: how the pool was built: settings, teachers, fingerprints of its dataset and corpus.
        statistics: :class:`~st_hardneg.pool.statistics.PoolStatistics` of the build.
        history: ``[{"config": ..., "statistics": ...}]`` of every selection made from this pool.
        teacher_objects: ``{name: Teacher}`` of the teachers available in memory (those the pool was built with,
            or given to :meth:`load`), used to score pairs a teacher did not score in the pool (soft labels of
            negatives another teacher chose).
        judgments: the :class:`~st_hardneg.relabel.Judgments` of :meth:`relabel` (``None`` until then): relabeled
            positives and filtered passages that selections keep out of the negatives.

    A pool built in memory in this process keeps its teachers' indexes (the corpus embeddings, or the BM25 index), so
    ``on_short="deepen"`` can search short rows' anchors again. A sharded build (which returns the pool it wrote) and
    ``load(path, teachers=[...])`` hold the teachers without an index: the first deepening that needs to search
    indexes the corpus with the teacher then. A pool loaded without its teachers needs :meth:`attach_teacher`.
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
        teacher_objects: dict[str, Teacher] | None = None,
        judgments: Any = None,
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
        self.history = history if history is not None else []
        self.teacher_objects: dict[str, Teacher] = dict(teacher_objects or {})
        self.judgments = judgments
        self._query_keys: np.ndarray | None = None
        self._positive_keys: np.ndarray | None = None
        self._indexes: dict[str, TeacherIndex] = {}
        self._query_texts: list[str] | None = None

    @property
    def settings(self) -> PoolSettings:
        return PoolSettings.from_dict(self.config["settings"])

    @property
    def depth(self) -> int:
        return int(self.config["settings"]["depth"])

    # ------------------------------------------------------------------ building
    @classmethod
    @document_options(PoolSettings, EngineSettings)
    def build(
        cls,
        dataset: Any,
        teacher: Any | Sequence[Any],
        *,
        corpus: Any = None,
        settings: PoolSettings | None = None,
        engine_settings: EngineSettings | None = None,
        show_progress: bool = True,
        **kwargs: Any,
    ) -> CandidatePool:
        """Encode and search once for every teacher.

        Every input is checked (settings, columns, texts, corpus, the work folder) before a model is loaded or
        anything encoded.

        With ``work_dir``, the build is sharded and resumable (:mod:`st_hardneg.engines`): run the same call again
        after a kill and it continues where it stopped; ``engine="ray"`` runs the shards on a Ray cluster. The pool
        is then written to ``work_dir/pool`` and returned memory-mapped, with the same candidates as an in-memory
        build.

        Args:
            dataset: a :class:`datasets.Dataset` (or dict of columns) of (anchor, positive) rows; a repeated anchor
                means several positives. All of an anchor's positives are excluded from its candidates.
            teacher: a SentenceTransformer, a model name, ``"bm25"``, a :class:`~st_hardneg.teachers.Teacher`, or a
                list of these for a multi-teacher pool.
            corpus: document texts to mine from; positives not in it are added. Default: the dataset's positives.
            settings: a :class:`~st_hardneg.settings.PoolSettings`; keyword arguments override its fields.
            engine_settings: an :class:`~st_hardneg.settings.EngineSettings` (where and how the build runs);
                keyword arguments override its fields.
            show_progress: tqdm bars.
            **kwargs: fields of :class:`~st_hardneg.settings.PoolSettings` and
                :class:`~st_hardneg.settings.EngineSettings`:

                {options}
        """
        pool_kwargs, engine_kwargs = split_kwargs(kwargs, PoolSettings, EngineSettings)
        settings = PoolSettings.from_kwargs(settings, **pool_kwargs)
        engine = EngineSettings.from_kwargs(engine_settings, **engine_kwargs)
        teachers = resolve_teachers(teacher)
        anchor_column, positive_column, anchors, positives = read_pairs(
            dataset, settings.anchor_column, settings.positive_column
        )
        texts = read_corpus(corpus) if corpus is not None else None
        layout = build_layout(anchors, positives, texts)
        settings = settings.replace(anchor_column=anchor_column, positive_column=positive_column)
        if engine.sharded:
            from st_hardneg.engines import build_sharded

            pool = build_sharded(
                layout,
                teachers,
                settings,
                engine,
                dataset_fingerprint=dataset_fingerprint(anchors, positives),
                corpus_given=corpus is not None,
                show_progress=show_progress,
            )
            pool.teacher_objects.update({t.name: t for t in teachers})  # they score soft labels on demand
            return pool
        return cls.from_layout(
            layout,
            teachers,
            settings,
            dataset_fingerprint=dataset_fingerprint(anchors, positives),
            corpus_given=corpus is not None,
            show_progress=show_progress,
        )

    @classmethod
    def from_layout(
        cls,
        layout: PairLayout,
        teachers: Sequence[Teacher],
        settings: PoolSettings,
        *,
        dataset_fingerprint: str,
        corpus_given: bool,
        indexes: dict[str, TeacherIndex] | None = None,
        fixed_corpus: FixedCorpus | None = None,
        show_progress: bool = True,
    ) -> CandidatePool:
        """Run the teachers over a checked layout (the step after :meth:`build`'s checks; the miner calls it with
        its corpus indexed once in ``indexes``)."""
        stats = PoolStatistics.of_layout(layout)
        query_keys = text_keys(layout.queries)
        candidates: dict[str, TeacherCandidates] = {}
        built = index_teachers(teachers, layout.corpus, indexes=indexes, show_progress=show_progress)
        for t in teachers:
            logger.info("Mining candidates with teacher %s", t.name)
            index = built[t.name]
            tc, tstats = mine_teacher(
                layout,
                index,
                t.name,
                t.config(),
                depth=settings.depth,
                num_random=settings.num_random,
                seed=settings.seed,
                query_keys=query_keys,
                show_progress=show_progress,
            )
            candidates[t.name] = tc
            stats.teachers[t.name] = tstats
        config = pool_config(
            settings,
            {name: tc.config for name, tc in candidates.items()},
            corpus_given=corpus_given,
            dataset_fingerprint=dataset_fingerprint,
            corpus_fingerprint=corpus_fingerprint(layout.corpus),
        )
        pool = cls(
            queries=pa.array(layout.queries, type=pa.large_string()),
            corpus=fixed_corpus.arrow if fixed_corpus is not None else pa.array(layout.corpus, type=pa.large_string()),
            row_query=layout.row_query,
            row_positive=layout.row_positive,
            positives_indptr=layout.positives_indptr,
            positives_indices=layout.positives_indices,
            teachers=candidates,
            config=config,
            statistics=stats,
            teacher_objects={t.name: t for t in teachers},
        )
        pool._query_keys = query_keys
        pool._indexes = built
        pool._query_texts = list(layout.queries)
        return pool

    # ------------------------------------------------------------------ teachers' indexes
    def attach_teacher(self, teacher: Any, *, show_progress: bool = True) -> CandidatePool:
        """Bind a teacher to this pool's corpus again, so ``on_short="deepen"`` can search deeper (a loaded pool, or
        one built with ``work_dir``, which is returned loaded).

        The teacher must be the one the pool was built with (same name and configuration). A
        :class:`~st_hardneg.teachers.DenseTeacher` with the ``cache_folder`` used at build reads the corpus
        embeddings from its cache instead of encoding them again.

        Args:
            teacher: a SentenceTransformer, a model name, ``"bm25"`` or a :class:`~st_hardneg.teachers.Teacher`.
            show_progress: tqdm bars while indexing.

        Returns:
            The pool itself.
        """
        t = resolve_teacher(teacher)
        if t.name not in self.teachers:
            raise ValueError(f"teacher {t.name!r} is not in this pool; it has {list(self.teachers)}")
        stored = self.teachers[t.name].config
        _check_same_teacher(t.name, stored, t.config(), ("type", "model", "library"))
        index = t.index(self.corpus.to_pylist(), show_progress)
        _check_same_teacher(t.name, stored, t.config(), None)
        self._indexes[t.name] = index
        return self

    def has_index(self, name: str | None = None) -> bool:
        """Whether a teacher of this pool is bound to its corpus (built here, or :meth:`attach_teacher`)."""
        return self.teacher_candidates(name).name in self._indexes

    # ------------------------------------------------------------------ selecting
    @overload
    def select(
        self,
        method: Any = ...,
        /,
        *,
        settings: SelectionSettings | None = ...,
        chunk_size: int = ...,
        show_progress: bool = ...,
        return_statistics: Literal[False] = ...,
        **kwargs: Any,
    ) -> Any: ...

    @overload
    def select(
        self,
        method: Any = ...,
        /,
        *,
        settings: SelectionSettings | None = ...,
        chunk_size: int = ...,
        show_progress: bool = ...,
        return_statistics: Literal[True],
        **kwargs: Any,
    ) -> Selection: ...

    @document_options(SelectionSettings)
    def select(
        self,
        method: Any = None,
        /,
        *,
        settings: SelectionSettings | None = None,
        chunk_size: int = 16384,
        show_progress: bool = True,
        return_statistics: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Pick negatives for every row with one mining configuration; no encoding.

        Args:
            method: a mining method (:mod:`st_hardneg.filters`), its string (``"topk-percpos:0.95"``), or a whole
                :class:`~st_hardneg.settings.SelectionSettings`.
            settings: a :class:`~st_hardneg.settings.SelectionSettings`; keyword arguments override its fields.
            chunk_size: rows processed at once; memory is about ``chunk_size * depth``.
            show_progress: tqdm bars.
            return_statistics: return a :class:`Selection` ``(dataset, statistics, settings, context)`` instead of
                the dataset.
            **kwargs: fields of :class:`~st_hardneg.settings.SelectionSettings`:

                {options}

        Returns:
            A :class:`datasets.Dataset` ready for ``SentenceTransformerTrainer``, or a :class:`Selection`.
        """
        if isinstance(method, SelectionSettings):
            if settings is not None:
                raise TypeError("give the selection settings once: positionally or as settings=, not both")
            method, settings = None, method
        if method is not None:
            if "method" in kwargs:
                raise TypeError("method given twice: positionally and as method=")
            kwargs["method"] = method
        settings = SelectionSettings.from_kwargs(settings, **kwargs)
        selection = self._select(settings, chunk_size=chunk_size, show_progress=show_progress)
        return selection if return_statistics else selection.dataset

    def _select(self, settings: SelectionSettings, *, chunk_size: int, show_progress: bool) -> Selection:
        names = self._selection_teachers(settings)
        members = [self.teachers[name] for name in names]
        depth = members[0].candidates.shape[1]
        if settings.ensemble is None:
            selected, stats, settings, tc = self._pick(settings, chunk_size=chunk_size, show_progress=show_progress)
            teacher_context = tc.config
            stats.warnings.extend(_fit_warnings(settings, stats, self.statistics.teachers.get(tc.name)))
        else:
            from st_hardneg.ensembles import EnsembleInput, select_ensemble

            settings.check_depth(depth, len(self.corpus))
            relabel_mode = resolve_relabel_mode(self.judgments, settings.relabel_mode)
            if settings.relabeled_output != "exclude" and self.judgments is None:
                raise ValueError(
                    f"relabeled_output={settings.relabeled_output!r} needs a relabeled pool; this pool has no "
                    "judgments: run pool.relabel(ARHN(judge, ...)) first"
                )
            settings = settings.replace(teacher=tuple(names), relabel_mode=relabel_mode)
            judged = None
            if relabel_mode not in (None, "off"):
                if settings.relabeled_output != "exclude":
                    raise ValueError(
                        f"relabeled_output={settings.relabeled_output!r} takes one teacher; an ensemble keeps the "
                        "relabeled positives out of every member's negatives (relabeled_output='exclude')"
                    )
                judged = self.judgments.lookup(len(self.corpus), relabel_mode)  # by (anchor, document) ids
            if self._query_keys is None:
                self._query_keys = text_keys(self.queries.to_pylist())
            selected, stats = select_ensemble(
                EnsembleInput(
                    members,
                    self.row_query,
                    self.row_positive,
                    self._query_keys,
                    self.row_keys(settings.seed),
                    settings,
                    chunk_size=chunk_size,
                    show_progress=show_progress,
                    judged=judged,
                )
            )
            teacher_context = {
                "type": "ensemble",
                "strategy": settings.ensemble,
                **({"rrf_k": settings.rrf_k} if settings.ensemble == "rrf" else {}),
                "members": {name: self.teachers[name].config for name in names},
            }
            stats.warnings.extend(_fit_warnings(settings, stats, None))
        _count_teachers(stats, selected, names)
        for message in stats.warnings:
            logger.warning(message)
        pool_settings = self.config["settings"]
        score_columns, score_context = (
            self._score_columns(settings, selected, names, stats, show_progress) if settings.output_scores else ({}, {})
        )
        dataset = format_dataset(
            selected,
            self.queries,
            self.corpus,
            settings.output_format,
            anchor_column=pool_settings["anchor_column"],
            positive_column=pool_settings["positive_column"],
            score_columns=score_columns,
            teacher_labels=_teacher_labels(selected, names) if settings.output_teachers else None,
        )
        stats.examples_out = len(dataset)
        context = {
            "teacher": teacher_context,
            **({"score_teachers": score_context} if score_context else {}),
            "pool": {
                "depth": depth,
                "seed": pool_settings["seed"],
                "dataset_fingerprint": self.config.get("dataset_fingerprint"),
                "corpus_fingerprint": self.config.get("corpus_fingerprint"),
                "corpus_given": self.config.get("corpus_given"),
                "settings": dict(pool_settings),  # the PoolSettings: num_random decides the fill documents
                "source": self.config.get("source"),  # where the pairs came from (set by the command, or by you)
            },
        }
        if settings.relabel_mode is not None:  # the judge, its prompts, ARHN's settings, the mode, the judging counts
            j = self.judgments
            context["relabel"] = {**j.config, "mode": settings.relabel_mode, "statistics": j.statistics.to_dict()}
        selection = Selection(dataset, stats, settings, context)
        self.history.append({"config": selection.config, "statistics": stats.to_dict()})
        logger.info(
            "Selected %d negatives for %d rows with %s (%d removed by the method, %d rows deepened, %d filled, "
            "%d rows dropped)",
            int((selected.negatives >= 0).sum()),
            stats.rows_out,
            settings.method,
            stats.removed_by_method,
            stats.rows_deepened,
            stats.negatives_filled,
            stats.rows_dropped,
        )
        return selection

    @document_options(SelectionSettings)
    def sweep(
        self,
        methods: Sequence[Any] | None = None,
        num_negatives: Sequence[int] | None = None,
        sampling: Sequence[str] | None = None,
        *,
        settings: SelectionSettings | None = None,
        score: Any = None,
        rank_by: str | None = None,
        eci_settings: Any = None,
        training: Any = None,
        chunk_size: int = 16384,
        show_progress: bool = True,
        **kwargs: Any,
    ) -> Sweep:
        """Select every combination of ``methods`` x ``num_negatives`` x ``sampling`` and score each set with ECI,
        before any training (:mod:`st_hardneg.pool.sweep`).

        Nothing is encoded by default: the sets are scored with the teacher's scores held in the pool. Sweeps are
        not recorded in :attr:`history` (they write no dataset); ``on_short="deepen"`` searches as a selection does
        and keeps what it finds in the pool.

        Args:
            methods: mining methods or their strings (``["naive-topk", "topk-percpos:0.95"]``); default: the
                settings' method.
            num_negatives: negative counts to try; default: the settings' count.
            sampling: samplers to try (``"top"``, ``"sampled"``, ``"top1_sampled"``); default: the settings' one.
            settings: the :class:`~st_hardneg.settings.SelectionSettings` every configuration starts from; keyword
                arguments override its fields.
            score: None (or ``"teacher"``) to score with the teacher's stored scores; a SentenceTransformer /
                CrossEncoder (e.g. the student before training) to score every set under it; or ``"train"``: hold
                out a share of the anchors (``holdout``, chosen by ``seed``) with their positives as a dev set over
                the pool's corpus, fine-tune a fresh copy of ``student`` for ``steps`` optimizer steps on each set
                without them (same ``seeds``), and add the held-out ``ndcg@10`` and ``mrr@10`` to the table
                (:mod:`st_hardneg.sweep_training`; ``cache_folder`` makes a stopped sweep resume).
            rank_by: the column to sort by, highest first: ``"signal"`` (``S_n``, the default: on SciFact it ranked
                ten trained configurations' NDCG@10 with Spearman rho +0.94 where ECI ranked them -0.94;
                :data:`~st_hardneg.pool.sweep.DEFAULT_RANK_BY`), ``"eci"``, ``"max_margin"`` or
                ``"negatives_per_query"``; with ``score="train"``, ``"ndcg@10"`` (its default) or ``"mrr@10"``.
                ``S_n``, ECI and Max-Margin compare only sets with the same number of negatives: over several
                ``num_negatives`` the rows are ranked within each count and ``best()`` needs ``num_negatives=``.
            eci_settings: an :class:`~st_hardneg.eci.ECISettings` (``top_n``, ``clamp``, ``temperature``,
                ``batch_size``).
            training: a :class:`~st_hardneg.sweep_training.TrainingSweepSettings` for ``score="train"``; its
                fields can also be given as keyword arguments (``student``, ``steps``, ``holdout``, ``seeds``,
                ``train_batch_size``, ``max_seq_length``, ``cache_folder``, ...).
            chunk_size / show_progress: as for :meth:`select`.
            **kwargs: fields of :class:`~st_hardneg.settings.SelectionSettings` shared by every configuration (and
                of ``TrainingSweepSettings`` with ``score="train"``):

                {options}

        Returns:
            A :class:`~st_hardneg.pool.sweep.Sweep`: ``sweep.rows`` / ``to_pandas()`` / ``to_dataset()``, and
            ``sweep.best()``, the settings to pass to :meth:`select`.
        """
        from st_hardneg.pool.sweep import sweep_pool

        return sweep_pool(
            self,
            methods,
            num_negatives,
            sampling,
            settings=settings,
            score=score,
            rank_by=rank_by,
            eci_settings=eci_settings,
            training=training,
            chunk_size=chunk_size,
            show_progress=show_progress,
            **kwargs,
        )

    def _pick(
        self, settings: SelectionSettings, *, chunk_size: int, show_progress: bool
    ) -> tuple[Selected, SelectionStatistics, SelectionSettings, TeacherCandidates]:
        """One teacher's rows and negatives, before formatting (what :meth:`select` and sweeps share), with a
        relabeled pool's judgments applied (judged candidates kept out, relabeled positives as extra rows or list
        entries) and short rows deepened for ``on_short="deepen"``."""
        if settings.ensemble is not None:
            raise ValueError(f"ensemble={settings.ensemble!r}: a sweep scores one teacher's selections at a time")
        tc = self.teacher_candidates(settings.teacher)
        depth = tc.candidates.shape[1]
        settings.check_depth(depth, len(self.corpus))
        relabel_mode = resolve_relabel_mode(self.judgments, settings.relabel_mode)
        settings = settings.replace(teacher=tc.name, relabel_mode=relabel_mode)
        row_query, row_positive, row_keys = self.row_query, self.row_positive, self.row_keys(settings.seed)
        positive_scores = row_positive_scores(tc, self.row_query, settings.positive_score)
        own_scores = None  # each row's own positive score: the teacher's, unless relabeled rows are added
        # ---- relabeled pools (st_hardneg.relabel): judged candidates, extra positive rows or list entries
        judged = extras = None
        if relabel_mode not in (None, "off"):
            same_teacher = self.judgments.config.get("teacher") == tc.name
            judged = self.judgments.lookup(len(self.corpus), relabel_mode, judged_teacher=same_teacher)
            if settings.relabeled_output != "exclude":
                rq, rd, at = judged.relabeled()
                extras = extra_positive_rows(
                    tc, rq, rd, positions=at if same_teacher else None, corpus=self.corpus,
                    query_keys=self._query_keys, seed=settings.seed, row_salt=_ROW_SALT,
                    positive_score=settings.positive_score,
                )  # fmt: skip
            if settings.relabeled_output == "rows":
                row_query = np.concatenate([row_query, extras.row_query])
                row_positive = np.concatenate([row_positive, extras.row_positive])
                positive_scores = np.concatenate([positive_scores, extras.positive_scores])
                own_scores = np.concatenate([np.asarray(tc.positive_scores), extras.own_scores])
                row_keys = np.concatenate([row_keys, extras.row_keys])
        elif settings.relabeled_output != "exclude" and self.judgments is None:
            raise ValueError(
                f"relabeled_output={settings.relabeled_output!r} needs a relabeled pool; this pool has no judgments: "
                "run pool.relabel(ARHN(judge, ...)) first"
            )
        deepening = None
        if settings.on_short == "deepen":
            deepening = self._deepen(tc, settings, row_query, positive_scores, judged)
        selected, stats = select_negatives(
            tc,
            row_query,
            row_positive,
            positive_scores,
            settings=settings,
            row_keys=row_keys,
            deepening=deepening,
            chunk_size=chunk_size,
            show_progress=show_progress,
            judged=judged,
            own_positive_scores=own_scores,
        )
        if extras is not None and settings.relabeled_output == "rows":
            stats.relabeled_rows = len(extras.row_query)
        if extras is not None and settings.relabeled_output == "list":
            selected.extra_positives, selected.extra_positive_scores = extra_positive_lists(
                selected.row_query, extras.row_query, extras.row_positive, extras.own_scores
            )
            stats.relabeled_in_lists = int((selected.extra_positives >= 0).sum())
        return selected, stats, settings, tc

    def _deepen(
        self,
        tc: TeacherCandidates,
        settings: SelectionSettings,
        row_query: np.ndarray,
        positive_scores: np.ndarray,
        judged: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
    ) -> DeepeningPlan:
        """Search the anchors of rows short at the pool's depth deeper (:mod:`st_hardneg.pool.deepening`) and keep
        the extra candidates in the pool. ``row_query`` / ``positive_scores``: the rows selected (a relabeled pool
        may add rows); ``judged``: a relabeled pool's lookup, whose relabeled and filtered candidates do not count
        as survivors."""
        corpus_size = len(self.corpus)
        limit = corpus_size if settings.max_depth is None else min(settings.max_depth, corpus_size)
        extension = tc.extension or CandidateExtension.empty(len(tc.candidates), tc.candidates.shape[1])
        teacher = self.teacher_objects.get(tc.name)
        search = None
        if tc.name in self._indexes or teacher is not None:
            texts = self.query_texts

            def search(queries: np.ndarray, depth: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
                if tc.name not in self._indexes:  # the teacher is in memory (load(teachers=...), a sharded build)
                    logger.info("Indexing the corpus with teacher %s to search short rows deeper", tc.name)
                    self.attach_teacher(teacher, show_progress=False)
                index = self._indexes[tc.name]
                logger.info("Searching %d anchors to depth %d with teacher %s", len(queries), depth, tc.name)
                return extra_candidates(
                    lambda q, k: index.search(texts, q, k, show_progress=False),
                    queries,
                    depth,
                    np.asarray(tc.candidates[queries]),
                    csr_matrix_rows(self.positives_indptr, self.positives_indices, queries),
                    corpus_size,
                )

        plan = plan_deepening(
            tc.candidates,
            tc.scores,
            extension,
            row_query,
            positive_scores,
            method=settings.method,
            min_score=settings.min_score,
            num_negatives=settings.num_negatives,
            limit=limit,
            search=search,
            teacher=tc.name,
            judged=judged,
        )
        if plan.anchors_searched:
            tc.extension = plan.extension
        return plan

    @property
    def query_texts(self) -> list[str]:
        """The anchor texts as a list (the order the teachers encoded them in)."""
        if self._query_texts is None:
            self._query_texts = self.queries.to_pylist()
        return self._query_texts

    def _selection_teachers(self, settings: SelectionSettings) -> list[str]:
        """The teacher names a selection uses, checked against the pool (all of them for an unnamed ensemble)."""
        names = settings.teachers
        if names is None:
            if settings.ensemble is None:
                return [self.teacher_candidates(None).name]
            names = tuple(self.teachers)
            if len(names) < 2:
                raise ValueError(f"ensemble={settings.ensemble!r} needs two or more teachers; this pool has {names}")
        for name in names:
            self.teacher_candidates(name)
        return list(names)

    def _score_columns(
        self,
        settings: SelectionSettings,
        selected: Any,
        names: list[str],
        stats: SelectionStatistics,
        show_progress: bool,
    ) -> tuple[dict[str, tuple[np.ndarray, ...]], dict[str, Any]]:
        """Soft labels: each score teacher's score of every output (anchor, positive) and (anchor, negative) pair,
        and of a relabeled pool's extra list positives (``relabeled_output="list"``).

        A pair the teacher never scored in the pool (a negative another teacher chose outside its candidates and
        fill reserve; a relabeled positive another teacher ranked) is scored by the teacher itself when it is in
        memory, and counted in ``stats.pairs_scored_on_demand``; otherwise a ``ValueError`` says which teacher and
        how many pairs. No soft label is left NaN.
        """
        score_names = list(settings.score_teachers or (names if settings.ensemble else names[:1]))
        for name in score_names:
            self.teacher_candidates(name)
        extra_docs = selected.extra_positives
        columns, context = {}, {}
        for name in score_names:
            tc = self.teachers[name]
            own = settings.ensemble is None and name == names[0]  # the selecting teacher: the selection's scores
            if own:
                positives = np.array(selected.positive_scores, dtype=np.float32)
            else:
                positives = self._positive_scores_of(tc, selected)
            blocks = [(positives[:, None], selected.row_positive[:, None])]
            blocks.append((lookup_scores(tc, selected.row_query, selected.negatives), selected.negatives))
            if extra_docs is not None:
                extra = (
                    np.array(selected.extra_positive_scores, dtype=np.float32)
                    if own
                    else lookup_scores(tc, selected.row_query, extra_docs)
                )
                blocks.append((extra, extra_docs))
            missing = [np.isnan(scores) & (docs >= 0) for scores, docs in blocks]
            if any(m.any() for m in missing):
                at = [np.nonzero(m) for m in missing]
                pair_q = np.concatenate([selected.row_query[r] for r, _ in at])
                pair_d = np.concatenate([np.asarray(docs)[r, c] for (r, c), (_, docs) in zip(at, blocks)])
                scored = self._score_missing(name, pair_q, pair_d, show_progress)
                offset = 0
                for (scores, _), m in zip(blocks, missing):
                    scores[m] = scored[offset : offset + int(m.sum())]
                    offset += int(m.sum())
                stats.pairs_scored_on_demand[name] = len(pair_q)
            key = "scores" if len(score_names) == 1 else f"scores_{name}"
            columns[key] = (blocks[0][0][:, 0], *(scores for scores, _ in blocks[1:]))
            context[name] = tc.config
        return columns, context

    def _positive_scores_of(self, tc: TeacherCandidates, selected: Any) -> np.ndarray:
        """``tc``'s score of each selected row's positive: the pool's rows from the pool, rows a relabeled pool added
        (``relabeled_output="rows"``) from the teacher's candidates (NaN where it did not rank that document)."""
        rows = np.asarray(selected.rows)
        in_pool = rows < len(self.row_query)
        positives = np.full(len(rows), np.nan, dtype=np.float32)
        positives[in_pool] = np.asarray(tc.positive_scores)[rows[in_pool]]
        if not in_pool.all():
            added = ~in_pool
            positives[added] = lookup_scores(tc, selected.row_query[added], selected.row_positive[added, None])[:, 0]
        return positives

    def _score_missing(self, name: str, pair_q: np.ndarray, pair_d: np.ndarray, show_progress: bool) -> np.ndarray:
        """Teacher ``name``'s scores of (anchor, document) pairs it never scored in the pool, by the teacher in
        memory (a ``ValueError`` when the pool holds none)."""
        teacher = self.teacher_objects.get(name)
        if teacher is None:
            example_q, example_d = self.queries[int(pair_q[0])].as_py(), self.corpus[int(pair_d[0])].as_py()
            raise ValueError(
                f"teacher {name!r} never scored {len(pair_q)} of the selected (anchor, document) pairs (e.g. "
                f"{example_q[:60]!r} / {example_d[:60]!r}: outside its {self.depth} candidates and its fill reserve), "
                "and the teacher is not in memory to score them (a pool read from disk holds no teacher): pass it to "
                f"CandidatePool.load(path, teachers=[...]), or leave {name!r} out of score_teachers"
            )
        logger.info("Scoring %d (anchor, document) pairs with teacher %s for soft labels", len(pair_q), name)
        return teacher.score_pairs(
            self.corpus.to_pylist(), self.queries.to_pylist(), pair_q, pair_d, show_progress=show_progress
        ).astype(np.float32)

    @document_options(SelectionSettings)
    def agreement(
        self,
        k: int = 4,
        *,
        teachers: Sequence[str] | None = None,
        settings: SelectionSettings | None = None,
        chunk_size: int = 16384,
        **kwargs: Any,
    ) -> TeacherAgreement:
        """How much the pool's teachers agree: the Jaccard similarity of their top-``k`` negatives for every row
        and every pair of teachers, and its mean (NV-Retriever Appendix A, Tables 6-8: top-4 negatives).

        Each teacher's negatives are those it selects alone with the selection settings (by default the paper's
        TopK-PercPos 95%, footnote 11; ``method="naive-topk"`` compares the raw top-``k`` candidates). No encoding.

        Args:
            k: negatives per teacher and row (the paper's 4).
            teachers: the teachers compared (default: all of the pool's, at least two).
            settings / **kwargs: a :class:`~st_hardneg.settings.SelectionSettings` and fields overriding it
                (method, sampling, positive_score, min_score, seed; ``num_negatives`` is ``k``):

                {options}

        Returns:
            A :class:`~st_hardneg.ensembles.agreement.TeacherAgreement` (per-row arrays, means, ``to_markdown()``).
        """
        from st_hardneg.ensembles.agreement import teacher_agreement

        for name in ("teacher", "ensemble", "num_negatives"):
            if name in kwargs:
                raise TypeError(f"agreement() takes teachers= and k=, not {name}=")
        settings = SelectionSettings.from_kwargs(settings, **kwargs).replace(
            num_negatives=k, teacher=None, ensemble=None
        )
        names = list(teachers) if teachers is not None else list(self.teachers)
        if len(names) < 2:
            raise ValueError(f"agreement needs two or more teachers; got {names}")
        for name in names:
            self.teacher_candidates(name)
        settings.check_depth(self.depth)
        return teacher_agreement(
            [self.teachers[n] for n in names],
            self.row_query,
            row_keys=self.row_keys(settings.seed),
            settings=settings,
            chunk_size=chunk_size,
        )

    def teacher_candidates(self, name: str | None = None) -> TeacherCandidates:
        """One teacher's candidates; ``name`` may be left out when the pool has one teacher."""
        if name is None:
            if len(self.teachers) > 1:
                raise ValueError(f"This pool has several teachers {list(self.teachers)}; pass teacher=...")
            return next(iter(self.teachers.values()))
        if name not in self.teachers:
            raise ValueError(f"teacher={name!r} is not in this pool; it has {list(self.teachers)}")
        return self.teachers[name]

    # ------------------------------------------------------------------ relabeling (st_hardneg.relabel)
    def relabel(self, arhn: Any, *, overwrite: bool = False, show_progress: bool = True) -> Any:
        """Judge the pool's top candidates with ARHN and keep the judgments (saved with the pool).

        Selections then keep relabeled positives and filtered passages out of the negatives (and can add the
        relabeled positives to their output: ``relabeled_output``).

        Args:
            arhn: an :class:`~st_hardneg.relabel.ARHN` (a judge and its settings).
            overwrite: replace judgments the pool already holds (the judgment cache makes a rerun cheap).
            show_progress: a tqdm bar over the questions.

        Returns:
            The :class:`~st_hardneg.relabel.Judgments` (``.statistics``: relabeled, filtered, unparseable and
            failed counts, per mode).
        """
        from st_hardneg.relabel.arhn import ARHN

        if not isinstance(arhn, ARHN):
            raise TypeError(f"relabel takes an ARHN(judge, ...), got {type(arhn).__name__}")
        if self.judgments is not None and not overwrite:
            raise FileExistsError(
                f"this pool already holds judgments ({self.judgments.config.get('judge', {}).get('model')}, mode "
                f"{self.judgments.mode!r}); pass overwrite=True (--overwrite) to replace them"
            )
        self.judgments = arhn.run(self, show_progress=show_progress)
        return self.judgments

    # ------------------------------------------------------------------ keys and subsets
    def row_keys(self, seed: int) -> np.ndarray:
        """uint64 key of every row: ``(seed, anchor text, positive text)``, the key every sampling draw starts from."""
        if self._query_keys is None:
            self._query_keys = text_keys(self.queries.to_pylist())
        if self._positive_keys is None:
            docs, inverse = np.unique(self.row_positive, return_inverse=True)
            self._positive_keys = text_keys(pc.take(self.corpus, pa.array(docs)).to_pylist())[inverse]
        return combine(self._query_keys[self.row_query], self._positive_keys, np.uint64(seed), _ROW_SALT)

    def take_rows(self, rows: np.ndarray) -> CandidatePool:
        """A pool over a subset of the rows (same queries, corpus and candidates; arrays shared, not copied)."""
        rows = np.asarray(rows, dtype=np.int64)
        teachers = {name: replace(tc, positive_scores=tc.positive_scores[rows]) for name, tc in self.teachers.items()}
        pool = type(self)(
            queries=self.queries,
            corpus=self.corpus,
            row_query=self.row_query[rows],
            row_positive=self.row_positive[rows],
            positives_indptr=self.positives_indptr,
            positives_indices=self.positives_indices,
            teachers=teachers,
            config=self.config,
            statistics=self.statistics,
            teacher_objects=self.teacher_objects,
            judgments=self.judgments,
        )
        pool._query_keys = self._query_keys
        pool._indexes = dict(self._indexes)
        pool._query_texts = self._query_texts
        if self._positive_keys is not None:
            pool._positive_keys = self._positive_keys[rows]
        return pool

    # ------------------------------------------------------------------ inputs check
    def check_inputs(self, dataset: Any = None, corpus: Any = None) -> None:
        """Raise a ``ValueError`` when ``dataset`` or ``corpus`` differ from what this pool was built on."""
        if dataset is None and corpus is None:
            return
        s = self.config["settings"]
        if dataset is not None:
            _, _, anchors, positives = read_pairs(dataset, s["anchor_column"], s["positive_column"])
            if dataset_fingerprint(anchors, positives) != self.config.get("dataset_fingerprint"):
                raise ValueError(
                    f"This pool was built on another dataset: {len(anchors)} rows given, the pool has {len(self)} "
                    "(or the same number with other texts or order); build a new pool for this dataset"
                )
        if corpus is not None:
            texts = read_corpus(corpus)
            positives = pc.take(self.corpus, pa.array(self.row_positive)).to_pylist()
            layout_corpus = build_layout(positives, positives, texts).corpus
            if corpus_fingerprint(layout_corpus) != self.config.get("corpus_fingerprint"):
                raise ValueError(
                    f"This pool was built on another corpus: the given one makes {len(layout_corpus)} documents with "
                    f"the pool's positives, the pool has {len(self.corpus)} (or other texts); build a new pool"
                )

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Write the pool to a folder (JSON, Arrow and ``.npy`` files); :meth:`load` reads it back.

        An existing non-empty folder is refused unless ``overwrite=True`` (then only a saved pool is replaced).
        """
        from st_hardneg.pool.storage import save_pool

        save_pool(self, Path(path), overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path, *, dataset: Any = None, corpus: Any = None, teachers: Any = None) -> CandidatePool:
        """Read a pool written by :meth:`save`; large arrays are memory-mapped.

        Args:
            dataset / corpus: when given, checked against the pool's fingerprints (:meth:`check_inputs`).
            teachers: teachers of the pool to hold in memory again (by name; as for :meth:`build`), so soft labels
                can score pairs they did not score in the pool and ``on_short="deepen"`` can search deeper (it
                indexes the corpus the first time it must search). Nothing is encoded here.
        """
        from st_hardneg.pool.storage import load_pool

        pool = load_pool(cls, Path(path))
        pool.check_inputs(dataset, corpus)
        if teachers is not None:
            for teacher in resolve_teachers(teachers):
                saved = pool.teacher_candidates(teacher.name).config
                if saved.get("type") != teacher.config().get("type"):
                    raise ValueError(
                        f"teacher {teacher.name!r} is a {teacher.config().get('type')} teacher; the pool's "
                        f"{teacher.name!r} was built with a {saved.get('type')} teacher"
                    )
                pool.teacher_objects[teacher.name] = teacher
        return pool

    # ------------------------------------------------------------------ the Hub (st_hardneg.hub.pool_repo)
    def push_to_hub(self, repo_id: str, *, private: bool | None = None, token: str | None = None, **kwargs: Any):
        """Push the pool (its files and a card with its build configuration and per-teacher statistics) to a Hub
        dataset repository in one commit, so others select from it without encoding.

        See :func:`st_hardneg.hub.pool_repo.push_pool_to_hub` (``api``, ``overwrite``, card options).

        Returns:
            The ``CommitInfo``.
        """
        from st_hardneg.hub.pool_repo import push_pool_to_hub

        return push_pool_to_hub(self, repo_id, private=private, token=token, **kwargs)

    @classmethod
    def from_hub(
        cls, repo_id: str | Path, *, revision: str | None = None, dataset: Any = None, corpus: Any = None, **kwargs: Any
    ) -> CandidatePool:
        """A pool pushed with :meth:`push_to_hub` (or a folder holding one); its format version is checked first.

        See :func:`st_hardneg.hub.pool_repo.load_pool_from_hub` (``token``, ``api``, ``cache_dir``).
        """
        from st_hardneg.hub.pool_repo import load_pool_from_hub

        return load_pool_from_hub(cls, repo_id, revision=revision, dataset=dataset, corpus=corpus, **kwargs)

    def __len__(self) -> int:
        return len(self.row_query)

    def __repr__(self) -> str:
        judged = f", judgments={self.judgments.mode!r}" if self.judgments is not None else ""
        return (
            f"CandidatePool(rows={len(self)}, queries={len(self.queries)}, corpus={len(self.corpus)}, "
            f"teachers={list(self.teachers)}, depth={self.depth}{judged})"
        )


def _check_same_teacher(name: str, stored: dict[str, Any], given: dict[str, Any], keys: Sequence[str] | None) -> None:
    """Raise when a teacher's configuration differs from the one a pool was built with (on ``keys``, or on every
    key both record except the search backend)."""
    keys = [k for k in (keys or stored) if k in stored and k in given and k not in ("backend", "name")]
    differing = [k for k in keys if stored[k] != given[k]]
    if differing:
        details = ", ".join(f"{k}: {given[k]!r} given, {stored[k]!r} in the pool" for k in differing)
        raise ValueError(f"teacher {name!r} is not the one this pool was built with ({details})")


def _fit_warnings(
    settings: SelectionSettings, stats: SelectionStatistics, teacher: TeacherStatistics | None
) -> list[str]:
    """Say when the settings do not fit the teacher's scores: an absolute threshold off its score scale, or a method
    (or ``min_score``) that removes nearly every candidate."""
    warnings = []
    method = settings.method
    scores = teacher.candidate_scores if teacher is not None else None
    considered, removed = stats.candidates_considered, stats.removed_by_method
    if (
        method.absolute
        and scores is not None
        and scores.count
        and (scores.max > 1.0 + 1e-6 or scores.min < -1.0 - 1e-6)
    ):
        warnings.append(
            f"{method} compares raw scores with {method.max_score:g}, a cosine-scale threshold, but teacher "
            f"{settings.teacher!r} scores its candidates from {scores.min:.3g} to {scores.max:.3g} (median "
            f"{scores.median:.3g}): the threshold does not fit this teacher's score scale ({removed} of {considered} "
            f"candidates removed, {stats.rows_filled} rows filled with random documents)"
        )
    elif considered and removed >= 0.9 * considered:
        warnings.append(
            f"{method} removed {removed} of {considered} candidates ({removed / considered:.0%}); "
            f"{stats.rows_short} rows were short of {settings.num_negatives} negatives, "
            + (f"{stats.rows_deepened} searched deeper, " if settings.on_short == "deepen" else "")
            + f"{stats.rows_filled} filled with random documents and {stats.rows_dropped} dropped: check the threshold "
            "against the teacher's scores"
        )
    survivors = stats.survivors + stats.removed_below_min_score
    if settings.min_score is not None and survivors and stats.removed_below_min_score >= 0.9 * survivors:
        warnings.append(
            f"min_score={settings.min_score:g} removed {stats.removed_below_min_score} of the {survivors} candidates "
            "the method kept"
        )
    return warnings


def _count_teachers(stats: SelectionStatistics, selected: Any, names: list[str]) -> None:
    """Negatives per teacher, shared by several, and repeated within a row, from the selection's teacher bits."""
    bits = selected.teacher_bits
    valid = selected.negatives >= 0
    for t, name in enumerate(names):
        stats.negatives_per_teacher[name] = int(((bits >> np.uint64(t)) & np.uint64(1)).astype(bool).sum())
    several = np.zeros(bits.shape, dtype=np.int64)
    for t in range(len(names)):
        several += ((bits >> np.uint64(t)) & np.uint64(1)).astype(np.int64)
    stats.negatives_shared = int((several > 1).sum())
    ordered = np.sort(np.where(valid, selected.negatives, -1), axis=1)
    stats.duplicate_negatives = int(((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).sum())


def _teacher_labels(selected: Any, names: list[str]) -> np.ndarray:
    """``[n, k]`` strings: the teachers that chose each negative, joined by "+"; "fill" for a random fill document;
    None at padding."""
    bits = selected.teacher_bits
    labels = np.full(bits.shape, None, dtype=object)
    for value in np.unique(bits[selected.negatives >= 0]):
        chosen = [name for t, name in enumerate(names) if (int(value) >> t) & 1]
        labels[(bits == value) & (selected.negatives >= 0)] = "+".join(chosen) if chosen else "fill"
    return labels
