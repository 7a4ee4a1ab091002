"""``HardNegativeMiner``: mining as a ``dataset.map(..., batched=True)`` function.

The corpus is indexed once (on the first batch) and reused; each batch then becomes a small candidate pool and one
selection. Every positive must be in ``corpus`` (a batch cannot add documents to an index built before it).

Draws are keyed by seed and row (:mod:`st_hardneg.keyed_random`), so any batch size gives the rows
:func:`~st_hardneg.mine_hard_negatives` gives, provided each batch knows every positive of its anchors: pass
``positives=dataset`` (or ``{anchor: [positives]}``) when an anchor's rows may fall into different batches.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from st_hardneg.build.building import index_teachers
from st_hardneg.candidate_pool import CandidatePool
from st_hardneg.data.leakage import rows_to_keep
from st_hardneg.filters.methods import Auto, MiningMethod
from st_hardneg.mine import settings_from_kwargs
from st_hardneg.pool.input_columns import check_keep_columns, check_output_ids, read_input_columns
from st_hardneg.pool.inputs import FixedCorpus, build_layout, dataset_fingerprint, read_pairs
from st_hardneg.pool.settings import PoolSettings
from st_hardneg.select.settings import SelectionSettings
from st_hardneg.settings.base import document_options
from st_hardneg.teachers.resolve import resolve_teachers

logger = logging.getLogger(__name__)

__all__ = ["HardNegativeMiner"]


@document_options(PoolSettings, SelectionSettings)
class HardNegativeMiner:
    """A callable for ``dataset.map(miner, batched=True)`` (or unbatched ``map(miner)``) that adds hard negatives.

    Pass ``positives=dataset`` (the pairs being mapped): without it a batch knows only its own rows, so another
    positive of an anchor whose rows fall in other batches can be chosen as that anchor's negative (a false
    negative). The miner warns when it is built without ``positives=``; ``positives="batch"`` states that every
    anchor's rows share one batch (no warning at construction; a warning still when an anchor reappears).

    Args:
        teacher: as for :func:`~st_hardneg.mine_hard_negatives` (a model name loads on the first batch); a list
            of teachers with ``ensemble=`` selects an ensemble of them.
        corpus: the documents to mine from; must contain every positive.
        settings / pool_settings: selection and pool settings; keyword arguments override their fields.
        positives: every positive of each anchor, as the pairs ``datasets.Dataset`` itself or as
            ``{anchor: [positive, ...]}``, for anchors whose rows span batches: those positives are excluded too,
            and ``positive_score="min"`` sees them; ``"batch"``: each batch holds every row of its anchors.
        show_progress: tqdm bars inside each batch (off by default: ``map`` shows its own).
        **kwargs: fields of the settings classes (``seed`` sets both):

            {options}

    Formats that change the number of rows ("triplet", "labeled-pair"), and rows dropped for lack of negatives,
    need ``remove_columns=dataset.column_names`` in ``map`` with ``batched=True``; unbatched, each row must give
    exactly one row.

    Attributes:
        history: ``[{"config": ..., "statistics": ...}]`` per batch.

    Examples:
        >>> from st_hardneg import HardNegativeMiner
        >>> from st_hardneg.data import load_default
        >>> pairs, corpus = load_default()
        >>> miner = HardNegativeMiner("bm25", corpus=corpus, positives=pairs)  # auto (Naive Top-K here), 3, triplets
        >>> triplets = pairs.map(miner, batched=True, batch_size=32, remove_columns=pairs.column_names)
        >>> triplets.column_names
        ['anchor', 'positive', 'negative']
        >>> miner = HardNegativeMiner("bm25", corpus=corpus, num_negatives=2, output_format="n-tuple", positives=pairs)
        >>> mined = pairs.map(miner, batched=True, batch_size=32)
        >>> mined.column_names
        ['anchor', 'positive', 'negative_1', 'negative_2']
        >>> pairs.map(miner).to_list() == mined.to_list()  # n-tuples unbatched: one row in, one row out
        True
    """

    def __init__(
        self,
        teacher: Any,
        corpus: Sequence[str],
        *,
        settings: SelectionSettings | None = None,
        pool_settings: PoolSettings | None = None,
        positives: Any = None,
        show_progress: bool = False,
        **kwargs: Any,
    ) -> None:
        self.pool_settings, self.settings = settings_from_kwargs(kwargs, pool_settings, settings)
        if corpus is None:
            raise ValueError("HardNegativeMiner needs a corpus that contains every positive")
        if self.pool_settings.existing_negatives != "ignore":
            raise ValueError(
                f"existing_negatives={self.pool_settings.existing_negatives!r} is not available with HardNegativeMiner "
                "yet: use mine_hard_negatives or CandidatePool.build"
            )
        self.teachers = resolve_teachers(teacher)
        self.corpus = FixedCorpus(corpus)
        if self.settings.output_ids and self.corpus.document_ids is None:
            raise ValueError(
                "output_ids=True needs the documents' ids: this corpus has none; give it as {id: text} or as a "
                "Dataset with an id column (_id, id, doc_id, ...). No ids are invented"
            )
        self.positives = self._positives_mapping(positives)
        #: what ``method="auto"`` chose and from how many positives per anchor (None: a method was given)
        self.method_choice: dict[str, Any] | None = None
        if isinstance(self.settings.method, Auto) and self.positives is not None:  # the whole dataset's positives
            per_anchor = float(np.mean([len(texts) for texts in self.positives.values()])) if self.positives else 0.0
            self._choose(self.settings.method.choose(per_anchor), per_anchor)
        self.show_progress = show_progress
        self.history: list[dict[str, Any]] = []
        self._indexes = None
        self._seen: set[str] = set()
        self._warned = False

    def _positives_mapping(self, positives: Any) -> dict[str, list[str]] | None:
        if positives is None:
            warnings.warn(
                "HardNegativeMiner without positives=: each batch knows only its own rows, so an anchor's positives "
                "in other batches can become its negatives (false negatives). Pass positives=<the pairs dataset>, "
                'or positives="batch" when every anchor\'s rows share one batch.',
                UserWarning,
                stacklevel=3,
            )
            return None
        if isinstance(positives, str):
            if positives != "batch":
                raise ValueError(
                    f'positives= is the pairs dataset, {{anchor: [positives]}} or "batch", got {positives!r}'
                )
            return None
        if not isinstance(positives, Mapping):
            s = self.pool_settings
            _, _, anchors, texts = read_pairs(positives, s.anchor_column, s.positive_column)
            mapping: dict[str, list[str]] = {}
            for anchor, text in zip(anchors, texts):
                mapping.setdefault(anchor, []).append(text)
            positives = mapping
        return {anchor: list(dict.fromkeys(texts)) for anchor, texts in positives.items()}

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        if not all(isinstance(value, list) for value in batch.values()):  # unbatched map: one row
            return self._one_row(batch)
        s = self.pool_settings
        batch = dict(batch)
        anchor_column, positive_column, anchors, positives = read_pairs(batch, s.anchor_column, s.positive_column)
        check_keep_columns(batch, s.keep_columns, anchor_column, positive_column)
        if self.settings.output_ids:  # before the first batch encodes anything
            check_output_ids(batch, self.corpus.texts, anchor_column, positive_column, corpus_has_ids=True)
        keep = rows_to_keep(anchors, s.exclude)  # the leakage guard: evaluation anchors' rows leave the batch
        excluded = 0 if keep is None else len(anchors) - len(keep)
        rows = None
        if keep is not None:
            # a batch of evaluation anchors only is mined for its first row, to return the output's columns empty
            rows = keep if len(keep) else np.arange(min(1, len(anchors)))
            anchors, positives = [anchors[i] for i in rows], [positives[i] for i in rows]
        extra_anchors, extra_positives = self._extra_rows(anchors, positives)
        layout = build_layout(anchors + extra_anchors, positives + extra_positives, fixed_corpus=self.corpus)
        if self._indexes is None:
            self._indexes = index_teachers(self.teachers, self.corpus.texts, show_progress=self.show_progress)
        pool = CandidatePool.from_layout(
            layout,
            self.teachers,
            s.replace(anchor_column=anchor_column, positive_column=positive_column),
            dataset_fingerprint=dataset_fingerprint(anchors, positives),
            corpus_given=True,
            indexes=self._indexes,
            fixed_corpus=self.corpus,
            show_progress=self.show_progress,
        )
        if extra_anchors:
            pool = pool.take_rows(np.arange(len(anchors)))
        pool.input_columns = read_input_columns(
            batch,
            None,
            layout,
            anchor_column,
            positive_column,
            s.keep_columns,
            document_ids=self.corpus.document_ids,
            rows=rows,  # the rows the leakage guard kept: ids and kept columns stay aligned with them
        )
        result = pool.select(self.settings, show_progress=self.show_progress, return_statistics=True)
        if isinstance(self.settings.method, Auto):  # chosen from the first batch's anchors, kept for the others
            choice = result.context["method_choice"]
            self._choose(result.settings.method, choice["positives_per_anchor"], "the first batch's")
        self.history.append(
            {"config": result.config, "statistics": result.statistics.to_dict(), "rows_excluded": excluded}
        )
        if keep is not None and not len(keep):
            return result.dataset.select([]).to_dict()
        return result.dataset.to_dict()

    def _choose(self, method: MiningMethod, per_anchor: float, whose: str = "the anchors'") -> None:
        """Fixes the method ``method="auto"`` chose, so that every batch is mined with the same one."""
        requested = self.settings.method.spec
        self.method_choice = {
            "requested": requested,
            "positives_per_anchor": round(per_anchor, 4),
            "chosen": method.spec,
        }
        logger.info("method=%r: %s %.2f distinct positives per anchor -> %s", requested, whose, per_anchor, method.spec)
        self.settings = self.settings.replace(method=method)

    def _one_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """``map(miner)`` without ``batched=True``: the row as a batch of one, and its one output row."""
        out = self({key: [value] for key, value in row.items()})
        lengths = {len(values) for values in out.values()}
        if lengths != {1}:
            n = lengths.pop() if len(lengths) == 1 else sorted(lengths)
            raise ValueError(
                f"this row gives {n} rows (output format {self.settings.output_format!r}, or a row dropped for lack "
                "of negatives): an unbatched map needs one row out per row in; use "
                "map(miner, batched=True, remove_columns=dataset.column_names)"
            )
        return {key: values[0] for key, values in out.items()}

    def _extra_rows(self, anchors: list[str], positives: list[str]) -> tuple[list[str], list[str]]:
        """Rows for the anchors' positives that are not in this batch (scored, excluded, never output)."""
        if self.positives is None:
            repeated = self._seen.intersection(anchors)
            if repeated and not self._warned:
                self._warned = True
                logger.warning(
                    "Anchor %r (and %d more) has rows in more than one batch: its positives from other batches are "
                    "not excluded from its candidates. Pass positives=<the pairs dataset> to HardNegativeMiner.",
                    next(iter(repeated)),
                    len(repeated) - 1,
                )
            self._seen.update(anchors)
            return [], []
        present = set(zip(anchors, positives))
        extra = [
            (a, p)
            for a in dict.fromkeys(anchors)
            for p in self.positives.get(a, ())
            if (a, p) not in present and p in self.corpus.ids
        ]
        return [a for a, _ in extra], [p for _, p in extra]
