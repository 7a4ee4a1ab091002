"""The hard-negative mining methods of NV-Retriever (Moreira et al., 2024, section 3.1).

Each method decides, for every (anchor, positive) row, which of the anchor's ranked candidates may be used as
negatives. Candidates arrive sorted by teacher score, highest first, with the anchor's positives already removed
(that removal is common to every method, "after ignoring the positive passages"). A method only removes; picking
``num_negatives`` of the survivors is the sampler's job (:mod:`st_hardneg.sampling`).

Every method is a small frozen dataclass holding its one parameter, with the paper's best configuration as the
default (section 3.4.3 / Table 3: shift 10, absolute 0.7, margin 0.05, percentage 95%), a ``name`` for the CLI and
dataset cards, and ``to_dict`` / :func:`get_method` to round-trip through JSON.

Score-based methods keep a candidate when ``score <= threshold`` ("maximum threshold for negative scores"); a
candidate scoring exactly at the threshold is kept.
"""

from __future__ import annotations

import math
from abc import ABC
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import numpy as np


class MiningMethod(ABC):
    """Base class of the mining methods: which ranked candidates of a row survive as negatives."""

    name: ClassVar[str]
    #: Whether the method reads the positive score (positive-aware methods of the paper).
    positive_aware: ClassVar[bool] = False
    #: Whether the method compares raw scores with a fixed number (meaningful only on the teacher's score scale).
    absolute: ClassVar[bool] = False

    @property
    def skips(self) -> int:
        """How many top-ranked candidates the method always removes (the shift of Top-K shifted by N)."""
        return 0

    def describe(self) -> str:
        """One sentence saying what the method keeps, with the paper's equation (read by dataset cards)."""
        return self.name

    @property
    def spec(self) -> str:
        """The command-line string of this method, e.g. ``"topk-percpos:0.95"``."""
        values = [getattr(self, f.name) for f in fields(self)]  # type: ignore[arg-type]
        return self.name + (f":{values[0]:g}" if values else "")

    def threshold(self, positive_scores: np.ndarray) -> np.ndarray | None:
        """The per-row maximum negative score, or None for a method that does not threshold scores.

        Args:
            positive_scores: float array ``[rows]``, the positive score of each row.
        """
        return None

    def keep(self, scores: np.ndarray, positive_scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Boolean mask ``[rows, depth]`` of the candidates this method keeps.

        Args:
            scores: ``[rows, depth]`` teacher scores of the ranked candidates, highest first.
            positive_scores: ``[rows]`` positive score of each row.
            valid: ``[rows, depth]`` False where the candidate slot is padding (corpus smaller than depth).
        """
        limit = self.threshold(positive_scores)
        if limit is None:
            return valid.copy()
        return valid & (scores <= limit[:, None])

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **asdict(self)}  # type: ignore[call-overload]

    def __str__(self) -> str:
        params = ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))  # type: ignore[arg-type]
        return f"{type(self).__name__}({params})"


@dataclass(frozen=True)
class NaiveTopK(MiningMethod):
    """Naive Top-K: every candidate that is not a positive (paper, section 3.1, first paragraph)."""

    name: ClassVar[str] = "naive-topk"

    def describe(self) -> str:
        return "Naive Top-K: the top-ranked candidates that are not positives"

    def keep(self, scores: np.ndarray, positive_scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
        return valid.copy()


@dataclass(frozen=True)
class TopKShifted(MiningMethod):
    """Top-K shifted by N: ignore the first ``n`` ranked negatives, keep the rest in rank order.

    "Top-10 shifted by 5 would ignore the first 5 negatives and consider negatives between rank 5 and 15"
    (section 3.1). Ranks count negatives only: positives were removed before ranking. Best N in the paper: 10.
    """

    name: ClassVar[str] = "topk-shifted"
    n: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.n, (int, np.integer)) or self.n < 0:
            raise ValueError(f"TopKShifted needs a whole number n >= 0, got {self.n!r}")

    @property
    def skips(self) -> int:
        return int(self.n)

    def describe(self) -> str:
        return f"Top-K shifted by N: the first {self.n} ranked negatives skipped"

    def keep(self, scores: np.ndarray, positive_scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
        keep = valid.copy()
        keep[:, : self.n] = False
        return keep


@dataclass(frozen=True)
class TopKAbs(MiningMethod):
    """TopK-Abs: ignore candidates scoring above an absolute threshold, ``score <= max_score`` survives.

    Section 3.1; the best threshold in the paper's ablation (Appendix B, Figure 3) is 0.7.
    """

    name: ClassVar[str] = "topk-abs"
    absolute: ClassVar[bool] = True
    max_score: float = 0.7

    def __post_init__(self) -> None:
        _check_finite("TopKAbs", "max_score", self.max_score)

    def describe(self) -> str:
        return f"TopK-Abs: negatives scoring at most {self.max_score:g}"

    def threshold(self, positive_scores: np.ndarray) -> np.ndarray:
        return np.full(positive_scores.shape, self.max_score, dtype=np.float64)


@dataclass(frozen=True)
class TopKMarginPos(MiningMethod):
    """TopK-MarginPos: maximum negative score = positive score minus an absolute margin (Eq. 1).

    ``max_neg_score_threshold = pos_score - margin``; best margin in the paper: 0.05 (Figure 4).
    Sign-safe as it stands: the threshold is below the positive for any positive score when ``margin >= 0``; a
    negative margin would keep negatives scoring above the positive, so it is refused.
    """

    name: ClassVar[str] = "topk-marginpos"
    positive_aware: ClassVar[bool] = True
    margin: float = 0.05

    def __post_init__(self) -> None:
        _check_finite("TopKMarginPos", "margin", self.margin)
        if self.margin < 0:
            raise ValueError(f"TopKMarginPos needs margin >= 0 (negatives below the positive), got {self.margin}")

    def describe(self) -> str:
        return f"TopK-MarginPos (NV-Retriever Eq. 1): negatives scoring at most the positive score - {self.margin:g}"

    def threshold(self, positive_scores: np.ndarray) -> np.ndarray:
        return positive_scores.astype(np.float64) - self.margin


@dataclass(frozen=True)
class TopKPercPos(MiningMethod):
    """TopK-PercPos: maximum negative score = a percentage of the positive score (Eq. 2).

    For a positive score ``p >= 0`` the threshold is Eq. 2 exactly, ``p * percentage``. For ``p < 0`` (dot-product
    or BM25-shifted teachers, or badly scored positives) ``p * percentage`` would lie *above* the positive and keep
    negatives that outscore it; st-hardneg instead uses the sign-safe form
    ``p - |p| * (1 - percentage)``, which equals Eq. 2 for ``p >= 0`` and stays the same fraction of ``|p|`` below
    the positive for ``p < 0`` (e.g. ``p = -0.4`` at 95% gives ``-0.42``). This is the relative margin of
    sentence-transformers' ``mine_hard_negatives`` (``pos - |pos| * m`` with ``m = 1 - percentage``).
    Best percentage in the paper: 95% (Table 3, Figure 5).
    """

    name: ClassVar[str] = "topk-percpos"
    positive_aware: ClassVar[bool] = True
    percentage: float = 0.95

    def __post_init__(self) -> None:
        _check_finite("TopKPercPos", "percentage", self.percentage)
        if 5 <= self.percentage <= 100:
            raise ValueError(
                f"TopKPercPos takes a fraction in (0, 1] (0.95 for 95%), got {self.percentage}; "
                f"did you mean {self.percentage / 100:g}?"
            )
        if not 0 < self.percentage <= 1:
            raise ValueError(f"TopKPercPos takes a fraction in (0, 1] (0.95 for 95%), got {self.percentage}")

    def describe(self) -> str:
        return (
            f"TopK-PercPos (NV-Retriever Eq. 2): negatives scoring at most {100 * self.percentage:g}% of the positive "
            f"score (sign-safe: pos - abs(pos) x {1 - self.percentage:g} when pos < 0)"
        )

    def threshold(self, positive_scores: np.ndarray) -> np.ndarray:
        p = positive_scores.astype(np.float64)
        return p - np.abs(p) * (1.0 - self.percentage)


@dataclass(frozen=True)
class Auto(MiningMethod):
    """st-hardneg's default: a method of the paper chosen from the pairs, not a method of its own.

    Naive Top-K (section 3.1, sentence-transformers' ``mine_hard_negatives`` default) when the anchors have fewer
    than ``min_positives`` distinct positives on average, else TopK-PercPos 95% (Eq. 2, the paper's best, Table 3).
    With several relevant documents per query a teacher's top candidates are likely relevant too (false negatives),
    which the positive-aware methods keep out; with one they cost hard negatives. Measured in benchmarks/REPORT.md
    section 8 (SciFact, 1.13 positives per anchor: Naive trained the better student; Cranfield, 7.2, and CISI, 42,
    where the rule was tested after it was written down: PercPos 95%). The threshold 2 is not fitted: any value
    between 1.13 and 7.2 chooses the same there.

    The choice is made against a pool (:func:`resolve_auto`); a selection records the method chosen.
    """

    name: ClassVar[str] = "auto"
    min_positives: float = 2.0

    def __post_init__(self) -> None:
        _check_finite("Auto", "min_positives", self.min_positives)
        if self.min_positives < 1:
            raise ValueError(f"Auto needs min_positives >= 1 (positives per anchor), got {self.min_positives}")

    def choose(self, positives_per_anchor: float) -> MiningMethod:
        """The method for pairs whose anchors have ``positives_per_anchor`` distinct positives on average."""
        return TopKPercPos(0.95) if positives_per_anchor >= self.min_positives else NaiveTopK()

    def describe(self) -> str:
        return (
            f"auto: Naive Top-K below {self.min_positives:g} positives per anchor on average, else TopK-PercPos 95% "
            "(NV-Retriever Eq. 2)"
        )

    def threshold(self, positive_scores: np.ndarray) -> np.ndarray | None:
        raise RuntimeError("method='auto' chooses its method from a pool's positives first (resolve_auto)")

    def keep(self, scores: np.ndarray, positive_scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
        raise RuntimeError("method='auto' chooses its method from a pool's positives first (resolve_auto)")


def positives_per_anchor(positives_indptr: np.ndarray) -> float:
    """Mean number of distinct positives per anchor, from a pool's positives CSR row pointer (0.0 for no anchors)."""
    counts = np.diff(np.asarray(positives_indptr))
    return float(counts.mean()) if len(counts) else 0.0


def resolve_auto(method: MiningMethod, positives_indptr: np.ndarray) -> tuple[MiningMethod, float | None]:
    """``(method to use, positives per anchor)``: :class:`Auto` chooses from the positives; any other method is
    returned as it is, with ``None``."""
    if not isinstance(method, Auto):
        return method, None
    per_anchor = positives_per_anchor(positives_indptr)
    return method.choose(per_anchor), per_anchor


METHODS: dict[str, type[MiningMethod]] = {
    cls.name: cls for cls in (NaiveTopK, TopKShifted, TopKAbs, TopKMarginPos, TopKPercPos, Auto)
}


def get_method(spec: str | dict[str, Any] | MiningMethod) -> MiningMethod:
    """Resolve a method from an object, a dict (``to_dict`` output) or a CLI string.

    Strings are ``"name"`` or ``"name:value"``, e.g. ``"topk-percpos:0.95"``, ``"topk-shifted:10"``, ``"naive-topk"``.

    Examples:
        >>> get_method("topk-percpos:0.9")
        TopKPercPos(percentage=0.9)
        >>> get_method({"name": "topk-abs", "max_score": 0.6})
        TopKAbs(max_score=0.6)
    """
    if isinstance(spec, MiningMethod):
        return spec
    if isinstance(spec, dict):
        params = dict(spec)
        name = params.pop("name", None)
        return _method_class(name)(**params)
    if not isinstance(spec, str):
        raise TypeError(f"method must be a MiningMethod, a dict or a string, got {type(spec).__name__}")
    name, _, value = spec.strip().partition(":")
    cls = _method_class(name.strip().lower())
    if not value:
        return cls()
    params = fields(cls)  # type: ignore[arg-type]
    if not params:
        raise ValueError(f"Mining method {cls.name!r} takes no value, got {spec!r}")
    (field,) = params
    try:
        number = int(value) if field.type in (int, "int") else float(value)
    except ValueError:
        kind = "a whole number" if field.type in (int, "int") else "a number"
        raise ValueError(f"Mining method {spec!r}: {field.name} must be {kind}, got {value.strip()!r}") from None
    return cls(**{field.name: number})


def _method_class(name: str | None) -> type[MiningMethod]:
    try:
        return METHODS[name]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"Unknown mining method {name!r}; choose one of {sorted(METHODS)}") from None


def _check_finite(cls: str, field: str, value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.floating, np.integer))
        or not math.isfinite(value)
    ):
        raise ValueError(f"{cls} needs a finite number for {field}, got {value!r}")
