"""Choosing a selection before training: select every combination of methods, negative counts and samplers from
one pool, score each negative set with ECI (:mod:`st_hardneg.eci`), and rank them.

Nothing is encoded by default: each set is scored with the teacher's own scores, which the pool holds for every
candidate and positive (the ``scores`` column ``output_scores=True`` writes). Pass ``score=model`` (a
SentenceTransformer or CrossEncoder, e.g. the student before training) to score the sets under that model instead;
every unique text is then encoded once for the whole sweep.

``score="train"`` scores each set by training instead (:mod:`st_hardneg.sweep_training`): a share of the anchors
is held out as a dev set over the pool's corpus, a fresh copy of a student is fine-tuned for the same small budget on
each configuration's set without them, and NDCG@10 / MRR@10 on the held-out anchors become columns of the table. Those
compare configurations with different numbers of negatives; ``S_n``, ECI and Max-Margin do not, so a sweep ranked by
them over several ``num_negatives`` is ranked within each count, and :meth:`Sweep.best` asks for the count.

ECI follows Sinha et al. (2026), Eq. 10: ``ln(1 + |N|) * H(S_n, max(0, MaxSim_p - MaxSim_n))`` over the queries of
each set (an anchor's rows are one query; its negatives are the union of its rows' negatives), as
:func:`~st_hardneg.eci.compute_eci` computes it on the formatted dataset.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from st_hardneg.eci.compute import eci_from_scores
from st_hardneg.eci.groups import QueryGroup
from st_hardneg.eci.settings import ECISettings
from st_hardneg.eci.similarity import score_groups
from st_hardneg.filters.methods import get_method
from st_hardneg.formatting.formatters import Selected
from st_hardneg.pool.candidates import CandidateExtension
from st_hardneg.pool.store import PoolStore
from st_hardneg.select.pick import pick
from st_hardneg.select.settings import SelectionSettings
from st_hardneg.select.sweep_by_training import score_sets_by_training
from st_hardneg.settings.base import split_kwargs
from st_hardneg.sweep_training.settings import TrainingSweepSettings

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_RANK_BY", "RANK_BY", "TRAINING_COLUMNS", "WITHIN_COUNT", "Sweep", "sweep_pool"]

#: Columns a sweep can be ranked by (highest first): ECI, or one of its parts; with ``score="train"``, the held-out
#: NDCG@10 or MRR@10 of the student trained on each set.
RANK_BY: tuple[str, ...] = ("signal", "eci", "max_margin", "negatives_per_query", "ndcg@10", "mrr@10")
#: Figures of the teacher's scores that compare only sets with the same number of negatives: ``S_n`` is a mean over
#: the negatives (lower with more, easier ones), ECI grows with ``ln(1 + |N|)``, and the Max-Margin follows ``S_n``.
#: A sweep ranked by one of them is ranked within each ``num_negatives``.
WITHIN_COUNT: tuple[str, ...] = ("signal", "eci", "max_margin")
#: The columns ``score="train"`` adds: rows left out of training because their anchor is held out, and the scores.
TRAINING_COLUMNS: tuple[str, ...] = ("rows_held_out", "ndcg@10", "mrr@10")
#: The default ranking: ``S_n``, the mean teacher score of the negatives. On SciFact (benchmarks/REPORT.md, section
#: 7: ten configurations of methods and thresholds, each trained once) ``S_n`` before training ranked the trained
#: models' NDCG@10 with Spearman rho +0.94 and picked a configuration within 0.002 of the best one; ECI ranked them
#: with rho -0.94 and picked the worst. Both compare configurations with the same number of negatives; across
#: counts ``S_n`` favours fewer negatives (a mean over more, easier ones) and ECI more (``ln(1 + |N|)``).
DEFAULT_RANK_BY = "signal"

#: The sweep table's columns, in order.
COLUMNS: tuple[str, ...] = (
    "configuration",
    "method",
    "num_negatives",
    "sampling",
    "on_short",
    "rows_kept",
    "rows_deepened",
    "rows_filled",
    "rows_dropped",
    "negatives_per_query",
    "signal",
    "max_margin",
    "eci",
)


@dataclass
class Sweep:
    """Scored selection configurations, best first.

    Attributes:
        rows: one dict per configuration (:data:`COLUMNS`): ``configuration`` (a short label), the varied
            settings, ``rows_kept`` / ``rows_deepened`` / ``rows_filled`` / ``rows_dropped`` (from the selection's
            statistics), and the ECI report of the set: ``negatives_per_query`` (``|N|``), ``signal`` (``S_n``),
            ``max_margin`` (the effective Max-Margin) and ``eci``.
            With ``score="train"``, also :data:`TRAINING_COLUMNS`: ``rows_held_out``, ``ndcg@10`` and ``mrr@10``
            (means over the training seeds; per seed in ``context["training"]``).
        settings: the :class:`~st_hardneg.settings.SelectionSettings` of each row, same order.
        rank_by: the column the rows are sorted by (descending; :data:`DEFAULT_RANK_BY` unless asked, ``ndcg@10``
            with ``score="train"``). By a :data:`WITHIN_COUNT` column over several ``num_negatives``, the rows are
            grouped by ``num_negatives`` (ascending) and ranked within each group.
        scored_with: ``"teacher"`` (the pool's stored scores) or the scoring model's name; with ``score="train"``,
            ``"train:<student>"``.
        seconds: wall time of the sweep (selections and scoring).
        deepened: ``{teacher: CandidateExtension}``, the deeper candidates ``on_short="deepen"`` found (not kept
            in the pool unless you ask: ``pool.keep_deepened(sweep)``).
    """

    rows: list[dict[str, Any]]
    settings: list[SelectionSettings]
    rank_by: str = DEFAULT_RANK_BY
    scored_with: str = "teacher"
    seconds: float = 0.0
    context: dict[str, Any] = field(default_factory=dict)
    deepened: dict[str, CandidateExtension] = field(default_factory=dict, repr=False)

    @property
    def columns(self) -> tuple[str, ...]:
        """The table's columns: :data:`COLUMNS`, then :data:`TRAINING_COLUMNS` when the sets were scored by
        training."""
        trained = bool(self.rows) and all(c in self.rows[0] for c in TRAINING_COLUMNS)
        return COLUMNS + TRAINING_COLUMNS if trained else COLUMNS

    @property
    def counts(self) -> list[int]:
        """The distinct ``num_negatives`` of the rows, ascending."""
        return sorted({int(row["num_negatives"]) for row in self.rows})

    @property
    def ranked_within_counts(self) -> bool:
        """Whether the rows are ranked within each ``num_negatives`` (a :data:`WITHIN_COUNT` ranking over several
        counts) rather than all together."""
        return self.rank_by in WITHIN_COUNT and len(self.counts) > 1

    def best(self, num_negatives: int | None = None) -> SelectionSettings:
        """The settings of the top-ranked configuration, ready for ``pool.select(sweep.best())``.

        Args:
            num_negatives: the best configuration with this many negatives. Needed when the sweep is ranked by a
                figure of the teacher's scores (``S_n``, ECI, Max-Margin: :data:`WITHIN_COUNT`) over several counts,
                which those figures cannot compare; a sweep with ``score="train"`` ranks across counts.
        """
        if not self.settings:
            raise ValueError("the sweep has no configurations")
        if num_negatives is not None:
            chosen = [i for i, row in enumerate(self.rows) if row["num_negatives"] == num_negatives]
            if not chosen:
                raise ValueError(f"no configuration has num_negatives={num_negatives!r}; the sweep has {self.counts}")
            return self.settings[chosen[0]]
        if self.ranked_within_counts:
            raise ValueError(
                f"rank_by={self.rank_by!r} compares only sets with the same number of negatives, and this sweep has "
                f"num_negatives {self.counts}: pass num_negatives= to best() (e.g. best(num_negatives="
                f"{self.counts[-1]})), or sweep with score='train', whose held-out NDCG@10 compares across counts"
            )
        return self.settings[0]

    def to_dataset(self) -> Any:
        """The table as a :class:`datasets.Dataset`."""
        from datasets import Dataset

        return Dataset.from_list(self.rows)

    def to_pandas(self) -> Any:
        """The table as a :class:`pandas.DataFrame`."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(self.columns))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank_by": self.rank_by,
            "scored_with": self.scored_with,
            "seconds": self.seconds,
            "context": self.context,
            "rows": [dict(row, settings=s.to_dict()) for row, s in zip(self.rows, self.settings, strict=True)],
        }

    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Write :meth:`to_dict` as JSON; an existing file is replaced only with ``overwrite=True``."""
        from st_hardneg.outputs import check_output_files

        path = Path(path)
        check_output_files(
            [path],
            overwrite=overwrite,
            written_by_us=lambda: is_saved_sweep(path),
            what="a sweep written by st-hardneg",
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | Path) -> Sweep:
        """Read a sweep written by :meth:`save`."""
        data = json.loads(Path(path).read_text())
        rows = [{k: v for k, v in r.items() if k != "settings"} for r in data["rows"]]
        settings = [SelectionSettings.from_dict(r["settings"]) for r in data["rows"]]
        return cls(rows, settings, data["rank_by"], data["scored_with"], data.get("seconds", 0.0), data["context"])

    def to_markdown(self) -> str:
        """The table as Markdown (what ``st-hardneg sweep`` prints); one table per ``num_negatives``, each under a
        heading, when the rows are ranked within each count (:attr:`ranked_within_counts`)."""
        columns = self.columns
        head = "| " + " | ".join(columns) + " |"
        text = ("configuration", "method", "sampling", "on_short")
        rule = "|" + "|".join("---" if c in text else "---:" for c in columns) + "|"

        def table(rows: list[dict[str, Any]]) -> list[str]:
            lines = [head, rule]
            for row in rows:
                cells = [_cell(row.get(c)) for c in columns]
                lines.append("| " + " | ".join(cells) + " |")
            return lines

        if not self.ranked_within_counts:
            return "\n".join(table(self.rows))
        parts = []
        for n in self.counts:
            rows = [row for row in self.rows if row["num_negatives"] == n]
            heading = f"num_negatives = {n} (ranked by {self.rank_by} within this count)"
            parts.append(heading + "\n\n" + "\n".join(table(rows)))
        return "\n\n".join(parts)

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        return self.to_markdown()


def sweep_pool(
    pool: PoolStore,
    methods: Sequence[Any] | None = None,
    num_negatives: Sequence[int] | None = None,
    sampling: Sequence[str] | None = None,
    *,
    settings: SelectionSettings | None = None,
    score: Any = None,
    rank_by: str | None = None,
    eci_settings: ECISettings | None = None,
    training: TrainingSweepSettings | None = None,
    chunk_size: int = 16384,
    show_progress: bool = True,
    **kwargs: Any,
) -> Sweep:
    """Select every combination of ``methods`` x ``num_negatives`` x ``sampling`` and score each with ECI (and,
    with ``score="train"``, by training a student on it: :mod:`st_hardneg.sweep_training`).

    See :meth:`st_hardneg.CandidatePool.sweep`.
    """
    selection_kwargs, training_kwargs = split_kwargs(kwargs, SelectionSettings, TrainingSweepSettings)
    by_training = isinstance(score, str) and score == "train"
    if isinstance(score, str) and score not in ("train", "teacher"):
        raise ValueError(f"score must be 'teacher', 'train' or a model to score with; got {score!r}")
    if isinstance(score, str) and score == "teacher":
        score = None
    if not by_training and (training is not None or training_kwargs):
        names = ", ".join(sorted(training_kwargs)) or "training"
        raise ValueError(f"{names}: options of score='train' (scoring each set by training a student)")
    rank_by = rank_by if rank_by is not None else "ndcg@10" if by_training else DEFAULT_RANK_BY
    if rank_by not in RANK_BY:
        raise ValueError(f"rank_by must be one of {', '.join(map(repr, RANK_BY))}; got {rank_by!r}")
    if rank_by in ("ndcg@10", "mrr@10") and not by_training:
        raise ValueError(f"rank_by={rank_by!r} needs score='train' (the held-out scores of a trained student)")
    base = SelectionSettings.from_kwargs(settings, **selection_kwargs)
    if by_training:
        training = TrainingSweepSettings.from_kwargs(training, **training_kwargs)
        if training.student is None:
            raise ValueError("score='train' needs student=: a SentenceTransformer or its name or path")
        if base.output_format not in ("n-tuple", "triplet"):
            raise ValueError(
                f"score='train' trains with MultipleNegativesRankingLoss, which takes n-tuple or triplet rows; "
                f"output_format={base.output_format!r}"
            )
    eci_settings = eci_settings if eci_settings is not None else ECISettings()
    if not isinstance(eci_settings, ECISettings):
        raise TypeError(f"eci_settings must be ECISettings, got {type(eci_settings).__name__}")
    method_grid = [get_method(m) for m in _as_list(methods, "methods")] if methods is not None else [base.method]
    count_grid = _as_list(num_negatives, "num_negatives") if num_negatives is not None else [base.num_negatives]
    sampling_grid = _as_list(sampling, "sampling") if sampling is not None else [base.sampling]
    grid = product(method_grid, count_grid, sampling_grid)
    configurations = [base.replace(method=m, num_negatives=n, sampling=s) for m, n, s in grid]
    depth = pool.depth
    for c in configurations:  # every configuration is checked before anything is selected
        c.check_depth(depth, len(pool.corpus))
    start = time.perf_counter()
    picked = []
    deepened: dict[str, CandidateExtension] = {}  # what earlier configurations found, reused by the later ones
    for c in configurations:
        selected, stats, resolved, tc, extension = pick(
            pool, c, chunk_size=chunk_size, show_progress=False, extensions=deepened
        )
        if extension is not None:
            deepened[tc.name] = extension
        picked.append((selected, stats, resolved, tc))
    if score is None or by_training:
        reports = [_report_from_teacher(pool, sel, tc, eci_settings) for sel, _, _, tc in picked]
        scored_with = "teacher"
    else:
        reports = _reports_from_model(pool, [sel for sel, *_ in picked], score, eci_settings, show_progress)
        scored_with = _model_name(score)
    rows = []
    for (_, stats, resolved, _), report in zip(picked, reports, strict=True):
        rows.append(
            {
                "configuration": _label(resolved),
                "method": resolved.method.spec,
                "num_negatives": resolved.num_negatives,
                "sampling": resolved.sampling,
                "on_short": resolved.on_short,
                "rows_kept": stats.rows_out,
                "rows_deepened": stats.rows_deepened,
                "rows_filled": stats.rows_filled,
                "rows_dropped": stats.rows_dropped,
                "negatives_per_query": None if report is None else report.num_negatives,
                "signal": None if report is None else report.signal,
                "max_margin": None if report is None else report.max_margin,
                "eci": None if report is None else report.eci,
            }
        )
    training_context = None
    if by_training:
        labelled = [(_label(resolved), selected, resolved) for selected, _, resolved, _ in picked]
        trained, scored_with, training_context = score_sets_by_training(
            pool, labelled, training, seed=base.seed, show_progress=show_progress
        )
        for row, scored in zip(rows, trained, strict=True):
            row.update({column: scored[column] for column in TRAINING_COLUMNS})
    within = rank_by in WITHIN_COUNT and len({row["num_negatives"] for row in rows}) > 1
    order = sorted(  # by a figure that compares only equal counts: ranked within each num_negatives
        range(len(rows)),
        key=lambda i: (rows[i]["num_negatives"] if within else 0, -_rank_key(rows[i][rank_by])),
    )
    seconds = time.perf_counter() - start
    logger.info("Swept %d configurations in %.2f s (scored with %s)", len(rows), seconds, scored_with)
    return Sweep(
        rows=[rows[i] for i in order],
        settings=[picked[i][2] for i in order],
        rank_by=rank_by,
        scored_with=scored_with,
        seconds=seconds,
        context={
            "pool": {
                "depth": depth,
                "rows": len(pool),
                "dataset_fingerprint": pool.config.get("dataset_fingerprint"),
                "corpus_fingerprint": pool.config.get("corpus_fingerprint"),
            },
            "eci_settings": eci_settings.to_dict(),
            **({"training": training_context} if training_context else {}),
        },
        deepened=deepened,
    )


def _as_list(values: Any, name: str) -> list[Any]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        values = [values]
    values = list(values)
    if not values:
        raise ValueError(f"{name} is empty; give at least one value, or leave it out to use the settings' value")
    return values


def _cell(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _rank_key(value: float | None) -> float:
    return -np.inf if value is None or not np.isfinite(value) else float(value)


def _label(s: SelectionSettings) -> str:
    sampling = s.sampling if s.sampling == "top" else f"{s.sampling}@{s.sample_from}"
    return f"{s.method.spec} x{s.num_negatives} {sampling} {s.on_short}"


def _model_name(model: Any) -> str:
    """The scoring model as provenance names it: its Hub id, else its folder's name (never a local path)."""
    from st_hardneg.teachers.provenance import model_reference

    ref = model_reference(model)
    return ref.hub_id or ref.name


def _query_arrays(
    pool: PoolStore, selected: Selected, positive_scores: np.ndarray | None
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Per query of a selection: its distinct positives and negatives (corpus ids, first seen) and their scores.

    Returns ``(queries, positives, positive_scores, negatives, negative_scores)``; the score lists are empty when
    ``positive_scores`` is None (scored by a model later).
    """
    q = np.asarray(selected.row_query, dtype=np.int64)
    queries, first = np.unique(q, return_index=True)
    queries = queries[np.argsort(first, kind="stable")]  # first-seen order, as group_queries reads a dataset
    slot = np.empty(int(q.max(initial=-1)) + 1, dtype=np.int64)
    slot[queries] = np.arange(len(queries))
    positives = _distinct(slot[q], selected.row_positive.astype(np.int64), positive_scores, len(queries))
    k = selected.negatives.shape[1]
    valid = selected.negatives >= 0
    negatives = _distinct(
        np.repeat(slot[q], k)[valid.ravel()],
        selected.negatives.ravel()[valid.ravel()].astype(np.int64),
        None if positive_scores is None else selected.negative_scores.ravel()[valid.ravel()],
        len(queries),
    )
    return queries, positives[0], positives[1], negatives[0], negatives[1]


def _distinct(
    group: np.ndarray, ids: np.ndarray, scores: np.ndarray | None, groups: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split ``ids`` (and ``scores``) by ``group``, keeping each id's first occurrence, in order."""
    order = np.lexsort((np.arange(len(ids)), ids, group))  # by group, id, position
    g, d = group[order], ids[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (g[1:] != g[:-1]) | (d[1:] != d[:-1])
    keep = np.sort(order[first])  # first occurrences, in input order
    keep = keep[np.argsort(group[keep], kind="stable")]
    bounds = np.searchsorted(group[keep], np.arange(1, groups))
    id_lists = np.split(ids[keep], bounds)
    score_lists = np.split(np.asarray(scores, dtype=np.float64)[keep], bounds) if scores is not None else []
    return id_lists, score_lists


def _report_from_teacher(pool: PoolStore, selected: Selected, tc: Any, eci_settings: ECISettings) -> Any:
    if len(selected.row_query) == 0:
        return None
    # ``selected.positive_scores`` is the teacher's score of each row's own positive (also with
    # positive_score="min", where the methods compared with the anchor's lowest one).
    _, _, pos_scores, _, neg_scores = _query_arrays(pool, selected, np.asarray(selected.positive_scores))
    return eci_from_scores(
        pos_scores,
        neg_scores,
        top_n=eci_settings.top_n,
        clamp=eci_settings.clamp,
        temperature=eci_settings.temperature,
    )


def _reports_from_model(
    pool: PoolStore, selections: list[Selected], model: Any, eci_settings: ECISettings, show_progress: bool
) -> list[Any]:
    texts_q, texts_c = pool.queries, pool.corpus
    per_config: list[list[QueryGroup]] = []
    for selected in selections:
        if len(selected.row_query) == 0:
            per_config.append([])
            continue
        queries, positives, _, negatives, _ = _query_arrays(pool, selected, None)
        anchors = texts_q.take(queries).to_pylist()
        groups = [
            QueryGroup(anchor, texts_c.take(p).to_pylist(), texts_c.take(n).to_pylist())
            for anchor, p, n in zip(anchors, positives, negatives, strict=True)
        ]
        per_config.append(groups)
    everything = [g for groups in per_config for g in groups]
    pos, neg = score_groups(everything, model, batch_size=eci_settings.batch_size, show_progress=show_progress)
    reports, start = [], 0
    for groups in per_config:
        if not groups:
            reports.append(None)
            continue
        stop = start + len(groups)
        reports.append(
            eci_from_scores(
                pos[start:stop],
                neg[start:stop],
                top_n=eci_settings.top_n,
                clamp=eci_settings.clamp,
                temperature=eci_settings.temperature,
            )
        )
        start = stop
    return reports


def is_saved_sweep(path: str | Path) -> bool:
    """Whether ``path`` holds a sweep written by :meth:`Sweep.save` (the only file ``overwrite=True`` replaces)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and {"rank_by", "scored_with", "context", "rows"} <= set(data)
