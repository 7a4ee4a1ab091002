"""What every ensemble strategy receives and shares: the member teachers' candidates, the rows, the settings, and
helpers to combine per-teacher picks (:func:`~st_hardneg.select.negatives.pick_negatives`) into rows."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from st_hardneg.formatting.formatters import Selected
from st_hardneg.pool.candidates import TeacherCandidates
from st_hardneg.pool.lookup import lookup_scores
from st_hardneg.pool.statistics import ScoreSummary, SelectionStatistics
from st_hardneg.select.negatives import (
    FillSource,
    Picks,
    finish_selection,
    pick_negatives,
    row_positive_scores,
)
from st_hardneg.select.rules import NegativeRule
from st_hardneg.select.settings import SelectionSettings

__all__ = ["EnsembleInput", "add_counts", "bit", "compact_rows", "with_reference_scores"]


@dataclass
class EnsembleInput:
    """The selection an ensemble strategy makes.

    Attributes:
        teachers: the member teachers' candidates, in the order given (the order matters to intra-sample,
            concatenation and to which teacher fills short rows: the first).
        row_query / row_positive: ``[rows]`` query index and positive corpus id of each row.
        query_keys: uint64 ``[queries]`` text key of each query (cross-sample draws are keyed by seed and anchor).
        row_keys: uint64 ``[rows]`` key of each row (seed, anchor, positive), for the samplers' noise.
        settings: the selection settings (``num_negatives`` is per teacher for ``concat``).
        judged: a relabeled pool's judgments lookup (:func:`~st_hardneg.select.negatives.pick_negatives`): judged
            positives and filtered passages leave every member's candidates.
        duplicates: copies of the positives to keep out of every member's candidates and of the fill
            (:mod:`st_hardneg.select.duplicates`).
    """

    teachers: list[TeacherCandidates]
    row_query: np.ndarray
    row_positive: np.ndarray
    query_keys: np.ndarray
    row_keys: np.ndarray
    settings: SelectionSettings
    chunk_size: int = 16384
    show_progress: bool = True
    judged: Any = None
    duplicates: Any = None

    def positive_scores(self, t: int) -> np.ndarray:
        """Teacher ``t``'s positive score per row, as the methods compare it (``settings.positive_score``)."""
        return row_positive_scores(self.teachers[t], self.row_query, self.settings.positive_score)

    @property
    def rule(self) -> NegativeRule:
        """The few settings every member's picks and the finishing step read."""
        return NegativeRule.of(self.settings)

    def own_positive_scores(self, t: int) -> np.ndarray:
        """Teacher ``t``'s score of each row's own positive (what a selection reports)."""
        return row_positive_scores(self.teachers[t], self.row_query, "row")

    def picks(self, t: int, num: int | None = None, *, draw_order: bool = False) -> Picks:
        """Teacher ``t``'s own picks for every row (method and sampler on its scores), as it would select alone."""
        return pick_negatives(
            self.teachers[t],
            self.row_query,
            self.positive_scores(t),
            rule=self.rule,
            row_keys=self.row_keys,
            num=num,
            draw_order=draw_order,
            judged=self.judged,
            duplicates=self.duplicates,
            chunk_size=self.chunk_size,
            show_progress=self.show_progress,
        )

    def finish(
        self, negatives: np.ndarray, bits: np.ndarray, st: SelectionStatistics
    ) -> tuple[Selected, SelectionStatistics]:
        """Fill short rows from the first teacher's reserve (under its method bound), drop or keep, and report the
        scores under the first teacher (:func:`with_reference_scores`)."""
        reference = self.teachers[0]
        selected, st = finish_selection(
            negatives,
            lookup_scores(reference, self.row_query, negatives),
            bits,
            st,
            row_query=self.row_query,
            row_positive=self.row_positive,
            positive_scores=self.own_positive_scores(0),
            fill=FillSource(reference, self.positive_scores(0), self.judged, self.duplicates),
            rule=self.rule,
            chunk_size=self.chunk_size,
        )
        return with_reference_scores(selected, st, reference)


def bit(t: int) -> np.uint64:
    """The teacher-set bit of member ``t``."""
    return np.uint64(1) << np.uint64(t)


def compact_rows(ids: np.ndarray, bits: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Move each row's valid ids (``>= 0``) to the front, order kept, and cut or pad to ``width``."""
    order = np.argsort(ids < 0, axis=1, kind="stable")[:, :width]
    ids = np.take_along_axis(ids, order, axis=1)
    bits = np.where(ids >= 0, np.take_along_axis(bits, order, axis=1), np.uint64(0))
    if ids.shape[1] < width:
        pad = width - ids.shape[1]
        ids = np.concatenate([ids, np.full((len(ids), pad), -1, ids.dtype)], axis=1)
        bits = np.concatenate([bits, np.zeros((len(bits), pad), np.uint64)], axis=1)
    return ids, bits


def add_counts(total: SelectionStatistics, part: SelectionStatistics) -> SelectionStatistics:
    """Add ``part``'s integer counters to ``total`` (in place; distributions are recomputed by the caller)."""
    for f in fields(SelectionStatistics):
        value = getattr(part, f.name)
        if isinstance(value, int) and not isinstance(value, bool) and f.name != "rows_in":
            setattr(total, f.name, getattr(total, f.name) + value)
    return total


def with_reference_scores(
    selected: Selected, st: SelectionStatistics, reference: TeacherCandidates
) -> tuple[Selected, SelectionStatistics]:
    """Report an ensemble's scores on one scale: the first teacher's (its score of every output negative, looked
    up in the pool; pairs it never scored are NaN and left out of the distributions)."""
    selected.negative_scores = lookup_scores(reference, selected.row_query, selected.negatives)
    valid = selected.negatives >= 0
    st.positive_scores = ScoreSummary.of(selected.positive_scores)
    st.negative_scores = ScoreSummary.of(selected.negative_scores[valid])
    st.margins = ScoreSummary.of((selected.positive_scores[:, None] - selected.negative_scores)[valid])
    return selected, st
