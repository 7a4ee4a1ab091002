"""The candidate pool as a store: for every anchor of a pairs dataset, each teacher's ranked candidates and scores
(:class:`~st_hardneg.pool.candidates.TeacherCandidates`), the judgments of a relabeling, the fingerprints of the
inputs it was built on, and its saving and loading.

The store holds data and answers questions about it; it neither builds nor selects. Building
(:mod:`st_hardneg.build`), selecting (:mod:`st_hardneg.select`) and the Hub (:mod:`st_hardneg.hub`) stand above it,
and :class:`st_hardneg.CandidatePool` (:mod:`st_hardneg.candidate_pool`) hands its calls to them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from st_hardneg.keyed_random import combine, salt, text_keys
from st_hardneg.pool.candidates import TeacherCandidates
from st_hardneg.pool.input_columns import InputColumns
from st_hardneg.pool.inputs import check_fingerprints
from st_hardneg.pool.settings import PoolSettings
from st_hardneg.pool.statistics import PoolStatistics
from st_hardneg.pool.storage import load_pool, save_pool
from st_hardneg.relabel.arhn import ARHN
from st_hardneg.teachers.base import Teacher, TeacherIndex
from st_hardneg.teachers.resolve import resolve_teacher, resolve_teachers

logger = logging.getLogger(__name__)

__all__ = ["PoolStore"]

#: Salt of the row keys (:meth:`PoolStore.row_keys`) every sampling draw starts from.
ROW_SALT = salt("st-hardneg selection row")


class PoolStore:
    """Ranked candidates of one or more teachers for every anchor of a pairs dataset.

    :class:`st_hardneg.CandidatePool` is this store with its building, selecting and Hub calls; persist with
    :meth:`save` / :meth:`load`. Nothing here changes the pool's candidates except :meth:`keep_deepened` (deeper
    candidates a selection found) and :meth:`relabel` (judgments).

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
        *,
        indexes: dict[str, TeacherIndex] | None = None,
        query_keys: np.ndarray | None = None,
        input_columns: InputColumns | None = None,
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
        self.input_columns = input_columns
        self._query_keys: np.ndarray | None = query_keys
        self._positive_keys: np.ndarray | None = None
        self._indexes: dict[str, TeacherIndex] = dict(indexes or {})
        self._query_texts: list[str] | None = None

    @property
    def settings(self) -> PoolSettings:
        return PoolSettings.from_dict(self.config["settings"])

    @property
    def depth(self) -> int:
        """The pool's depth: how many candidates each teacher kept per anchor at build (``PoolSettings.depth``)."""
        return int(self.config["settings"]["depth"])

    # ------------------------------------------------------------------ teachers' indexes
    def attach_teacher(self, teacher: Any, *, show_progress: bool = True) -> PoolStore:
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

    def can_search(self, name: str) -> bool:
        """Whether teacher ``name`` can search this pool's corpus again: it is indexed, or in memory to index it."""
        return name in self._indexes or name in self.teacher_objects

    def teacher_index(self, name: str) -> TeacherIndex:
        """Teacher ``name``'s index of the corpus: the one built or attached, or one built now (and kept) by the
        teacher held in memory (``load(path, teachers=...)``, a sharded build)."""
        if name not in self._indexes:
            teacher = self.teacher_objects.get(name)
            if teacher is None:
                raise ValueError(f"teacher {name!r} is neither indexed nor in memory: pool.attach_teacher(teacher)")
            logger.info("Indexing the corpus with teacher %s to search short rows deeper", name)
            self.attach_teacher(teacher, show_progress=False)
        return self._indexes[name]

    # ------------------------------------------------------------------ deeper candidates
    def keep_deepened(self, result: Any) -> PoolStore:
        """Keep the deeper candidates a selection (or a sweep) found with ``on_short="deepen"``, so later selections
        reuse them and :meth:`save` writes them. Selecting never changes the pool: this is the step that does.

        Args:
            result: a :class:`~st_hardneg.select.selector.Selection` (``select(..., return_statistics=True)``) or
                a :class:`~st_hardneg.select.sweep.Sweep` of this pool.

        Returns:
            The pool itself.
        """
        deepened = getattr(result, "deepened", None)
        if deepened is None:
            raise TypeError(f"keep_deepened takes a Selection or a Sweep, got {type(result).__name__}")
        for name, extension in deepened.items():
            tc = self.teacher_candidates(name)
            if len(extension.searched) != len(self.queries):
                raise ValueError(
                    f"these deeper candidates cover {len(extension.searched)} anchors; this pool has "
                    f"{len(self.queries)}: keep_deepened takes a selection of this pool"
                )
            tc.extension = extension
        return self

    @property
    def query_keys(self) -> np.ndarray:
        """uint64 key of every anchor text (what keyed draws start from)."""
        if self._query_keys is None:
            self._query_keys = text_keys(self.queries.to_pylist())
        return self._query_keys

    @property
    def query_texts(self) -> list[str]:
        """The anchor texts as a list (the order the teachers encoded them in)."""
        if self._query_texts is None:
            self._query_texts = self.queries.to_pylist()
        return self._query_texts

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
        if self._positive_keys is None:
            docs, inverse = np.unique(self.row_positive, return_inverse=True)
            self._positive_keys = text_keys(pc.take(self.corpus, pa.array(docs)).to_pylist())[inverse]
        return combine(self.query_keys[self.row_query], self._positive_keys, np.uint64(seed), ROW_SALT)

    def take_rows(self, rows: np.ndarray) -> PoolStore:
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
            indexes=self._indexes,
            query_keys=self._query_keys,
            input_columns=None if self.input_columns is None else self.input_columns.take_rows(rows),
        )
        pool._query_texts = self._query_texts
        if self._positive_keys is not None:
            pool._positive_keys = self._positive_keys[rows]
        return pool

    # ------------------------------------------------------------------ inputs check
    def check_inputs(self, dataset: Any = None, corpus: Any = None) -> None:
        """Raise a ``ValueError`` when ``dataset`` or ``corpus`` differ from what this pool was built on."""
        if dataset is None and corpus is None:
            return
        positives = pc.take(self.corpus, pa.array(self.row_positive)).to_pylist() if dataset is None else None
        check_fingerprints(self.config, dataset, corpus, made=("this pool", "built"), positives=positives)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Write the pool to a folder (JSON, Arrow and ``.npy`` files); :meth:`load` reads it back.

        An existing non-empty folder is refused unless ``overwrite=True`` (then only a saved pool is replaced).
        """
        save_pool(self, Path(path), overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path, *, dataset: Any = None, corpus: Any = None, teachers: Any = None) -> PoolStore:
        """Read a pool written by :meth:`save`; large arrays are memory-mapped.

        Args:
            dataset / corpus: when given, checked against the pool's fingerprints (:meth:`check_inputs`).
            teachers: teachers of the pool to hold in memory again (by name; as for :meth:`build`), so soft labels
                can score pairs they did not score in the pool and ``on_short="deepen"`` can search deeper (it
                indexes the corpus the first time it must search). Nothing is encoded here.
        """
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

    def __len__(self) -> int:
        return len(self.row_query)

    def __repr__(self) -> str:
        judged = f", judgments={self.judgments.mode!r}" if self.judgments is not None else ""
        return (
            f"{type(self).__name__}(rows={len(self)}, queries={len(self.queries)}, corpus={len(self.corpus)}, "
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
