"""``CandidatePool``: the pool users hold. The store (:class:`~st_hardneg.pool.store.PoolStore`: candidates,
scores, judgments, fingerprints, save and load) with one-line hand-offs to the layers above it: building
(:mod:`st_hardneg.build.pool`), selecting (:mod:`st_hardneg.select`), sweeps, the teachers' agreement and the Hub
(:mod:`st_hardneg.hub.pool_repo`).

This module stands above all of them, so none of them imports it: they take a ``PoolStore`` (and a class to
build, where they return one).

Data flow: dataset -> :func:`~st_hardneg.pool.inputs.read_pairs` and :func:`~st_hardneg.pool.inputs.build_layout`
(checked texts; deduplicated anchors and documents) -> each teacher ranks the corpus
(:func:`~st_hardneg.build.building.rank_with_teacher`) -> pool. ``pool.select`` then applies a mining method
(:mod:`st_hardneg.filters`), a sampler (:mod:`st_hardneg.sampling`) and a formatter (:mod:`st_hardneg.formatting`).
Several teachers can share one pool (``teacher=[...]``), each with its own candidates and scores; a selection uses
one of them or combines several (``ensemble=``, :mod:`st_hardneg.ensembles`), and ``pool.agreement(k)`` measures
how much they agree (NV-Retriever Appendix A).

How a pool is built is a :class:`~st_hardneg.settings.PoolSettings`; how a selection is made, a
:class:`~st_hardneg.settings.SelectionSettings`. Both are checked before anything is encoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, overload

from st_hardneg.build.pool import build_pool, pool_from_layout
from st_hardneg.engines.settings import EngineSettings
from st_hardneg.ensembles.agreement import TeacherAgreement, teacher_agreement
from st_hardneg.filters.methods import TopKPercPos, resolve_auto
from st_hardneg.hub.pool_repo import load_pool_from_hub, push_pool_to_hub
from st_hardneg.pool.inputs import FixedCorpus, PairLayout
from st_hardneg.pool.settings import PoolSettings
from st_hardneg.pool.store import PoolStore
from st_hardneg.select.selector import Selection, select
from st_hardneg.select.settings import SelectionSettings
from st_hardneg.select.sweep import Sweep, sweep_pool
from st_hardneg.settings.base import document_options
from st_hardneg.teachers.base import Teacher, TeacherIndex

__all__ = ["CandidatePool", "Selection"]


class CandidatePool(PoolStore):
    """Ranked candidates of one or more teachers for every anchor of a pairs dataset.

    Build with :meth:`build`, pick negatives with :meth:`select` (as often as you like, no encoding), persist with
    :meth:`save` / :meth:`load`. What it holds and how it is saved: :class:`~st_hardneg.pool.store.PoolStore`.
    """

    # ------------------------------------------------------------------ building (st_hardneg.build)
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
        return build_pool(
            cls,
            dataset,
            teacher,
            corpus=corpus,
            settings=settings,
            engine_settings=engine_settings,
            show_progress=show_progress,
            **kwargs,
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
        its corpus indexed once in ``indexes``): :func:`st_hardneg.build.pool.pool_from_layout`."""
        return pool_from_layout(
            cls,
            layout,
            teachers,
            settings,
            dataset_fingerprint=dataset_fingerprint,
            corpus_given=corpus_given,
            indexes=indexes,
            fixed_corpus=fixed_corpus,
            show_progress=show_progress,
        )

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

        The pool is not changed, except that the selection is appended to :attr:`history`. Deeper candidates that
        ``on_short="deepen"`` found are in the :class:`Selection`'s ``deepened``; :meth:`keep_deepened` keeps them
        in the pool (for later selections, and :meth:`save`).

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
        selection = select(self, settings, chunk_size=chunk_size, show_progress=show_progress)
        self.history.append({"config": selection.config, "statistics": selection.statistics.to_dict()})
        return selection if return_statistics else selection.dataset

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
        before any training (:mod:`st_hardneg.select.sweep`).

        Nothing is encoded by default: the sets are scored with the teacher's scores held in the pool. Sweeps are
        not recorded in :attr:`history` (they write no dataset); ``on_short="deepen"`` searches as a selection does,
        and :meth:`keep_deepened` keeps what it found (``pool.keep_deepened(sweep)``).

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
                :data:`~st_hardneg.select.sweep.DEFAULT_RANK_BY`), ``"eci"``, ``"max_margin"`` or
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
            A :class:`~st_hardneg.select.sweep.Sweep`: ``sweep.rows`` / ``to_pandas()`` / ``to_dataset()``, and
            ``sweep.best()``, the settings to pass to :meth:`select`.
        """
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

        Each teacher's negatives are those it selects alone with the selection settings; without ``settings`` or
        ``method``, with the paper's TopK-PercPos 95% (footnote 11; not the selection default, ``auto``);
        ``method="naive-topk"`` compares the raw top-``k`` candidates. No encoding.

        Args:
            k: negatives per teacher and row (the paper's 4).
            teachers: the teachers compared (default: all of the pool's, at least two).
            settings / **kwargs: a :class:`~st_hardneg.settings.SelectionSettings` and fields overriding it
                (method, sampling, positive_score, min_score, seed; ``num_negatives`` is ``k``):

                {options}

        Returns:
            A :class:`~st_hardneg.ensembles.agreement.TeacherAgreement` (per-row arrays, means, ``to_markdown()``).
        """
        for name in ("teacher", "ensemble", "num_negatives"):
            if name in kwargs:
                raise TypeError(f"agreement() takes teachers= and k=, not {name}=")
        if settings is None and "method" not in kwargs:
            kwargs["method"] = TopKPercPos(0.95)  # NV-Retriever Appendix A's method
        settings = SelectionSettings.from_kwargs(settings, **kwargs).replace(
            num_negatives=k, teacher=None, ensemble=None
        )
        names = list(teachers) if teachers is not None else list(self.teachers)
        if len(names) < 2:
            raise ValueError(f"agreement needs two or more teachers; got {names}")
        for name in names:
            self.teacher_candidates(name)
        settings.check_depth(self.depth)
        settings = settings.replace(method=resolve_auto(settings.method, self.positives_indptr)[0])
        return teacher_agreement(
            [self.teachers[n] for n in names],
            self.row_query,
            row_keys=self.row_keys(settings.seed),
            settings=settings,
            chunk_size=chunk_size,
        )

    # ------------------------------------------------------------------ the Hub (st_hardneg.hub.pool_repo)
    def push_to_hub(self, repo_id: str, *, private: bool | None = None, token: str | None = None, **kwargs: Any):
        """Push the pool (its files and a card with its build configuration and per-teacher statistics) to a Hub
        dataset repository in one commit, so others select from it without encoding.

        See :func:`st_hardneg.hub.pool_repo.push_pool_to_hub` (``api``, ``overwrite``, card options).

        Returns:
            The ``CommitInfo``.
        """
        return push_pool_to_hub(self, repo_id, private=private, token=token, **kwargs)

    @classmethod
    def from_hub(
        cls, repo_id: str | Path, *, revision: str | None = None, dataset: Any = None, corpus: Any = None, **kwargs: Any
    ) -> CandidatePool:
        """A pool pushed with :meth:`push_to_hub` (or a folder holding one); its format version is checked first.

        See :func:`st_hardneg.hub.pool_repo.load_pool_from_hub` (``token``, ``api``, ``cache_dir``).
        """
        return load_pool_from_hub(cls, repo_id, revision=revision, dataset=dataset, corpus=corpus, **kwargs)
