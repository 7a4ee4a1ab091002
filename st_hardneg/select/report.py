"""What a selection says about itself: warnings when the settings do not fit the teacher's scores, negatives
counted per teacher, and the per-negative teacher labels of ``output_teachers``."""

from __future__ import annotations

from typing import Any

import numpy as np

from st_hardneg.pool.statistics import SelectionStatistics, TeacherStatistics
from st_hardneg.select.settings import SelectionSettings


def fit_warnings(
    settings: SelectionSettings, stats: SelectionStatistics, teacher: TeacherStatistics | None
) -> list[str]:
    """Say when the settings do not fit the teacher's scores: an absolute threshold off its score scale, or a method
    (or ``min_score``) that removes nearly every candidate."""
    warnings = []
    method = settings.method
    scores = teacher.candidate_scores if teacher is not None else None
    considered, removed = stats.candidates_considered, stats.removed_by_method
    if (
        method.absolute
        and scores is not None
        and scores.count
        and (scores.max > 1.0 + 1e-6 or scores.min < -1.0 - 1e-6)
    ):
        warnings.append(
            f"{method} compares raw scores with {method.max_score:g}, a cosine-scale threshold, but teacher "
            f"{settings.teacher!r} scores its candidates from {scores.min:.3g} to {scores.max:.3g} (median "
            f"{scores.median:.3g}): the threshold does not fit this teacher's score scale ({removed} of {considered} "
            f"candidates removed, {stats.rows_filled} rows filled with random documents)"
        )
    elif considered and removed >= 0.9 * considered:
        warnings.append(
            f"{method} removed {removed} of {considered} candidates ({removed / considered:.0%}); "
            f"{stats.rows_short} rows were short of {settings.num_negatives} negatives, "
            + (f"{stats.rows_deepened} searched deeper, " if settings.on_short == "deepen" else "")
            + f"{stats.rows_filled} filled with random documents and {stats.rows_dropped} dropped: check the threshold "
            "against the teacher's scores"
        )
    band = stats.survivors + stats.removed_below_min_score + stats.removed_above_max_score
    if settings.max_score is not None and band and stats.removed_above_max_score >= 0.9 * band:
        warnings.append(
            f"max_score={settings.max_score:g} removed {stats.removed_above_max_score} of the {band} candidates the "
            "method kept"
        )
    survivors = stats.survivors + stats.removed_below_min_score
    if settings.min_score is not None and survivors and stats.removed_below_min_score >= 0.9 * survivors:
        warnings.append(
            f"min_score={settings.min_score:g} removed {stats.removed_below_min_score} of the {survivors} candidates "
            "the method kept"
        )
    return warnings


def count_teachers(stats: SelectionStatistics, selected: Any, names: list[str]) -> None:
    """Negatives per teacher, shared by several, and repeated within a row, from the selection's teacher bits."""
    bits = selected.teacher_bits
    valid = selected.negatives >= 0
    for t, name in enumerate(names):
        stats.negatives_per_teacher[name] = int(((bits >> np.uint64(t)) & np.uint64(1)).astype(bool).sum())
    several = np.zeros(bits.shape, dtype=np.int64)
    for t in range(len(names)):
        several += ((bits >> np.uint64(t)) & np.uint64(1)).astype(np.int64)
    stats.negatives_shared = int((several > 1).sum())
    ordered = np.sort(np.where(valid, selected.negatives, -1), axis=1)
    stats.duplicate_negatives = int(((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).sum())


def teacher_labels(selected: Any, names: list[str]) -> np.ndarray:
    """``[n, k]`` strings: the teachers that chose each negative, joined by "+"; "fill" for a random fill document;
    None at padding."""
    bits = selected.teacher_bits
    labels = np.full(bits.shape, None, dtype=object)
    for value in np.unique(bits[selected.negatives >= 0]):
        chosen = [name for t, name in enumerate(names) if (int(value) >> t) & 1]
        labels[(bits == value) & (selected.negatives >= 0)] = "+".join(chosen) if chosen else "fill"
    return labels
