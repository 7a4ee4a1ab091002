"""Teacher agreement: the Jaccard similarity of the hard negatives two teachers mine for the same example
(NV-Retriever Appendix A, Tables 6-8: "the Jaccard Similarity between the top-4 hard-negatives for pairs of teacher
models"; below 30% on NQ, SQuAD and StackExchange, the motivation for ensembling in section 3.4.2).

For every row (anchor, positive) and every pair of teachers ``(a, b)``, with ``A`` and ``B`` the top-``k``
negatives each selects alone, ``J = |A & B| / |A | B|``; rows where neither teacher has a negative are undefined
(NaN) and left out of the mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from st_hardneg.pool.candidates import TeacherCandidates
from st_hardneg.select.negatives import pick_negatives, row_positive_scores
from st_hardneg.select.rules import NegativeRule
from st_hardneg.select.settings import SelectionSettings

__all__ = ["TeacherAgreement", "jaccard", "teacher_agreement"]


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Jaccard similarity of two ``[rows, k]`` id sets (``-1`` = no id; ids distinct within a row).

    Examples:
        >>> jaccard(np.array([[1, 2, 3, 4], [5, -1, -1, -1], [-1, -1, -1, -1]]),
        ...         np.array([[3, 4, 5, 6], [5, -1, -1, -1], [-1, -1, -1, -1]])).tolist()
        [0.3333333333333333, 1.0, nan]
    """
    va, vb = a >= 0, b >= 0
    inter = ((a[:, :, None] == b[:, None, :]) & va[:, :, None] & vb[:, None, :]).sum(axis=(1, 2))
    union = va.sum(axis=1) + vb.sum(axis=1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), np.nan)


@dataclass
class TeacherAgreement:
    """The agreement of a pool's teachers, as data.

    Attributes:
        teachers: the teachers compared, in order.
        k: negatives per teacher and row.
        method: the mining method the negatives were selected with (its command-line string).
        per_row: ``{(a, b): float array [rows]}`` Jaccard similarity per row (NaN where undefined), for each pair
            of teachers in order.
    """

    teachers: list[str]
    k: int
    method: str
    per_row: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def mean(self, a: str, b: str) -> float:
        """Mean Jaccard similarity of teachers ``a`` and ``b`` over the rows where it is defined."""
        if a == b:
            return 1.0
        values = self.per_row[(a, b)] if (a, b) in self.per_row else self.per_row[(b, a)]
        defined = values[~np.isnan(values)]
        return float(defined.mean()) if defined.size else float("nan")

    def matrix(self) -> np.ndarray:
        """``[T, T]`` mean similarities (1 on the diagonal), in the order of :attr:`teachers` (Tables 6-8)."""
        return np.array([[self.mean(a, b) for b in self.teachers] for a in self.teachers])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: the means and the rows counted per pair (not the per-row arrays)."""
        pairs = {}
        for (a, b), values in self.per_row.items():
            pairs[f"{a} | {b}"] = {
                "mean": self.mean(a, b),
                "rows": int((~np.isnan(values)).sum()),
                "undefined_rows": int(np.isnan(values).sum()),
                "identical_rows": int((values == 1).sum()),
                "disjoint_rows": int((values == 0).sum()),
            }
        return {"teachers": self.teachers, "k": self.k, "method": self.method, "pairs": pairs}

    def to_markdown(self, digits: int = 3) -> str:
        """The mean similarities as a Markdown table, teachers by teachers, as the paper's Tables 6-8."""
        head = f"| Jaccard, top-{self.k} ({self.method}) | " + " | ".join(self.teachers) + " |"
        lines = [head, "|---|" + "---:|" * len(self.teachers)]
        for a in self.teachers:
            cells = ["-" if a == b else f"{self.mean(a, b):.{digits}f}" for b in self.teachers]
            lines.append(f"| {a} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()


def teacher_agreement(
    teachers: list[TeacherCandidates],
    row_query: np.ndarray,
    *,
    row_keys: np.ndarray,
    settings: SelectionSettings,
    chunk_size: int = 16384,
) -> TeacherAgreement:
    """The Jaccard similarity of each pair of ``teachers``' top-``settings.num_negatives`` negatives, per row."""
    picks = {}
    rule = NegativeRule.of(settings)
    for tc in teachers:
        pos = row_positive_scores(tc, row_query, settings.positive_score)
        picks[tc.name] = pick_negatives(
            tc, row_query, pos, rule=rule, row_keys=row_keys, chunk_size=chunk_size, show_progress=False
        ).negatives
    result = TeacherAgreement([tc.name for tc in teachers], settings.num_negatives, settings.method.spec)
    for a, b in combinations(result.teachers, 2):
        result.per_row[(a, b)] = jaccard(picks[a], picks[b])
    return result
