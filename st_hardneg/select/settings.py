"""How negatives are selected from a candidate pool: :class:`SelectionSettings`."""

from __future__ import annotations

from dataclasses import dataclass

from st_hardneg.filters.methods import Auto, MiningMethod, TopKAbs, get_method
from st_hardneg.sampling.samplers import SAMPLINGS, WEIGHTINGS, Sampler
from st_hardneg.settings.base import DEFAULT_SEED, Settings, check_choice, check_float, check_int, option

__all__ = [
    "ENSEMBLES",
    "ON_SHORT",
    "OUTPUT_FORMATS",
    "POSITIVE_SCORES",
    "RELABEL_MODES",
    "RELABELED_OUTPUTS",
    "SelectionSettings",
]

#: Output formats, named as sentence-transformers names them.
OUTPUT_FORMATS: tuple[str, ...] = ("n-tuple", "triplet", "labeled-pair", "labeled-list")
#: What to do with rows left with fewer than ``num_negatives`` negatives.
ON_SHORT: tuple[str, ...] = ("fill", "deepen", "keep", "drop")
#: Which positive score the positive-aware methods compare against.
POSITIVE_SCORES: tuple[str, ...] = ("row", "min")
#: How several teachers' negatives are combined (:mod:`st_hardneg.ensembles`): NV-Retriever section 3.4.2's
#: cross-sample and intra-sample ensembling (with and without dedup), the ECI paper's concatenated (hybrid) sets,
#: and two fusions of the teachers' rankings (an extension beyond both papers).
ENSEMBLES: tuple[str, ...] = ("cross_sample", "intra_sample", "intra_sample_dedup", "concat", "rrf", "mean_score")
#: Which judgments of a relabeled pool apply (ARHN's three modes, or none); None: the mode the pool was judged with.
RELABEL_MODES: tuple[str, ...] = ("relabel", "filter", "both", "off")
#: Where relabeled positives go: only out of the negatives, also into extra rows, or into labeled-lists (label 1).
RELABELED_OUTPUTS: tuple[str, ...] = ("exclude", "rows", "list")


@dataclass(frozen=True)
class SelectionSettings(Settings):
    """How :meth:`~st_hardneg.pool.CandidatePool.select` picks negatives.

    The defaults are sentence-transformers' ``mine_hard_negatives`` defaults (3 negatives, triplets, top sampling)
    with ``method="auto"``: Naive Top-K, sentence-transformers' method, when the anchors have fewer than 2 distinct
    positives on average, else TopK-PercPos 95% (:class:`~st_hardneg.filters.methods.Auto`). On SciFact (1.1
    positives per anchor) Naive Top-K trained the better student; on Cranfield (7.2) and CISI (42) TopK-PercPos 95%
    did (benchmarks/REPORT.md section 8). Any method can be named (``method="naive-topk"``, ``"topk-percpos:0.95"``).

    ``method`` accepts a mining method object, its command-line string (``"topk-percpos:0.95"``) or its dict.
    ``on_short=None`` resolves to ``"fill"`` for n-tuple output and ``"keep"`` otherwise. ``teacher`` takes one
    name, or several with ``ensemble`` (:mod:`st_hardneg.ensembles`); a list of one name is that name.

    Examples:
        >>> d = SelectionSettings()
        >>> d.method, d.num_negatives, d.output_format, d.sampling, d.on_short
        (Auto(min_positives=2.0), 3, 'triplet', 'top', 'keep')
        >>> s = SelectionSettings(method="topk-marginpos:0.1", num_negatives=2, output_format="triplet")
        >>> s.method, s.on_short
        (TopKMarginPos(margin=0.1), 'keep')
        >>> SelectionSettings(teacher=["e5", "bm25"], ensemble="intra_sample").teacher
        ('e5', 'bm25')
        >>> SelectionSettings(output_format="n-tuple", on_short="keep")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: on_short='keep' contradicts output_format='n-tuple' (...); use on_short='fill' or 'drop'
    """

    method: MiningMethod = option(
        Auto(),
        "mining method (NV-Retriever section 3.1): naive-topk, topk-shifted:N, topk-abs:MAX, topk-marginpos:MARGIN, "
        "topk-percpos:PERCENTAGE; or auto[:MIN_POSITIVES]: naive-topk when the anchors have fewer than "
        "MIN_POSITIVES (2) distinct positives on average, else topk-percpos:0.95",
        parse=get_method,
        metavar="NAME[:VALUE]",
    )
    num_negatives: int = option(3, "negatives per row")
    sampling: str = option(
        "top",
        "how negatives are picked from the survivors: top, sampled (top-k), top1_sampled, or simans (SimANS: "
        "weights exp(-a (score - positive score + b)^2) over every survivor)",
        choices=SAMPLINGS,
    )
    sample_from: int = option(10, "the sampled strategies draw from the top this-many survivors")
    weighting: str = option(
        "softmax", "sampling weights: softmax over score / temperature, or uniform", choices=WEIGHTINGS
    )
    temperature: float = option(1.0, "softmax temperature of the sampled strategies (lower favours harder negatives)")
    simans_a: float = option(0.5, "SimANS a: how sharply the weights fall off around the peak (0 = uniform)")
    simans_b: float = option(
        0.0, "SimANS b: the weights peak at the positive score minus b (the authors' code: (s - s_pos + b)^2)"
    )
    output_format: str = option("triplet", "layout of the output dataset", choices=OUTPUT_FORMATS)
    output_scores: bool = option(False, "add the teacher's scores (for distillation losses)")
    include_positives: bool = option(
        False,
        "labeled-list only: each list in the teacher's rank order with the positive among the negatives where its "
        "score puts it, as sentence-transformers' include_positives (reranking evaluation sets)",
    )
    output_ids: bool = option(
        False,
        "add the ids the inputs carry: anchor_id, positive_id, and one id column per negative column (negative_1_id "
        "... for n-tuples, negative_id for triplets and labeled pairs, negative_ids for labeled lists); needs ids in "
        "the pairs and the corpus, none are invented",
    )
    on_short: str | None = option(
        None,
        "rows with fewer than num_negatives survivors: fill (random documents within the bound), deepen (search "
        "the row's anchor again deeper for the hardest documents within the bound, then fill), keep, or drop; "
        "default fill for n-tuple, keep otherwise",
        choices=ON_SHORT,
    )
    max_depth: int | None = option(
        None,
        "on_short=deepen: the deepest search for a short row's anchor (the pool's depth doubled until then); "
        "None: the whole corpus",
    )
    positive_score: str = option(
        "row",
        "positive score the methods compare with: the row's own, or the lowest of the anchor's positives",
        choices=POSITIVE_SCORES,
    )
    min_score: float | None = option(None, "also remove candidates scoring below this (too easy)")
    max_score: float | None = option(
        None, "also remove candidates scoring above this (too close to a positive to trust), beside the method"
    )
    exact_duplicates: bool = option(
        True,
        "keep candidates whose text equals one of the anchor's positives (case, punctuation and whitespace aside) "
        "out of the negatives, like positives",
    )
    near_duplicates: float | None = option(
        None,
        "also keep out candidates the teacher scores within this of the positive score (near copies of a positive)",
        metavar="EPSILON",
    )
    range_min: int = option(
        0,
        "skip the first this-many ranked candidates of each anchor (as sentence-transformers' range_min), beside "
        "the method",
    )
    range_max: int | None = option(
        None,
        "consider only the first this-many ranked candidates of each anchor (as sentence-transformers' range_max), "
        "beside the method; None: the pool's depth (or max_depth with on_short=deepen)",
    )
    teacher: str | tuple[str, ...] | None = option(
        None,
        "which teacher of a multi-teacher pool to select from; several (repeat the option) for an ensemble, default "
        "then every teacher of the pool",
        cli_name="select-teacher",
        metavar="NAME",
        multiple=True,
    )
    ensemble: str | None = option(
        None,
        "how several teachers' negatives combine: cross_sample and intra_sample(_dedup) (NV-Retriever 3.4.2), "
        "concat (union of their lists, ECI's hybrids), rrf or mean_score (fused rankings, an extension)",
        choices=ENSEMBLES,
    )
    rrf_k: int = option(60, "the constant k of reciprocal-rank fusion, 1 / (k + rank) (Cormack et al., 2009)")
    output_teachers: bool = option(
        False, "add a column naming the teacher(s) that chose each negative ('fill' for random fill documents)"
    )
    score_teachers: tuple[str, ...] | None = option(
        None,
        "with output_scores: the teachers whose scores are written (one: a 'scores' column; several: "
        "'scores_<name>' each); default the selecting teacher, or every member of an ensemble",
        cli_name="score-teacher",
        metavar="NAME",
        multiple=True,
    )
    seed: int = option(DEFAULT_SEED, "seeds the sampler; draws are keyed by seed, anchor and positive")
    # ---- relabeled pools (st_hardneg.relabel, ARHN)
    relabel_mode: str | None = option(
        None,
        "which judgments of a relabeled pool apply: relabel, filter, both, or off; default the pool's ARHN mode",
        choices=RELABEL_MODES,
    )
    relabeled_output: str = option(
        "exclude",
        "relabeled positives: only kept out of the negatives (exclude), also added as (anchor, positive) rows "
        "(rows), or added with label 1 to labeled-list rows (list)",
        choices=RELABELED_OUTPUTS,
    )

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "method", get_method(self.method))
        except (TypeError, ValueError) as err:
            raise type(err)(f"method: {err}") from None
        check_int("num_negatives", self.num_negatives, minimum=1)
        check_choice("sampling", self.sampling, SAMPLINGS)
        check_int("sample_from", self.sample_from, minimum=1)
        check_choice("weighting", self.weighting, WEIGHTINGS)
        check_float("temperature", self.temperature, minimum=0, strict_minimum=True)
        check_float("simans_a", self.simans_a, minimum=0)
        check_float("simans_b", self.simans_b)
        check_choice("output_format", self.output_format, OUTPUT_FORMATS)
        if not isinstance(self.output_scores, bool):
            raise TypeError(f"output_scores must be True or False, got {self.output_scores!r}")
        if not isinstance(self.include_positives, bool):
            raise TypeError(f"include_positives must be True or False, got {self.include_positives!r}")
        if not isinstance(self.output_ids, bool):
            raise TypeError(f"output_ids must be True or False, got {self.output_ids!r}")
        check_choice("on_short", self.on_short, ON_SHORT, optional=True)
        check_int("max_depth", self.max_depth, minimum=1, optional=True)
        check_choice("positive_score", self.positive_score, POSITIVE_SCORES)
        check_float("min_score", self.min_score, optional=True)
        check_float("max_score", self.max_score, optional=True)
        if not isinstance(self.exact_duplicates, bool):
            raise TypeError(f"exact_duplicates must be True or False, got {self.exact_duplicates!r}")
        check_float("near_duplicates", self.near_duplicates, minimum=0, optional=True)
        check_int("range_min", self.range_min, minimum=0)
        check_int("range_max", self.range_max, minimum=1, optional=True)
        object.__setattr__(self, "teacher", _names("teacher", self.teacher, single=True))
        check_choice("ensemble", self.ensemble, ENSEMBLES, optional=True)
        check_int("rrf_k", self.rrf_k, minimum=0)
        if not isinstance(self.output_teachers, bool):
            raise TypeError(f"output_teachers must be True or False, got {self.output_teachers!r}")
        object.__setattr__(self, "score_teachers", _names("score_teachers", self.score_teachers, single=False))
        check_int("seed", self.seed, minimum=0)
        check_choice("relabel_mode", self.relabel_mode, RELABEL_MODES, optional=True)
        check_choice("relabeled_output", self.relabeled_output, RELABELED_OUTPUTS)
        if self.on_short is None:
            object.__setattr__(self, "on_short", "fill" if self.output_format == "n-tuple" else "keep")
        self._check_consistency()

    def _check_consistency(self) -> None:
        if self.on_short == "keep" and self.output_format == "n-tuple":
            raise ValueError(
                "on_short='keep' contradicts output_format='n-tuple' (every n-tuple row needs num_negatives "
                "negatives); use on_short='fill' or 'drop'"
            )
        if self.ensemble is not None and isinstance(self.teacher, str):
            raise ValueError(
                f"ensemble={self.ensemble!r} combines several teachers, but teacher={self.teacher!r} names one; "
                "name two or more, or leave teacher out to combine every teacher of the pool"
            )
        if self.ensemble is None and isinstance(self.teacher, tuple):
            raise ValueError(
                f"teacher names several teachers {list(self.teacher)}; choose how to combine them with ensemble= "
                f"one of {', '.join(ENSEMBLES)}"
            )
        if self.ensemble == "rrf" and (
            isinstance(self.method, TopKAbs) or self.min_score is not None or self.max_score is not None
        ):
            raise ValueError(
                "ensemble='rrf' fuses ranks into scores 1 / (rrf_k + rank): an absolute threshold (topk-abs, "
                "min_score, max_score) has no meaning on them; use ensemble='mean_score' or a rank/positive-aware "
                "method"
            )
        if self.range_max is not None and self.range_max <= self.range_min:
            raise ValueError(
                f"range_max={self.range_max} is not above range_min={self.range_min}: the rank window holds no "
                "candidate"
            )
        if self.min_score is not None and self.max_score is not None and self.min_score > self.max_score:
            raise ValueError(
                f"min_score={self.min_score} is above max_score={self.max_score}: no candidate can survive both"
            )
        if self.include_positives and self.output_format != "labeled-list":
            raise ValueError(
                f"include_positives=True ranks the positive among the negatives of a labeled-list row, not of "
                f"{self.output_format!r} rows (every column after the positive is a negative to the losses); use "
                "output_format='labeled-list'"
            )
        if self.score_teachers is not None and not self.output_scores:
            raise ValueError("score_teachers names whose scores to write: it needs output_scores=True")
        if self.ensemble is not None and self.on_short == "deepen":
            raise ValueError(
                "on_short='deepen' searches one teacher again for its short rows; an ensemble's short rows are "
                "filled from its first member's reserve: use on_short='fill', 'keep' or 'drop' with an ensemble"
            )
        if self.max_depth is not None and self.on_short != "deepen":
            raise ValueError(f"max_depth={self.max_depth} applies with on_short='deepen' only, not {self.on_short!r}")
        if self.sampling in ("sampled", "top1_sampled") and self.sample_from < self.num_negatives:
            raise ValueError(
                f"sampling={self.sampling!r} draws num_negatives={self.num_negatives} from the top sample_from="
                f"{self.sample_from} survivors; raise sample_from to at least num_negatives"
            )
        if self.relabeled_output == "list" and self.output_format != "labeled-list":
            raise ValueError(
                f"relabeled_output='list' adds relabeled positives to labeled-list rows, not to {self.output_format!r} "
                "(every column after the positive is a negative to sentence-transformers' losses); use "
                "relabeled_output='rows' for extra (anchor, positive) rows"
            )
        if isinstance(self.method, TopKAbs) and self.min_score is not None and self.min_score > self.method.max_score:
            raise ValueError(
                f"min_score={self.min_score} is above {self.method}'s max_score: no candidate can survive both"
            )

    @property
    def sampler(self) -> Sampler:
        """The :class:`~st_hardneg.sampling.Sampler` these settings describe."""
        return Sampler(self.sampling, self.sample_from, self.weighting, self.temperature, self.simans_a, self.simans_b)

    @property
    def teachers(self) -> tuple[str, ...] | None:
        """The teacher names as a tuple (one or several), or None when left to the pool."""
        return (self.teacher,) if isinstance(self.teacher, str) else self.teacher

    def check_depth(self, depth: int, corpus_size: int | None = None) -> None:
        """Raise when ``num_negatives`` cannot come from a pool of this ``depth`` (before any work); with
        ``on_short="deepen"``, from ``max_depth`` (or ``corpus_size``, when known)."""
        if self.on_short == "deepen" and self.max_depth is not None and self.max_depth <= depth:
            raise ValueError(
                f"max_depth={self.max_depth} is not deeper than the pool's depth {depth}: on_short='deepen' could not "
                "search any deeper; raise max_depth or leave it None (the whole corpus)"
            )
        deepest = depth
        if self.on_short == "deepen":
            deepest = self.max_depth if self.max_depth is not None else corpus_size
        if self.range_max is not None:  # the rank window caps any search
            deepest = self.range_max if deepest is None else min(deepest, self.range_max)
        reachable = None if deepest is None else deepest - max(self.method.skips, self.range_min)
        if reachable is not None and self.num_negatives > reachable:
            where = f"a pool of depth {depth}" if deepest == depth else f"a search to depth {deepest}"
            raise ValueError(
                f"num_negatives={self.num_negatives} cannot come from {max(reachable, 0)} reachable candidates "
                f"({self.method} in {where}); raise depth or ask for fewer negatives"
            )


def _names(field: str, value: object, *, single: bool) -> str | tuple[str, ...] | None:
    """Teacher names as given: None, one name, or a list/tuple of distinct names (a list of one name is that name
    when ``single``)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"{field} is an empty string; give a teacher's name")
        return value if single else (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TypeError(f"{field} must be a teacher's name or a list of names, got {value!r}")
    if not value:
        raise ValueError(f"{field} is an empty list; give at least one teacher's name")
    if len(set(value)) != len(value):
        raise ValueError(f"{field} names a teacher twice: {list(value)}")
    if single and len(value) == 1:
        return value[0]
    return tuple(value)
