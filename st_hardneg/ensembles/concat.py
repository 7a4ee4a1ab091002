"""Concatenation: the union of the member teachers' negative lists, the ECI paper's "Concatenated (Hybrid)" sets
(Sinha et al., 2026, Table 1: BM25+Cross-Encoder, the best set by ECI and by NDCG@10).

Each teacher selects ``num_negatives`` negatives as it would alone (its method on its own scores, its sampler); a
row gets their union, in teacher order, each document once (it records every teacher that chose it), so up to
``T x num_negatives`` negatives. The paper concatenates whole datasets; with ``output_format="triplet"`` the union
is that concatenation without repeated rows. For the fixed-width ``n-tuple`` format a row is
``T x num_negatives`` wide, and rows whose union is smaller (the teachers agreed) are filled from the first
teacher's reserve under its bound (``on_short="fill"``) or dropped.
"""

from __future__ import annotations

import numpy as np

from st_hardneg.ensembles.base import EnsembleInput, add_counts, bit, compact_rows
from st_hardneg.formatting.formatters import Selected
from st_hardneg.pool.statistics import SelectionStatistics

__all__ = ["concat"]


def concat(inp: EnsembleInput) -> tuple[Selected, SelectionStatistics]:
    k = inp.settings.num_negatives
    total = SelectionStatistics(rows_in=len(inp.row_query))
    ids, bits = [], []
    for t in range(len(inp.teachers)):
        picks = inp.picks(t, k)
        add_counts(total, picks.statistics)
        ids.append(picks.negatives)
        bits.append(np.where(picks.negatives >= 0, bit(t), np.uint64(0)))
    union, union_bits = np.concatenate(ids, axis=1), np.concatenate(bits, axis=1)
    rows = np.arange(len(union))
    for j in range(1, union.shape[1]):
        earlier = (union[:, :j] == union[:, j : j + 1]) & (union[:, j : j + 1] >= 0)
        repeated = earlier.any(axis=1)
        if repeated.any():
            r = rows[repeated]
            union_bits[r, earlier[r].argmax(axis=1)] |= union_bits[r, j]
            union[r, j] = -1
    negatives, teacher_bits = compact_rows(union, union_bits, union.shape[1])
    return inp.finish(negatives, teacher_bits, total)
