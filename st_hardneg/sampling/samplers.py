"""Picking ``num_negatives`` negatives from the survivors of a mining method (NV-Retriever, section 3.1).

- ``"top"``: the first ``num_negatives`` survivors in rank order.
- ``"sampled"`` (Sampled Top-k): ``num_negatives`` drawn without replacement from the top ``sample_from``
  survivors, weighted by a softmax over their teacher scores (footnote 12: "we use softmax to create a probability
  distribution based on the negatives relevance score and sample based on that distribution"), or uniformly.
- ``"top1_sampled"`` (Top-1+sampled top-k): the top survivor, plus ``num_negatives - 1`` drawn as above from the
  survivors ranked 2..``sample_from``.

Draws use the Gumbel-top-k trick (adding Gumbel noise to ``score / temperature`` and keeping the largest keys is
exactly successive sampling without replacement from the softmax), vectorised over rows. The Gumbel noise comes from
the caller, keyed by seed, row and document (:mod:`st_hardneg.keyed_random`), so a row's draw does not depend on
which other rows are selected with it. The chosen negatives are returned in rank order, hardest first, whatever the
draw order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from st_hardneg.settings.base import check_choice, check_float, check_int

Sampling = Literal["top", "sampled", "top1_sampled"]
Weighting = Literal["softmax", "uniform"]
SAMPLINGS: tuple[str, ...] = ("top", "sampled", "top1_sampled")
WEIGHTINGS: tuple[str, ...] = ("softmax", "uniform")


@dataclass(frozen=True)
class Sampler:
    """How negatives are picked from the survivors.

    Args:
        strategy: ``"top"``, ``"sampled"`` or ``"top1_sampled"``.
        sample_from: the number of top survivors drawn from (the paper's k; best 10).
        weighting: ``"softmax"`` over ``score / temperature`` (the paper's choice) or ``"uniform"``.
        temperature: softmax temperature; 1.0 is the plain softmax of footnote 12, lower values favour harder
            negatives more strongly.
    """

    strategy: Sampling = "top"
    sample_from: int = 10
    weighting: Weighting = "softmax"
    temperature: float = 1.0

    def __post_init__(self) -> None:
        check_choice("sampling", self.strategy, SAMPLINGS)
        check_choice("weighting", self.weighting, WEIGHTINGS)
        check_float("temperature", self.temperature, minimum=0, strict_minimum=True)
        check_int("sample_from", self.sample_from, minimum=1)

    @property
    def random(self) -> bool:
        """Whether :meth:`pick` needs Gumbel noise."""
        return self.strategy != "top"

    def to_dict(self) -> dict[str, Any]:
        if self.strategy == "top":
            return {"strategy": "top"}
        return asdict(self)

    def pick(
        self, keep: np.ndarray, scores: np.ndarray, num_negatives: int, noise: np.ndarray | None = None
    ) -> np.ndarray:
        """Choose negatives for each row.

        Args:
            keep: ``[rows, depth]`` survivors of the mining method, in rank order.
            scores: ``[rows, depth]`` teacher scores.
            num_negatives: how many to pick per row.
            noise: ``[rows, depth]`` standard Gumbel draws, one per candidate (needed unless ``strategy="top"``).

        Returns:
            ``[rows, num_negatives]`` candidate positions (columns of ``keep``), hardest first, ``-1`` where the
            row has fewer survivors than ``num_negatives``.

        Examples:
            >>> keep = np.array([[True, False, True, True]])
            >>> Sampler("top").pick(keep, np.array([[0.9, 0.8, 0.7, 0.6]]), 2).tolist()
            [[0, 2]]
        """
        # Survivor rank of each slot: 0 for the first survivor, 1 for the second, ...
        rank = np.cumsum(keep, axis=1) - 1
        if self.strategy == "top":
            eligible = keep & (rank < num_negatives)
            return first_true(eligible, num_negatives)

        window = keep & (rank < self.sample_from)
        forced = np.zeros_like(keep)
        if self.strategy == "top1_sampled":
            forced = keep & (rank == 0)
            window &= ~forced
        with np.errstate(divide="ignore", invalid="ignore"):
            logits = scores.astype(np.float64) / self.temperature if self.weighting == "softmax" else 0.0
            logits = np.clip(logits, -1e300, 1e300)  # a tiny temperature overflows: keep every survivor drawable
        if noise is None or noise.shape != keep.shape:
            raise ValueError(f"sampling={self.strategy!r} needs Gumbel noise of shape {keep.shape}")
        keys = np.where(window, logits + noise, -np.inf)
        keys = np.where(forced, np.inf, keys)
        n = min(num_negatives, keep.shape[1])
        top = (
            np.argpartition(-keys, n - 1, axis=1)[:, :n]
            if n < keep.shape[1]
            else np.tile(np.arange(keep.shape[1]), (keep.shape[0], 1))
        )
        chosen = np.zeros_like(keep)
        rows = np.arange(keep.shape[0])[:, None]
        chosen[rows, top] = (window | forced)[rows, top]
        return first_true(chosen, num_negatives)


def first_true(mask: np.ndarray, n: int) -> np.ndarray:
    """Column positions of the first ``n`` True entries of each row, ``-1``-padded, in column order."""
    rows, depth = mask.shape
    order = np.argsort(~mask, axis=1, kind="stable")[:, :n]
    taken = np.take_along_axis(mask, order, axis=1)
    out = np.where(taken, order, -1)
    if out.shape[1] < n:
        out = np.concatenate([out, np.full((rows, n - out.shape[1]), -1, dtype=out.dtype)], axis=1)
    return out
