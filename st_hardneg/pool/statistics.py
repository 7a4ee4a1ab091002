"""Statistics of a pool and of a selection, as data (dataclasses with ``to_dict``), for reports and dataset cards."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps


@dataclass
class ScoreSummary:
    """Distribution of a set of teacher scores (``scipy.stats.describe`` plus percentiles and a histogram)."""

    count: int
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    p05: float | None = None
    p25: float | None = None
    median: float | None = None
    p75: float | None = None
    p95: float | None = None
    max: float | None = None
    skewness: float | None = None
    histogram: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def of(cls, values: np.ndarray, bins: int = 20) -> ScoreSummary:
        v = np.asarray(values, dtype=np.float64).ravel()
        v = v[np.isfinite(v)]
        if v.size == 0:
            return cls(count=0)
        with warnings.catch_warnings():  # identical values: skewness is undefined, reported as None
            warnings.simplefilter("ignore", RuntimeWarning)
            d = sps.describe(v)
        q = np.percentile(v, [5, 25, 50, 75, 95])
        counts, edges = np.histogram(v, bins=bins)
        return cls(
            count=int(d.nobs),
            mean=float(d.mean),
            std=float(np.sqrt(d.variance)) if v.size > 1 else 0.0,
            min=float(d.minmax[0]),
            p05=float(q[0]),
            p25=float(q[1]),
            median=float(q[2]),
            p75=float(q[3]),
            p95=float(q[4]),
            max=float(d.minmax[1]),
            skewness=float(d.skewness) if v.size > 2 and np.isfinite(d.skewness) else None,
            histogram={"counts": counts.astype(float).tolist(), "edges": edges.tolist()},
        )

    def __str__(self) -> str:
        """One line: mean, spread and range (the percentiles and histogram stay on the object)."""
        if self.count == 0:
            return "no scores"
        return (
            f"mean {self.mean:.4g} (std {self.std:.3g}; min {self.min:.4g}, median {self.median:.4g}, "
            f"max {self.max:.4g}; {self.count} scores)"
        )


@dataclass
class TeacherStatistics:
    """What one teacher produced when the pool was built."""

    teacher: str
    queries: int
    depth: int
    candidates: int
    padded_slots: int
    positives_among_retrieved: int
    positive_scores: ScoreSummary
    candidate_scores: ScoreSummary


@dataclass
class PoolStatistics:
    """Build-time statistics of a candidate pool."""

    rows: int
    queries: int
    corpus_size: int
    queries_with_several_positives: int
    added_positives: int
    duplicate_corpus_texts: int
    teachers: dict[str, TeacherStatistics] = field(default_factory=dict)
    #: training rows dropped because their anchor is an evaluation anchor (``exclude=``), before the rows above
    rows_excluded: int = 0
    #: existing negatives (the dataset's own) joined to their anchors' candidates (``existing_negatives="join"``)
    existing_negatives_joined: int = 0
    #: existing negatives recorded to put ahead of the mined ones (``existing_negatives="keep"``)
    existing_negatives_kept: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of_layout(cls, layout: Any) -> PoolStatistics:
        """The build statistics a :class:`~st_hardneg.pool.inputs.PairLayout` determines (teachers added later)."""
        return cls(
            rows=len(layout.row_query),
            queries=len(layout.queries),
            corpus_size=len(layout.corpus),
            queries_with_several_positives=int((np.diff(layout.positives_indptr) > 1).sum()),
            added_positives=layout.added_positives,
            duplicate_corpus_texts=layout.duplicate_corpus_texts,
        )


@dataclass
class SelectionStatistics:
    """What a selection kept, removed, filled and dropped.

    Attributes:
        rows_in: input rows.
        rows_out: rows of the output anchors/positives (before "triplet"/"labeled-pair" expansion).
        examples_out: rows of the output dataset.
        candidates_considered: candidate slots (not padding) over all rows, within the pool's depth (as the counts
            of the method below).
        removed_by_rank: candidates outside the rank window (``range_min`` / ``range_max``), removed first.
        removed_by_method: candidates the mining method removed (within the rank window).
        removed_duplicate_positive / removed_near_duplicate: candidate slots kept out as copies of one of the
            anchor's positives (same normalised text; the teacher's score within ``near_duplicates`` of the
            positive's), before the rules, like positives (:mod:`st_hardneg.select.duplicates`).
        negatives_existing: the dataset's own negatives put ahead of the mined ones (``existing_negatives="keep"``).
        removed_above_max_score: survivors of the method removed for scoring above ``max_score``.
        removed_below_min_score: survivors of the method removed for scoring below ``min_score``.
        survivors: candidates that survived the method.
        not_selected: survivors that the sampler did not pick.
        negatives_selected: negatives picked from the pool's candidates (within its depth); the output holds
            ``negatives_selected + negatives_deepened + negatives_filled`` negatives.
        negatives_filled: random corpus negatives added to short rows.
        rows_short: rows with fewer than ``num_negatives`` picked from the pool's candidates.
        rows_deepened: short rows whose anchor's candidates were looked at deeper (``on_short="deepen"``).
        negatives_deepened: negatives picked from beyond the pool's depth.
        anchors_searched: anchors the teacher searched again for this selection (0 when the pool's stored deeper
            candidates sufficed).
        deepened_depths: ``{depth: rows}``: how deep the deepened rows looked (a row stops at the first depth where
            it has ``num_negatives`` survivors, or at ``max_depth`` / the corpus size).
        rows_filled: short rows that got fill negatives (random documents; after deepening, the last resort).
        rows_dropped: rows left out of the output (``on_short="drop"``, or still short after filling n-tuples).
        rows_kept_short: rows written with fewer than ``num_negatives`` negatives.
        negatives_per_teacher: output negatives each teacher chose (an ensemble's negative chosen by two teachers
            counts for both; random fill documents for none).
        negatives_shared: output negatives chosen by more than one teacher of an ensemble.
        duplicate_negatives: negatives repeated within a row (``ensemble="intra_sample"`` keeps them).
        pairs_scored_on_demand: per teacher, (anchor, document) pairs its soft labels (``score_teachers``) needed
            that it had not scored in the pool, scored by the teacher in memory.
        positive_scores / negative_scores / margins: score distributions of the output (margin = positive score
            minus negative score, one per output negative), on the selecting teacher's scale; for an ensemble the
            first member's (its pairs only), for rrf/mean_score the fused score.
        warnings: what looked wrong with the settings for this pool (e.g. a threshold off the teacher's score
            scale), also logged.
        excluded_relabeled / excluded_filtered: candidate slots a relabeled pool's judgments removed before the
            method (relabeled positives; filtered passages), counted per row like ``candidates_considered``.
        relabeled_rows: rows added for relabeled positives (``relabeled_output="rows"``).
        relabeled_in_lists: relabeled positives added to labeled-lists (``relabeled_output="list"``).
        ids_missing: id values written null (``output_ids``): documents or positives the inputs gave no id.
        columns_kept: the input columns carried into the output (``keep_columns``).
    """

    rows_in: int = 0
    rows_out: int = 0
    examples_out: int = 0
    candidates_considered: int = 0
    removed_by_method: int = 0
    removed_below_min_score: int = 0
    removed_by_rank: int = 0
    removed_above_max_score: int = 0
    removed_duplicate_positive: int = 0
    negatives_existing: int = 0
    removed_near_duplicate: int = 0
    survivors: int = 0
    not_selected: int = 0
    negatives_selected: int = 0
    negatives_filled: int = 0
    rows_short: int = 0
    rows_deepened: int = 0
    negatives_deepened: int = 0
    anchors_searched: int = 0
    deepened_depths: dict[str, int] = field(default_factory=dict)
    rows_filled: int = 0
    rows_dropped: int = 0
    rows_kept_short: int = 0
    negatives_per_teacher: dict[str, int] = field(default_factory=dict)
    negatives_shared: int = 0
    duplicate_negatives: int = 0
    pairs_scored_on_demand: dict[str, int] = field(default_factory=dict)
    positive_scores: ScoreSummary | None = None
    negative_scores: ScoreSummary | None = None
    margins: ScoreSummary | None = None
    warnings: list[str] = field(default_factory=list)
    excluded_relabeled: int = 0
    excluded_filtered: int = 0
    relabeled_rows: int = 0
    relabeled_in_lists: int = 0
    ids_missing: int = 0
    columns_kept: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        """A short summary for ``print``; every count and distribution stays on the object (``repr``,
        :meth:`to_dict`)."""
        negatives = self.negatives_selected + self.negatives_deepened + self.negatives_filled
        per_row = f"{negatives / self.rows_out:.2f}" if self.rows_out else "0"
        lines = [
            f"{self.rows_in} rows in, {self.rows_out} rows out ({self.examples_out} examples)",
            f"rows: {self.rows_short} short of negatives, {self.rows_filled} filled, {self.rows_dropped} dropped, "
            f"{self.rows_deepened} deepened, {self.rows_kept_short} kept short",
            f"negatives: {per_row} per row ({self.negatives_selected} from the pool, {self.negatives_deepened} "
            f"found deeper, {self.negatives_filled} random fill); {self.removed_by_method} of "
            f"{self.candidates_considered} candidates removed by the method",
        ]
        if self.negative_scores is not None and self.negative_scores.count:
            scores = f"mean negative score {self.negative_scores.mean:.4g}"
            if self.positive_scores is not None and self.positive_scores.count:
                scores += f", mean positive score {self.positive_scores.mean:.4g}"
            if self.margins is not None and self.margins.count:
                scores += f", mean margin {self.margins.mean:.4g}"
            lines.append(f"scores: {scores}")
        lines.append(f"warnings: {len(self.warnings)}" if self.warnings else "warnings: none")
        body = [f"  {line}" for line in lines] + [f"    - {warning}" for warning in self.warnings]
        return "\n".join(["SelectionStatistics", *body])
