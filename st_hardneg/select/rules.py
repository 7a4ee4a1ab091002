"""The rules a candidate passes to become a negative, beside the mining method: a rank window and a score band.

sentence-transformers' ``mine_hard_negatives`` combines a rank window (``range_min`` / ``range_max``), a margin and
``min_score`` / ``max_score`` in one call. Here the margin is the mining method (:mod:`st_hardneg.filters.methods`,
exact to NV-Retriever and unchanged), and the other rules are applied beside it, each counted apart:

1. the rank window: the first ``range_min`` ranked candidates are skipped and only the first ``range_max`` are
   considered (ranks count the anchor's non-positive candidates, from 0, as Top-K shifted by N does);
2. the mining method;
3. ``max_score``: candidates scoring above it are removed (too close to a positive to trust);
4. ``min_score``: candidates scoring below it are removed (too easy).

A candidate removed by an earlier rule is not counted again by a later one. Every rule is a mask on the same ranked
candidates, so the order only decides which rule a removal is counted under, never which candidates survive.

:class:`NegativeRule` also carries the rest of what the selection pipeline reads from the settings: the sampler, how
many negatives a row takes, and what a row short of them becomes (``on_short``; ``full_rows`` when the output format
needs every row full, n-tuple).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from st_hardneg.filters.methods import MiningMethod
from st_hardneg.sampling.samplers import Sampler

if TYPE_CHECKING:
    from st_hardneg.select.settings import SelectionSettings

__all__ = ["RULE_COUNTERS", "NegativeRule", "RuleOutcome"]

#: The :class:`~st_hardneg.pool.statistics.SelectionStatistics` counter of each rule, in the order they apply.
RULE_COUNTERS: tuple[str, ...] = (
    "removed_by_rank",
    "removed_by_method",
    "removed_above_max_score",
    "removed_below_min_score",
)


@dataclass
class RuleOutcome:
    """What the rules did to ``[rows, width]`` candidates: the survivors and each rule's removals (masks)."""

    keep: np.ndarray
    removed: dict[str, np.ndarray]

    def counts(self) -> dict[str, int]:
        """Each rule's removals, counted (:data:`RULE_COUNTERS` keys)."""
        return {name: int(mask.sum()) for name, mask in self.removed.items()}


@dataclass(frozen=True)
class NegativeRule:
    """What turns a row's ranked candidates into its negatives (the selection settings the pipeline reads): the
    mining method with the rank window and the score band (see the module's text), the sampler and how many; and what
    a row short of them becomes (``on_short``; ``full_rows`` when the output format needs every row full, n-tuple).

    Examples:
        >>> from st_hardneg.filters.methods import NaiveTopK
        >>> rule = NegativeRule(NaiveTopK(), range_min=1, range_max=3, max_score=0.8)
        >>> scores = np.array([[0.9, 0.85, 0.7, 0.6]])
        >>> out = rule.apply(scores, np.array([1.0]), np.ones((1, 4), bool))
        >>> out.keep.tolist(), out.counts()["removed_by_rank"], out.counts()["removed_above_max_score"]
        ([[False, False, True, False]], 2, 1)
    """

    method: MiningMethod
    range_min: int = 0
    range_max: int | None = None
    min_score: float | None = None
    max_score: float | None = None
    sampler: Sampler = field(default_factory=Sampler)
    num_negatives: int = 1
    on_short: str | None = None
    full_rows: bool = False

    @classmethod
    def of(cls, settings: SelectionSettings) -> NegativeRule:
        """The rule a :class:`~st_hardneg.select.settings.SelectionSettings` describes."""
        return cls(
            method=settings.method,
            range_min=settings.range_min,
            range_max=settings.range_max,
            min_score=settings.min_score,
            max_score=settings.max_score,
            sampler=settings.sampler,
            num_negatives=settings.num_negatives,
            on_short=settings.on_short,
            full_rows=settings.output_format == "n-tuple",
        )

    @property
    def skips(self) -> int:
        """How many top-ranked candidates are always removed (the method's shift or ``range_min``)."""
        return max(self.method.skips, self.range_min)

    def window(self, width: int) -> np.ndarray:
        """``[width]`` whether each rank lies in the window."""
        ranks = np.arange(width)
        inside = ranks >= self.range_min
        if self.range_max is not None:
            inside &= ranks < self.range_max
        return inside

    def apply(
        self,
        scores: np.ndarray,
        positive_scores: np.ndarray,
        valid: np.ndarray,
        ranks: np.ndarray | None = None,
    ) -> RuleOutcome:
        """Apply every rule to ranked candidates ``[rows, width]`` (highest score first).

        Args:
            ranks: ``[rows, width]`` each candidate's rank, when it is not its column (default: the column).
        """
        if ranks is None:
            in_window = np.broadcast_to(self.window(scores.shape[1])[None, :], scores.shape)
        else:
            in_window = ranks >= self.range_min
            if self.range_max is not None:
                in_window = in_window & (ranks < self.range_max)
        keep = valid & in_window
        removed = {"removed_by_rank": valid & ~in_window}
        by_method = keep & ~self.method.keep(scores, positive_scores, valid)
        keep = keep & ~by_method
        removed["removed_by_method"] = by_method
        above = np.zeros_like(keep)
        if self.max_score is not None:
            above = keep & (scores > np.float64(self.max_score))  # float64, as the methods compare
            keep = keep & ~above
        removed["removed_above_max_score"] = above
        below = np.zeros_like(keep)
        if self.min_score is not None:
            below = keep & (scores < np.float64(self.min_score))
            keep = keep & ~below
        removed["removed_below_min_score"] = below
        return RuleOutcome(keep, removed)

    def score_bound(self, scores: np.ndarray, positive_scores: np.ndarray) -> np.ndarray:
        """``[rows, width]`` whether scores obey the method's bound and the score band (for random fill
        documents, which have no rank)."""
        ok = np.ones(scores.shape, dtype=bool)
        limit = self.method.threshold(positive_scores)
        if limit is not None:
            ok &= scores <= limit[:, None]
        if self.max_score is not None:
            ok &= scores <= np.float64(self.max_score)
        if self.min_score is not None:
            ok &= scores >= np.float64(self.min_score)
        return ok
