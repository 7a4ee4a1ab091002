"""Picking ``num_negatives`` negatives from the survivors of a mining method (NV-Retriever, section 3.1).

- ``"top"``: the first ``num_negatives`` survivors in rank order.
- ``"sampled"`` (Sampled Top-k): ``num_negatives`` drawn without replacement from the top ``sample_from``
  survivors, weighted by a softmax over their teacher scores (footnote 12: "we use softmax to create a probability
  distribution based on the negatives relevance score and sample based on that distribution"), or uniformly.
- ``"top1_sampled"`` (Top-1+sampled top-k): the top survivor, plus ``num_negatives - 1`` drawn as above from the
  survivors ranked 2..``sample_from``.
- ``"simans"`` (SimANS, Zhou et al., EMNLP 2022): ``num_negatives`` drawn without replacement from every survivor
  with weights ``exp(-a * (s(q, d) - s(q, d+) + b) ** 2)``, which peak at ``s(q, d) = s(q, d+) - b``: negatives
  ranked around the positive, neither the hardest (likely false negatives) nor the easiest. The sign of ``b``
  follows the authors' code (``microsoft/SimXNS``, ``SimANS/utils/MARCO_until_Doc.py``:
  ``exp(-(neg_score - pos_score + b) ** 2 * a)``; their defaults ``a=0.5, b=0``); a formula written with ``- b``
  puts the peak ``b`` above the positive instead. The code draws with replacement until it has ``k`` distinct
  negatives; here the draw is successive sampling without replacement (Gumbel-top-k over the log-weights), which
  gives each negative the same first-draw probability. ``sample_from`` does not apply: SimANS weighs every
  candidate. Mind the teacher's score scale: with cosine scores (differences below 2) ``a=0.5`` is nearly uniform.

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

Sampling = Literal["top", "sampled", "top1_sampled", "simans"]
Weighting = Literal["softmax", "uniform"]
SAMPLINGS: tuple[str, ...] = ("top", "sampled", "top1_sampled", "simans")
WEIGHTINGS: tuple[str, ...] = ("softmax", "uniform")


@dataclass(frozen=True)
class Sampler:
    """How negatives are picked from the survivors.

    Args:
        strategy: ``"top"``, ``"sampled"``, ``"top1_sampled"`` or ``"simans"``.
        sample_from: the number of top survivors drawn from (the paper's k; best 10).
        weighting: ``"softmax"`` over ``score / temperature`` (the paper's choice) or ``"uniform"``.
        temperature: softmax temperature; 1.0 is the plain softmax of footnote 12, lower values favour harder
            negatives more strongly.
        simans_a, simans_b: SimANS's ``a`` and ``b`` (``strategy="simans"`` only).
    """

    strategy: Sampling = "top"
    sample_from: int = 10
    weighting: Weighting = "softmax"
    temperature: float = 1.0
    simans_a: float = 0.5
    simans_b: float = 0.0

    def __post_init__(self) -> None:
        check_choice("sampling", self.strategy, SAMPLINGS)
        check_choice("weighting", self.weighting, WEIGHTINGS)
        check_float("temperature", self.temperature, minimum=0, strict_minimum=True)
        check_int("sample_from", self.sample_from, minimum=1)
        check_float("simans_a", self.simans_a, minimum=0)
        check_float("simans_b", self.simans_b)

    @property
    def random(self) -> bool:
        """Whether :meth:`pick` needs Gumbel noise."""
        return self.strategy != "top"

    def to_dict(self) -> dict[str, Any]:
        if self.strategy == "top":
            return {"strategy": "top"}
        if self.strategy == "simans":
            return {"strategy": "simans", "simans_a": self.simans_a, "simans_b": self.simans_b}
        return {k: v for k, v in asdict(self).items() if not k.startswith("simans")}

    def pick(
        self,
        keep: np.ndarray,
        scores: np.ndarray,
        num_negatives: int,
        noise: np.ndarray | None = None,
        positive_scores: np.ndarray | None = None,
        *,
        draw_order: bool = False,
    ) -> np.ndarray:
        """Choose negatives for each row.

        Args:
            keep: ``[rows, depth]`` survivors of the mining method, in rank order.
            scores: ``[rows, depth]`` teacher scores.
            num_negatives: how many to pick per row.
            noise: ``[rows, depth]`` standard Gumbel draws, one per candidate (needed unless ``strategy="top"``).
            positive_scores: ``[rows]`` the positive score of each row (needed by ``"simans"``).
            draw_order: return the picks in the order they were drawn (the first ``m`` of them are then a draw of
                ``m``; ensembles take a teacher's first few) instead of rank order.

        Returns:
            ``[rows, num_negatives]`` candidate positions (columns of ``keep``), hardest first (or in draw order),
            ``-1`` where the row has fewer survivors than ``num_negatives``.

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
        if noise is None or noise.shape != keep.shape:
            raise ValueError(f"sampling={self.strategy!r} needs Gumbel noise of shape {keep.shape}")

        forced = np.zeros_like(keep)
        if self.strategy == "simans":
            if positive_scores is None:
                raise ValueError("sampling='simans' needs the rows' positive scores")
            window = keep
            diff = scores.astype(np.float64) - np.asarray(positive_scores, dtype=np.float64)[:, None] + self.simans_b
            with np.errstate(invalid="ignore", over="ignore"):
                logits = np.clip(-self.simans_a * diff**2, -1e300, 0.0)
        else:
            window = keep & (rank < self.sample_from)
            if self.strategy == "top1_sampled":
                forced = keep & (rank == 0)
                window &= ~forced
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                logits = scores.astype(np.float64) / self.temperature if self.weighting == "softmax" else 0.0
                logits = np.clip(logits, -1e300, 1e300)  # a tiny temperature overflows: keep every survivor drawable
        keys = np.where(window, logits + noise, -np.inf)
        keys = np.where(forced, np.inf, keys)
        n = min(num_negatives, keep.shape[1])
        top = (
            np.argpartition(-keys, n - 1, axis=1)[:, :n]
            if n < keep.shape[1]
            else np.tile(np.arange(keep.shape[1]), (keep.shape[0], 1))
        )
        rows = np.arange(keep.shape[0])[:, None]
        valid = (window | forced)[rows, top]
        if draw_order:
            # Largest key first: the order of successive sampling without replacement.
            order = np.argsort(np.where(valid, -keys[rows, top], np.inf), axis=1, kind="stable")
            top, valid = np.take_along_axis(top, order, axis=1), np.take_along_axis(valid, order, axis=1)
            out = np.where(valid, top, -1)
            if out.shape[1] < num_negatives:
                pad = np.full((out.shape[0], num_negatives - out.shape[1]), -1, dtype=out.dtype)
                out = np.concatenate([out, pad], axis=1)
            return out
        chosen = np.zeros_like(keep)
        chosen[rows, top] = valid
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
