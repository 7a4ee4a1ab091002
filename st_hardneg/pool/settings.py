"""How a candidate pool is built: :class:`PoolSettings`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from st_hardneg.data.leakage import evaluation_anchors, read_exclude_file
from st_hardneg.settings.base import DEFAULT_SEED, Settings, check_choice, check_columns, check_int, option

__all__ = ["EXISTING_NEGATIVES", "PoolSettings"]

#: What to do with the negatives a dataset already has (``negative``, ``negative_<n>`` or ``negatives`` columns).
EXISTING_NEGATIVES: tuple[str, ...] = ("ignore", "join", "keep")

#: The one default seed of st-hardneg (as ``transformers.TrainingArguments``): every draw is reproducible by default.


@dataclass(frozen=True)
class PoolSettings(Settings):
    """How :meth:`~st_hardneg.pool.CandidatePool.build` builds a pool.

    Examples:
        >>> PoolSettings(depth=50).to_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'depth': 50, 'num_random': 16, 'seed': 42, 'anchor_column': None, 'positive_column': None, 'keep_columns': [],
         'exclude': None, 'existing_negatives': 'ignore'}
        >>> PoolSettings(keep_columns=["lang"]).keep_columns
        ('lang',)
        >>> PoolSettings(depth=0)
        Traceback (most recent call last):
        ...
        ValueError: depth must be a whole number >= 1, got 0
    """

    depth: int = option(
        100,
        "candidates kept per anchor after removing its positives; a selection looks at most this deep",
    )
    num_random: int = option(16, "random corpus documents kept and scored per anchor, to fill rows short of negatives")
    seed: int = option(
        DEFAULT_SEED, "seeds every random draw (fill documents here, sampling in the selection), keyed by anchor"
    )
    anchor_column: str | None = option(
        None, "column of anchors; default 'anchor' if present, else the first text column", metavar="COLUMN"
    )
    positive_column: str | None = option(
        None, "column of positives; default 'positive' if present, else the next text column", metavar="COLUMN"
    )
    keep_columns: tuple[str, ...] = option(
        None,  # () once checked; None here because the command line appends to its default
        "input columns (a language, a source, a query id) carried into every row made from their input row; "
        "default none (sentence-transformers trains on every column but label/score)",
        metavar="COLUMN",
        multiple=True,
    )

    exclude: tuple[str, ...] | None = option(
        None,
        "an evaluation set (a Dataset or a list of anchor texts; on the command line a file: .txt one anchor per "
        "line, or a dataset file): training rows whose anchor equals one of its anchors (case, punctuation and "
        "whitespace aside) are dropped before anything is encoded, and counted",
        parse=read_exclude_file,
        metavar="FILE",
    )
    existing_negatives: str = option(
        "ignore",
        "negatives the dataset already has (a negative, negative_<n> or list negatives column): ignore them (said in "
        "one line), join them to their anchor's candidates, scored by the teacher and filtered like any other, or "
        "keep them, unfiltered, ahead of the mined negatives of their row (texts missing from the corpus are added "
        "to it for the build)",
        choices=EXISTING_NEGATIVES,
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "keep_columns", _keep_columns(self.keep_columns))
        check_int("depth", self.depth, minimum=1)
        check_int("num_random", self.num_random, minimum=0)
        check_int("seed", self.seed, minimum=0)
        check_columns(self.anchor_column, self.positive_column)
        object.__setattr__(self, "exclude", evaluation_anchors(self.exclude))
        check_choice("existing_negatives", self.existing_negatives, EXISTING_NEGATIVES)


#: Column names a selection writes itself (besides the anchor and positive columns): a kept column may not take one.
_WRITTEN = re.compile(
    r"^(negative|negative_\d+|negative_\d+_id|negative_id|negative_ids|anchor_id|positive_id|positive_ids|scores?"
    r"|scores?_.+|labels?|teachers?)$"
)


def _keep_columns(value: object) -> tuple[str, ...]:
    """``keep_columns`` as a tuple of distinct column names, none of them one a selection writes itself."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise TypeError(f"keep_columns must be a list of column names, got {value!r}")
    if len(set(value)) != len(value):
        raise ValueError(f"keep_columns names a column twice: {list(value)}")
    clash = [v for v in value if _WRITTEN.match(v)]
    if clash:
        raise ValueError(
            f"keep_columns: {clash[0]!r} is a column the mined set writes itself (negatives, ids, scores, labels, "
            "teachers); rename it in the dataset first"
        )
    return tuple(value)
