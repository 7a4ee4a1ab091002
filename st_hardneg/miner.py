"""``HardNegativeMiner``: mining as a ``dataset.map(..., batched=True)`` function.

The corpus is indexed once (on the first batch) and reused; each batch then becomes a small candidate pool and one
selection. Every positive must be in ``corpus`` (a batch cannot add documents to an index built before it).

Positives are known per batch: an anchor whose rows fall into different batches is protected only against the
positives of its own batch, so keep all rows of an anchor together (sort by anchor, or use a batch size that holds
them) or pass ``positives={anchor: [texts...]}`` with the full mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from st_hardneg.filters.methods import MiningMethod, TopKPercPos, get_method
from st_hardneg.pool.candidate_pool import CandidatePool
from st_hardneg.pool.inputs import FixedCorpus
from st_hardneg.teachers.resolve import resolve_teacher


class HardNegativeMiner:
    """A callable for ``dataset.map(miner, batched=True)`` that adds hard negatives to each batch.

    Args:
        teacher: as for :func:`~st_hardneg.mine_hard_negatives`.
        corpus: the documents to mine from; must contain every positive.
        method, num_negatives, sampling, output_format, output_scores, on_short, positive_score: as for
            :meth:`CandidatePool.select`. Formats that change the number of rows ("triplet", "labeled-pair"), and
            n-tuple rows dropped for lack of negatives, need ``remove_columns=dataset.column_names`` in ``map``.
        depth: candidates per anchor.
        positives: optional ``{anchor: [positive, ...]}`` with every positive of each anchor, for anchors whose
            rows span batches; those positives are also excluded.
        seed: seeds every draw; batch ``i`` uses ``seed + i`` so results do not depend on the batch order.
        select_kwargs: further arguments of :meth:`CandidatePool.select` (``sample_from``, ``temperature``...).
        dense_kwargs: prompts, batch size, backend, cache folder for a dense teacher.

    Examples:
        >>> from st_hardneg import HardNegativeMiner
        >>> from st_hardneg.data import load_default
        >>> pairs, corpus = load_default()
        >>> miner = HardNegativeMiner("bm25", corpus=corpus, num_negatives=2, seed=0, show_progress=False)
        >>> mined = pairs.map(miner, batched=True, batch_size=32)
        >>> mined.column_names
        ['anchor', 'positive', 'negative_1', 'negative_2']
    """

    def __init__(
        self,
        teacher: Any,
        corpus: Sequence[str],
        method: MiningMethod | str = TopKPercPos(),
        num_negatives: int = 4,
        sampling: str = "top",
        *,
        output_format: str = "n-tuple",
        output_scores: bool = False,
        on_short: str | None = None,
        positive_score: str = "row",
        depth: int = 30,
        anchor_column: str | None = None,
        positive_column: str | None = None,
        positives: Mapping[str, Sequence[str]] | None = None,
        seed: int = 0,
        show_progress: bool = False,
        select_kwargs: dict[str, Any] | None = None,
        **dense_kwargs: Any,
    ) -> None:
        if corpus is None:
            raise ValueError("HardNegativeMiner needs a corpus that contains every positive")
        self.teacher = resolve_teacher(teacher, **dense_kwargs)
        self.corpus = FixedCorpus(corpus)
        self.method = get_method(method)
        self.num_negatives = num_negatives
        self.sampling = sampling
        self.output_format = output_format
        self.output_scores = output_scores
        self.on_short = on_short
        self.positive_score = positive_score
        self.depth = depth
        self.anchor_column = anchor_column
        self.positive_column = positive_column
        self.positives = positives
        self.seed = seed
        self.show_progress = show_progress
        self.select_kwargs = select_kwargs or {}
        self._index = None
        self._calls = 0
        self.history: list[dict[str, Any]] = []

    def __call__(self, batch: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
        if self._index is None:
            self._index = self.teacher.index(self.corpus.texts, self.show_progress)
        batch_seed = self.seed + self._calls
        self._calls += 1
        pool = CandidatePool.build(
            dict(batch),
            self.teacher,
            corpus=self.corpus,
            depth=self.depth,
            anchor_column=self.anchor_column,
            positive_column=self.positive_column,
            seed=batch_seed,
            show_progress=self.show_progress,
            _indexes={self.teacher.name: self._index},
            _fixed_corpus=self.corpus,
        )
        if self.positives:
            _exclude_extra_positives(pool, self.positives, self.corpus.ids)
        result = pool.select(
            self.method,
            self.num_negatives,
            self.sampling,
            output_format=self.output_format,
            output_scores=self.output_scores,
            on_short=self.on_short,
            positive_score=self.positive_score,
            seed=batch_seed,
            show_progress=self.show_progress,
            return_statistics=True,
            **self.select_kwargs,
        )
        self.history.append({"config": result.config, "statistics": result.statistics.to_dict()})
        return result.dataset.to_dict()


def _exclude_extra_positives(
    pool: CandidatePool, positives: Mapping[str, Sequence[str]], doc_id: Mapping[str, int]
) -> None:
    """Drop from each query's candidates (and fill reserve) the positives known from outside the batch."""
    for qi, anchor in enumerate(pool.queries.to_pylist()):
        extra = [doc_id[p] for p in positives.get(anchor, ()) if p in doc_id]
        if not extra:
            continue
        for tc in pool.teachers.values():
            for ids, scores in ((tc.candidates, tc.scores), (tc.random_candidates, tc.random_scores)):
                hit = np.isin(ids[qi], extra)
                ids[qi][hit] = -1
                scores[qi][hit] = -np.inf
