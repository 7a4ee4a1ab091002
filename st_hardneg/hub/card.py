"""The dataset card of a mined set: what it is for, how to train on it, how it was made, and what it looks like.

:class:`MinedDatasetCard` is a :class:`huggingface_hub.DatasetCard` rendered from a Jinja template shipped with the
package (``hub/dataset_card_template.md``). Its YAML metadata is what the Hub reads (task categories, tags, size
category, license, source datasets, and ``configs`` / ``dataset_info`` as ``datasets`` writes them) plus the whole
mining record under ``st_hardneg``; its body is for people: the purpose, a training snippet, the mining
configuration, the statistics (removals per rule; short, filled and dropped rows; score distributions with
histograms, NV-Retriever's Figure 1), ECI and teacher agreement where they were computed, a snippet that mines the
set again, and citations.

:func:`~st_hardneg.hub.save_for_hub` writes the card with the data, ``mining_config.json`` and the histograms;
:meth:`MinedDatasetCard.from_selection` renders one for a single selection (what the command writes beside its
output).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from st_hardneg.hub.card_lines import (
    carried_lines,
    ensemble_scale_line,
    license_line,
    markdown,
    negatives_per_row,
    relabel_line,
    sampling_line,
    scores_note,
    size_category,
    teacher_line,
    without_histograms,
)
from st_hardneg.hub.config import MiningRecord
from st_hardneg.hub.contents import HubPart
from st_hardneg.hub.settings import CardSettings
from st_hardneg.hub.snippets import PLACEHOLDER_REPO, format_of, reproduce_code, train_code
from st_hardneg.hub.source import DataSource
from st_hardneg.settings.base import document_options

TEMPLATE_PATH = Path(__file__).parent / "dataset_card_template.md"

__all__ = ["TEMPLATE_PATH", "MinedDatasetCard", "size_category"]

#: The ``st_hardneg.kind`` of a mined set's card (a pushed pool's card says ``"candidate-pool"``).
KIND = "mined-dataset"

_FORMAT_USE = {
    "n-tuple": "`MultipleNegativesRankingLoss` (and its cached variants): each row's hard negatives join the "
    "in-batch negatives",
    "triplet": "`MultipleNegativesRankingLoss` or `TripletLoss`: one row per (anchor, positive, negative)",
    "labeled-pair": "cross-encoder training (`BinaryCrossEntropyLoss`): one row per (anchor, document) with a label",
    "labeled-list": "cross-encoder learning to rank (`LambdaLoss`, `ListNetLoss`): each anchor with its documents "
    "and labels",
}


class MinedDatasetCard(DatasetCard):
    """A dataset card for mined hard negatives.

    Examples:
        >>> from st_hardneg import mine_hard_negatives
        >>> from st_hardneg.data import load_default
        >>> pairs, corpus = load_default()
        >>> result = mine_hard_negatives(pairs, "bm25", corpus=corpus, method="topk-percpos:0.95", num_negatives=2,
        ...                              output_format="n-tuple", seed=0, show_progress=False, return_statistics=True)
        >>> card = MinedDatasetCard.from_selection(result, source="st-hardneg embedded default")
        >>> card.data.st_hardneg["configurations"]["default"]["train"]["mining"]["selection"]["method"]
        {'name': 'topk-percpos', 'percentage': 0.95}
        >>> card.data.license, "TopK-PercPos (NV-Retriever Eq. 2)" in card.text
        ('apache-2.0', True)
    """

    default_template_path = TEMPLATE_PATH

    @classmethod
    def from_selection(
        cls,
        selection: Any,
        pool: Any | None = None,
        *,
        source: Any = None,
        repo_id: str | None = None,
        **kwargs: Any,
    ) -> MinedDatasetCard:
        """The card of one ``pool.select(..., return_statistics=True)`` result (configuration ``default``, split
        ``train``), without histograms (:func:`~st_hardneg.hub.save_for_hub` draws them).

        Args:
            selection: a :class:`~st_hardneg.pool.Selection`.
            pool: the :class:`~st_hardneg.pool.CandidatePool` it came from, for the pool's build statistics.
            source: where the pairs came from (a Hub id, a path, words, or a
                :class:`~st_hardneg.hub.source.DataSource`); default: what the pool recorded.
            repo_id: the repository the snippets load from.
            **kwargs: as :meth:`from_parts` (``card=``, the :class:`~st_hardneg.hub.settings.CardSettings` fields
                ``license``, ``language``, ..., ``eci``, ``agreement``).
        """
        part = HubPart("default", "train", selection.dataset, selection)
        config = MiningRecord.from_selection(selection, source=source)
        return cls.from_parts([part], {part.key: config}, pool=pool, repo_id=repo_id, **kwargs)

    @classmethod
    @document_options(CardSettings)
    def from_parts(
        cls,
        parts: Sequence[HubPart],
        configs: Mapping[str, MiningRecord | None],
        *,
        card: CardSettings | None = None,
        pool: Any | None = None,
        repo_id: str | None = None,
        plots: Mapping[str, str] | None = None,
        plots_note: str | None = None,
        eci: Mapping[str, tuple[Any, str]] | None = None,
        agreement: Any = None,
        layout: Any = None,
        files: Sequence[str] = (),
        template_path: str | Path | None = None,
        **kwargs: Any,
    ) -> MinedDatasetCard:
        """Render the card of several configurations and splits.

        Args:
            parts: the configurations and splits (:func:`~st_hardneg.hub.contents.collect_parts`).
            configs: ``{part.key: MiningRecord or None}`` (``None`` for a plain dataset).
            card: a :class:`~st_hardneg.hub.settings.CardSettings`; keyword arguments override its fields.
            pool: the pool the selections came from, for its statistics (one pool).
            repo_id: the repository the snippets load from (default a placeholder).
            plots: ``{part key or "comparison": PNG path in the repository}``.
            plots_note: shown instead of the histograms (e.g. matplotlib is not installed).
            eci: ``{part key: (ECIReport, what scored it)}``.
            agreement: teacher agreement to show (an object with ``to_markdown()``, or Markdown text).
            layout: the :class:`~st_hardneg.hub.layout.ParquetLayout` (its ``configs`` / ``dataset_info`` YAML).
            files: the repository's files, recorded under ``st_hardneg.files`` (a re-push deletes the ones it
                does not write again).
            template_path: another Jinja template; the default ships with st-hardneg.
            **kwargs: fields of :class:`~st_hardneg.hub.settings.CardSettings`:

                {options}
        """
        card = CardSettings.from_kwargs(card, **kwargs)
        license, source_datasets = card.license, card.source_datasets
        from st_hardneg.version import __version__

        repo = repo_id or PLACEHOLDER_REPO
        several = len(parts) > 1
        sources = [c.source for c in configs.values() if c is not None]
        hub_sources = sorted({s.hub_id for s in sources if s.hub_id} | set(source_datasets or ()))
        if license is None:
            license = "apache-2.0" if sources and all(s.kind == "default" for s in sources) else "unknown"
        methods = sorted({p.selection.settings.method.name for p in parts if p.selection is not None})
        total_rows = sum(len(p.dataset) for p in parts)
        meta: dict[str, Any] = {
            "kind": KIND,
            "version": __version__,
            "files": sorted(files),
            "configurations": {},
        }
        for p in parts:
            c = configs.get(p.key)
            entry: dict[str, Any] = {"rows": len(p.dataset), "columns": p.dataset.column_names}
            if c is not None:
                entry["mining"] = {k: v for k, v in c.to_dict().items() if k != "versions"}
                entry["statistics"] = without_histograms(p.selection.statistics.to_dict())
            if eci and p.key in eci:
                entry["eci"] = eci[p.key][0].to_dict()
            meta["configurations"].setdefault(p.config, {})[p.split] = entry
        if pool is not None:
            meta["pool_statistics"] = without_histograms(pool.statistics.to_dict())
        card_data = DatasetCardData(
            language=list(card.language) or None,
            license=license,
            pretty_name=card.pretty_name or _pretty_name(parts, sources),
            size_categories=[size_category(total_rows)],
            source_datasets=hub_sources or None,
            task_categories=["sentence-similarity", "feature-extraction"],
            tags=list(dict.fromkeys(["sentence-transformers", "hard-negatives", "st-hardneg", *methods, *card.tags])),
            st_hardneg=meta,
        )
        if layout is not None:
            layout.to_card_data(card_data)
        first = parts[0]
        return cls.from_template(
            card_data,
            template_path=str(template_path or TEMPLATE_PATH),
            pretty_name=card_data.pretty_name,
            version=__version__,
            purpose=_purpose(parts, configs),
            license_line=license_line(license, sources),
            contents=[_contents_row(p, configs.get(p.key)) for p in parts],
            several=several,
            train_code=train_code(repo, first, several_configs=several),
            train_note=_train_note(first, several),
            mined=[_mined_section(p, configs[p.key]) for p in parts if configs.get(p.key) is not None],
            plain=[p.key for p in parts if configs.get(p.key) is None],
            plots=plots or {},
            plots_note=plots_note,
            pool_lines=_pool_lines(pool) if pool is not None else [],
            agreement=markdown(agreement) if agreement is not None else "",
            eci_rows=[_eci_row(key, *value) for key, value in (eci or {}).items()],
            reproduce=reproduce_code(repo, list(parts), dict(configs)),
            versions=_versions(configs),
            cite_eci=bool(eci),
            cite_bm25=any(c is not None and c.teacher.get("type") == "bm25" for c in configs.values()),
        )


# ---------------------------------------------------------------------------------------------- pieces
def _pretty_name(parts: Sequence[HubPart], sources: list[DataSource]) -> str:
    where = sources[0].dataset if sources else "a pairs dataset"
    if sources and sources[0].kind == "default":
        where = "st-hardneg example"
    methods = sorted({p.selection.settings.method.spec for p in parts if p.selection is not None})
    return f"Hard negatives for {where}" + (f" ({', '.join(methods)})" if methods else "")


def _purpose(parts: Sequence[HubPart], configs: Mapping[str, MiningRecord | None]) -> str:
    mined = [(p, configs[p.key]) for p in parts if configs.get(p.key) is not None]
    if not mined:
        return "Hard negatives for training text-embedding models with sentence-transformers."
    p, c = mined[0]
    s = p.selection.settings
    fmt = s.output_format
    sources = list(dict.fromkeys(c.source.describe() for _, c in mined))
    methods = list(dict.fromkeys(q.selection.settings.method.describe() for q, _ in mined))
    teachers = list(dict.fromkeys(teacher_line(c.teacher) for _, c in mined))
    lines = [
        f"Training data for text-embedding models: every row pairs an anchor from {', '.join(sources)} with its "
        f"positive and {negatives_per_row(s)} hard negative{'s' if negatives_per_row(s) != 1 else ''}, passages the "
        "teacher "
        "ranks close to the anchor that are not its positive. Hard negatives teach a retrieval model the fine "
        "distinctions that in-batch negatives do not (NV-Retriever, Moreira et al., 2024).",
        "",
        f"- Teacher: {'; '.join(teachers)}.",
        f"- Mining method{'s' if len(methods) > 1 else ''}: {'; '.join(methods)}. The positive-aware methods "
        "remove candidates that score too close to the positive, which are likely unlabelled positives (false "
        "negatives).",
        f"- Format: `{fmt}`, for {_FORMAT_USE.get(fmt, fmt)}.",
    ]
    if s.output_scores:
        lines.append("- The `scores` column holds the teacher's scores `[positive, negatives...]` for distillation.")
    lines += carried_lines(s, mined[0][0].selection.context["pool"]["settings"].get("keep_columns"))
    return "\n".join(lines)


def _contents_row(part: HubPart, config: MiningRecord | None) -> dict[str, Any]:
    return {
        "config": part.config,
        "split": part.split,
        "rows": len(part.dataset),
        "columns": ", ".join(f"`{c}`" for c in part.dataset.column_names),
        "format": format_of(part),
        "method": part.selection.settings.method.spec if part.selection is not None else "(not recorded)",
    }


def _method_choice(choice: Mapping[str, Any] | None) -> str:
    """What ``method="auto"`` chose the method from, for the card's "Mining method" row ("" when a method was given)."""
    if not choice:
        return ""
    return (
        f' (chosen by `method="{choice["requested"]}"` from the pairs\' {choice["positives_per_anchor"]:.2f} '
        "distinct positives per anchor)"
    )


def _train_note(part: HubPart, several: bool) -> str:
    if several:
        return "The other configurations load the same way: `load_dataset(repo_id, config_name, split=...)`."
    return ""


def _mined_section(part: HubPart, c: MiningRecord) -> dict[str, Any]:
    s, ps, st = c.selection_settings, c.pool_settings, part.selection.statistics
    on_short = {
        "fill": "filled with random corpus documents that obey the method's bound (rows still short are dropped)",
        "deepen": "their anchor searched again deeper ("
        + (f"to depth {s.max_depth}" if s.max_depth else "down to the whole corpus")
        + ") for the hardest documents that obey the method's bound, then filled with random ones",
        "keep": "kept with the negatives they have",
        "drop": "dropped",
    }[s.on_short]
    settings_rows = [
        ("Source", c.source.describe()),
        ("Split", f"`{c.source.split}`" if c.source.split else "the whole file / dataset (no split)"),
        ("Corpus", _corpus_line(c)),
        ("Teacher", teacher_line(c.teacher)),
        ("Candidates per anchor (pool depth)", f"{ps.depth}, after removing all of the anchor's positives"),
        ("Random fill reserve per anchor", str(ps.num_random)),
        *(
            [
                (
                    "Evaluation anchors excluded",
                    f"{len(ps.exclude)} (training rows asking one of them dropped before mining)",
                )
            ]
            if ps.exclude
            else []
        ),
        *(
            [("Existing negatives", "the dataset's own, joined to their anchors' candidates and filtered like them")]
            if ps.existing_negatives == "join"
            else [("Existing negatives", "the dataset's own, kept unfiltered ahead of the mined ones")]
            if ps.existing_negatives == "keep"
            else []
        ),
        ("Mining method", s.method.describe() + _method_choice(part.selection.context.get("method_choice"))),
        (
            "Positive score compared against",
            "the row's own positive" if s.positive_score == "row" else "the lowest score among the anchor's positives",
        ),
    ]
    if s.range_min or s.range_max is not None:
        last = f"to {s.range_max - 1}" if s.range_max is not None else "onwards"
        window = f"ranks {s.range_min} {last} of each anchor's candidates (counted from 0), beside the method"
        settings_rows.append(("Rank window", window))
    if s.max_score is not None:
        settings_rows.append(("Maximum negative score", f"{s.max_score:g} (candidates scoring above removed)"))
    if s.min_score is not None:
        settings_rows.append(("Minimum negative score", f"{s.min_score:g} (easier candidates removed)"))
    if c.relabel is not None:
        settings_rows.append(("False negatives", relabel_line(c.relabel, s)))
    if s.ensemble is not None:
        counts = ", ".join(f"`{k}` {v}" for k, v in st.negatives_per_teacher.items())
        settings_rows.append(("Negatives chosen per teacher", f"{counts} ({st.negatives_shared} chosen by several)"))
        settings_rows.append(("Score scale", ensemble_scale_line(s)))
    settings_rows += [
        ("Sampling", sampling_line(s)),
        ("Negatives per row", str(negatives_per_row(s))),
        ("Rows short of negatives", on_short),
        ("Output format", f"`{s.output_format}`" + scores_note(s)),
        ("Seeds", f"pool {ps.seed}, selection {s.seed}"),
        ("Fingerprints", f"pairs `{(c.dataset_fingerprint or '')[:16]}`, corpus `{(c.corpus_fingerprint or '')[:16]}`"),
    ]
    depth = ps.depth
    removed = [
        ("Input rows (pairs)", st.rows_in, ""),
        (
            "Candidate slots looked at",
            st.candidates_considered,
            f"per row: each of the {st.rows_in} rows looks at its anchor's candidates (up to {depth}); an anchor "
            "with several positives is counted once per row",
        ),
        ("Removed by the mining method", st.removed_by_method, s.method.spec),
    ]
    if s.range_min or s.range_max is not None:
        window = f"range_min={s.range_min}" + (f", range_max={s.range_max}" if s.range_max is not None else "")
        removed.insert(2, ("Outside the rank window", st.removed_by_rank, window + " (removed before the method)"))
    if c.relabel is not None:
        removed.insert(
            2,
            (
                "Kept out as relabeled positives / filtered (judge)",
                f"{st.excluded_relabeled} / {st.excluded_filtered}",
                "ARHN judgments, removed before the method like positives",
            ),
        )
    if st.removed_duplicate_positive or st.removed_near_duplicate:
        removed.insert(
            2,
            (
                "Kept out as copies of a positive (exact / near)",
                f"{st.removed_duplicate_positive} / {st.removed_near_duplicate}",
                "same text as one of the anchor's positives (case, punctuation, whitespace aside)"
                + (f"; teacher score within {s.near_duplicates:g} of the positive's" if s.near_duplicates else ""),
            ),
        )
    if s.max_score is not None:
        removed.append(("Removed above the maximum score", st.removed_above_max_score, f"max_score={s.max_score:g}"))
    if s.min_score is not None:
        removed.append(("Removed below the minimum score", st.removed_below_min_score, f"min_score={s.min_score:g}"))
    removed += [
        ("Survivors", st.survivors, "candidates left after the rules above"),
        ("Survivors the sampler did not pick", st.not_selected, s.sampling),
        ("Negatives taken from the candidates", st.negatives_selected, ""),
        ("Rows short of negatives", st.rows_short, f"fewer than {s.num_negatives} survivors picked"),
    ]
    if st.rows_deepened:
        deepest = ", ".join(f"{n} rows to depth {d}" for d, n in st.deepened_depths.items())
        removed.append(
            (
                "Rows searched deeper",
                st.rows_deepened,
                f"{st.negatives_deepened} negatives found beyond depth {depth} ({deepest})",
            )
        )
    removed += [
        ("Random negatives filled in", st.negatives_filled, f"in {st.rows_filled} rows"),
        ("Rows kept with fewer negatives", st.rows_kept_short, ""),
        ("Rows dropped", st.rows_dropped, "no negative, or still short where every row needs them all"),
        ("Output rows", st.rows_out, f"{st.examples_out} examples in the `{s.output_format}` layout"),
    ]
    return {
        "key": part.key,
        "config": part.config,
        "split": part.split,
        "settings_rows": settings_rows,
        "removed": removed,
        "distributions": [
            ("positive", st.positive_scores),
            ("negative", st.negative_scores),
            ("margin", st.margins),
        ],
        "warnings": list(st.warnings),
    }


def _corpus_line(c: MiningRecord) -> str:
    if c.corpus_given is False:
        return "the pairs' own positives (no separate corpus)"
    if c.source.corpus:
        return f"`{c.source.corpus}`, plus any positive missing from it"
    return "the source's documents, plus any positive missing from them"


def _pool_lines(pool: Any) -> list[str]:
    st = pool.statistics
    lines = [
        f"{st.rows} rows, {st.queries} distinct anchors ({st.queries_with_several_positives} with several "
        f"positives), {st.corpus_size} documents"
    ]
    if st.added_positives or st.duplicate_corpus_texts:
        lines.append(
            f"{st.added_positives} positives added to the corpus, {st.duplicate_corpus_texts} duplicate corpus texts "
            "merged"
        )
    for name, t in st.teachers.items():
        lines.append(
            f"teacher `{name}`: {t.candidates} candidates for {t.queries} anchors (up to {t.depth} each"
            + (f"; {t.padded_slots} slots empty where fewer documents were retrieved" if t.padded_slots else "")
            + f"), after removing {t.positives_among_retrieved} retrieved positives"
        )
    return lines


def _eci_row(key: str, report: Any, scored_with: str) -> dict[str, Any]:
    return {
        "key": key,
        "num_negatives": report.num_negatives,
        "signal": report.signal,
        "max_margin": report.max_margin,
        "efficiency": report.harmonic_efficiency,
        "eci": report.eci,
        "violations": report.violation_rate,
        "queries": report.num_queries,
        "scored_with": scored_with,
    }


def _versions(configs: Mapping[str, MiningRecord | None]) -> str:
    for c in configs.values():
        if c is not None and c.versions:
            keys = ("st-hardneg", "sentence-transformers", "transformers", "torch", "datasets", "bm25s")
            return ", ".join(f"{k} {c.versions[k]}" for k in keys if k in c.versions)
    return ""
