"""Intra-sample ensembling (NV-Retriever section 3.4.2): "for each example selects the top-1 mined negative from each
teacher model", with duplicates kept (the paper's best, Table 2) or replaced.

Generalised to any number of negatives: the member teachers take turns, in the order given, each giving its next
negative (its own selection: the method on its own scores, then its sampler, in draw order) until the row has
``num_negatives``; a teacher that runs out of survivors is skipped. With ``dedup`` a teacher whose next negative is
already in the row gives its next unique one instead (the paper replaces duplicates "by the next unique hard-negative
from teacher models sorted by their accuracy": give the teachers best first), and the negative records every
teacher that chose it. Rows still short are filled from the first teacher's reserve under its bound.
"""

from __future__ import annotations

import numpy as np

from st_hardneg.ensembles.base import EnsembleInput, add_counts, bit, compact_rows
from st_hardneg.formatting.formatters import Selected
from st_hardneg.pool.statistics import SelectionStatistics

__all__ = ["intra_sample", "intra_sample_dedup"]


def intra_sample(inp: EnsembleInput) -> tuple[Selected, SelectionStatistics]:
    """In turns, duplicates kept: the ``r``-th round gives each teacher's ``r``-th negative."""
    k = inp.settings.num_negatives
    total = SelectionStatistics(rows_in=len(inp.row_query))
    ids, bits = [], []
    for t in range(len(inp.teachers)):
        picks = inp.picks(t, k, draw_order=True)
        add_counts(total, picks.statistics)
        ids.append(picks.negatives)
        bits.append(np.where(picks.negatives >= 0, bit(t), np.uint64(0)))
    # [rows, k, T] -> [rows, k * T]: round 0 of every teacher, then round 1, ...
    turns = np.stack(ids, axis=2).reshape(len(inp.row_query), -1)
    turn_bits = np.stack(bits, axis=2).reshape(len(inp.row_query), -1)
    negatives, teacher_bits = compact_rows(turns, turn_bits, k)
    return inp.finish(negatives, teacher_bits, total)


def intra_sample_dedup(inp: EnsembleInput) -> tuple[Selected, SelectionStatistics]:
    """In turns, a duplicate replaced by that teacher's next unique negative."""
    k = inp.settings.num_negatives
    n, num_teachers = len(inp.row_query), len(inp.teachers)
    total = SelectionStatistics(rows_in=n)
    # A teacher gives at most k negatives and skips at most k duplicates (one per negative already in the row).
    lists = []
    for t in range(num_teachers):
        picks = inp.picks(t, 2 * k, draw_order=True)
        add_counts(total, picks.statistics)
        lists.append(picks.negatives)
    width = lists[0].shape[1]
    out = np.full((n, k), -1, dtype=np.int64)
    out_bits = np.zeros((n, k), dtype=np.uint64)
    count = np.zeros(n, dtype=np.int64)
    pointer = np.zeros((n, num_teachers), dtype=np.int64)
    rows = np.arange(n)
    while True:
        progress = False
        for t in range(num_teachers):
            while True:  # skip this teacher's negatives already in the row, crediting it on the one kept
                at = np.minimum(pointer[:, t], width - 1)
                current = np.where((pointer[:, t] < width) & (count < k), lists[t][rows, at], -1)
                same = (out == current[:, None]) & (current >= 0)[:, None]
                duplicate = same.any(axis=1)
                if not duplicate.any():
                    break
                r = np.flatnonzero(duplicate)
                out_bits[r, same[r].argmax(axis=1)] |= bit(t)
                pointer[r, t] += 1
            take = current >= 0
            if take.any():
                r = np.flatnonzero(take)
                out[r, count[r]] = current[r]
                out_bits[r, count[r]] = bit(t)
                count[r] += 1
                pointer[r, t] += 1
                progress = True
        if not progress:
            break
    return inp.finish(out, out_bits, total)
