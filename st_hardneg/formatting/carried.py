"""Columns carried from the input rows into the mined set: ids (``output_ids``) and ``keep_columns``.

They come after the format's own columns. sentence-transformers feeds every column but ``label``/``score`` to the
loss, by position: remove them (``dataset.remove_columns([...])``) before training on the set.

Every output row comes from one selected row (``source``); it carries that row's kept columns and ids. The id
columns mirror the text columns:

- ``"n-tuple"``: ``anchor_id``, ``positive_id``, ``negative_1_id`` ... ``negative_n_id``;
- ``"triplet"``: ``anchor_id``, ``positive_id``, ``negative_id``;
- ``"labeled-pair"``: ``anchor_id``, ``positive_id`` (on label-1 rows; null on negative rows) and ``negative_id``
  (on label-0 rows; null on positive rows); a negative row carries the kept columns of the first row of its anchor
  that chose it;
- ``"labeled-list"``: ``anchor_id``, ``positive_ids`` (the ids of the label-1 texts: the row's positive, then any
  relabeled extra positives) and ``negative_ids`` (those of the label-0 texts), so ``positive_ids + negative_ids``
  lines up with the text list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Carried", "ids_of", "lists"]


@dataclass
class Carried:
    """What the selected rows carry, one entry per selected row.

    Attributes:
        kept: the ``keep_columns`` (null for rows no input row made: relabeled positives' extra rows).
        anchor_ids / positive_ids: string ids, or None when not written.
        corpus_ids: ``[corpus]`` string id of every document (null where unknown), or None when not written.
    """

    kept: pa.Table | None = None
    anchor_ids: pa.Array | None = None
    positive_ids: pa.Array | None = None
    corpus_ids: pa.Array | None = None

    @property
    def writes_ids(self) -> bool:
        return self.corpus_ids is not None

    def row_columns(self, source: np.ndarray, ids: dict[str, pa.Array]) -> dict[str, pa.Array]:
        """The columns carried by output rows made from selected rows ``source``: ``anchor_id`` and the format's
        other ``ids`` when ids are written, then the kept columns."""
        at = pa.array(np.asarray(source, dtype=np.int64))
        out: dict[str, pa.Array] = {}
        if self.writes_ids:
            out["anchor_id"] = pc.take(self.anchor_ids, at)
            out.update(ids)
        if self.kept is not None:
            for name in self.kept.column_names:
                out[name] = pc.take(self.kept.column(name), at)
        return out


def ids_of(corpus_ids: pa.Array, docs: np.ndarray) -> pa.Array:
    """Ids of corpus documents ``docs``."""
    return pc.take(corpus_ids, pa.array(np.asarray(docs, dtype=np.int64)))


def lists(ids: pa.Array, counts: np.ndarray) -> pa.Array:
    """``ids`` cut into lists of ``counts`` entries."""
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), ids)
