"""Cross-sample ensembling (NV-Retriever section 3.4.2): "samples a teacher model to obtain all the negatives for an
example".

For each anchor one member teacher is drawn uniformly, keyed by the seed and the anchor's text (so every row of the
anchor, every batch size and every entry point draw the same teacher); the anchor's rows then get exactly what a
selection from that teacher alone gives them: its method on its scores, its sampler, and its fill reserve under its
bound for short rows. The paper found it no better than the best single teacher (Table 2).
"""

from __future__ import annotations

import numpy as np

from st_hardneg.ensembles.base import EnsembleInput, add_counts, with_reference_scores
from st_hardneg.formatting.formatters import Selected
from st_hardneg.keyed_random import combine, salt, uniform
from st_hardneg.pool.statistics import SelectionStatistics
from st_hardneg.select.negatives import select_negatives

__all__ = ["cross_sample", "drawn_teachers"]

_SALT = salt("st-hardneg cross-sample teacher")


def drawn_teachers(query_keys: np.ndarray, seed: int, num_teachers: int) -> np.ndarray:
    """The member drawn for each anchor: ``floor(u * T)`` with ``u`` uniform in (0, 1), keyed by seed and anchor.

    Examples:
        >>> from st_hardneg.keyed_random import text_keys
        >>> keys = text_keys(["q1", "q2", "q1"])
        >>> t = drawn_teachers(keys, 42, 3)
        >>> bool(t[0] == t[2]), bool(((t >= 0) & (t < 3)).all())
        (True, True)
    """
    u = uniform(combine(query_keys, np.uint64(seed), _SALT))
    return np.minimum((u * num_teachers).astype(np.int64), num_teachers - 1)


def cross_sample(inp: EnsembleInput) -> tuple[Selected, SelectionStatistics]:
    settings = inp.settings
    drawn = drawn_teachers(inp.query_keys, settings.seed, len(inp.teachers))[inp.row_query]
    total = SelectionStatistics(rows_in=len(inp.row_query))
    parts: list[Selected] = []
    for t, tc in enumerate(inp.teachers):
        rows = np.flatnonzero(drawn == t)
        if len(rows) == 0:
            continue
        part, st = select_negatives(
            tc,
            inp.row_query[rows],
            inp.row_positive[rows],
            inp.positive_scores(t)[rows],
            rule=inp.rule,
            row_keys=inp.row_keys[rows],
            judged=inp.judged,
            duplicates=inp.duplicates,
            own_positive_scores=inp.own_positive_scores(t)[rows],
            chunk_size=inp.chunk_size,
            show_progress=inp.show_progress,
        )
        part.rows = rows[part.rows]
        part.teacher_bits = np.where(part.teacher_bits > 0, np.uint64(1) << np.uint64(t), np.uint64(0))
        parts.append(part)
        add_counts(total, st)
    order = np.argsort(np.concatenate([p.rows for p in parts]), kind="stable") if parts else np.zeros(0, np.int64)

    def merged(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])[order]

    k = settings.num_negatives
    empty = Selected(
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros((0, k), np.int64),
        np.zeros(0, np.float32),
        np.zeros((0, k), np.float32),
        np.zeros(0, np.int64),
        np.zeros((0, k), np.uint64),
    )
    selected = (
        empty
        if not parts
        else Selected(
            *(
                merged(n)
                for n in (
                    "row_query",
                    "row_positive",
                    "negatives",
                    "positive_scores",
                    "negative_scores",
                    "rows",
                    "teacher_bits",
                )
            )
        )
    )
    # The statistics' scores on one scale: the first teacher's.
    selected.positive_scores = inp.own_positive_scores(0)[selected.rows]
    return with_reference_scores(selected, total, inp.teachers[0])
