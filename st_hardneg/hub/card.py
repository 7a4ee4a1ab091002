"""Dataset cards that record how a mined set was made, rendered from a selection's configuration and statistics.

:class:`MinedDatasetCard` is a :class:`huggingface_hub.DatasetCard`: ``card.save(path)`` writes it and the inherited
``card.push_to_hub(repo_id, repo_type="dataset")`` uploads it next to ``dataset.push_to_hub(repo_id)``. Its YAML
metadata carries the whole mining configuration under ``st_hardneg``, the body renders it for people.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

TEMPLATE_PATH = Path(__file__).parent / "dataset_card_template.md"


class MinedDatasetCard(DatasetCard):
    """A dataset card for a mined hard-negative set.

    Examples:
        >>> from st_hardneg import mine_hard_negatives
        >>> from st_hardneg.data import load_default
        >>> pairs, corpus = load_default()
        >>> result = mine_hard_negatives(pairs, "bm25", corpus=corpus, num_negatives=2, seed=0,
        ...                              show_progress=False, return_statistics=True)
        >>> card = MinedDatasetCard.from_selection(result, source="the st-hardneg example data")
        >>> card.data.st_hardneg["selection"]["settings"]["method"]
        {'name': 'topk-percpos', 'percentage': 0.95}
        >>> "TopK-PercPos (NV-Retriever Eq. 2)" in card.text
        True
    """

    default_template_path = TEMPLATE_PATH

    @classmethod
    def from_selection(
        cls,
        selection: Any,
        pool: Any | None = None,
        *,
        source: str = "a pairs dataset",
        pretty_name: str | None = None,
        license: str | None = None,
        language: str | list[str] | None = None,
        eci_report: Any | None = None,
        template_path: str | Path | None = None,
    ) -> MinedDatasetCard:
        """Render a card from ``pool.select(..., return_statistics=True)`` (a :class:`~st_hardneg.pool.Selection`).

        Args:
            selection: the selection to describe.
            pool: the :class:`~st_hardneg.pool.CandidatePool` it came from, for the pool's build statistics.
            source: where the pairs came from, in words or as a Hub dataset id.
            pretty_name, license, language: card metadata.
            eci_report: an :class:`~st_hardneg.eci.ECIReport` of the set, to quote its ECI.
            template_path: another Jinja template; the default ships with st-hardneg.
        """
        from st_hardneg import __version__

        cfg, stats, dataset, settings = selection.config, selection.statistics, selection.dataset, selection.settings
        method = settings.method
        meta: dict[str, Any] = {
            "version": __version__,
            "source": source,
            "selection": cfg,
            "statistics": _without_histograms(stats.to_dict()),
        }
        if pool is not None:
            meta["pool"] = pool.config
            meta["pool_statistics"] = _without_histograms(pool.statistics.to_dict())
        card_data = DatasetCardData(
            language=language,
            license=license,
            pretty_name=pretty_name or f"Hard negatives ({method.name})",
            size_categories=[_size_category(len(dataset))],
            task_categories=["sentence-similarity"],
            tags=["sentence-transformers", "hard-negatives", "st-hardneg", method.name],
            st_hardneg=meta,
        )
        return cls.from_template(
            card_data,
            template_path=str(template_path or TEMPLATE_PATH),
            pretty_name=card_data.pretty_name,
            version=__version__,
            source=source,
            columns=", ".join(f"`{c}`" for c in dataset.column_names),
            num_negatives=settings.num_negatives,
            output_format=settings.output_format,
            output_scores=settings.output_scores,
            teacher_line=_teacher_line(cfg["teacher"]),
            method_line=method.describe(),
            method_repr=f'"{method.spec}"',
            sampling=settings.sampler.to_dict(),
            sampling_line=_sampling_line(settings.sampler.to_dict()),
            positive_score_line="the row's own positive"
            if settings.positive_score == "row"
            else "the lowest score among the anchor's positives",
            on_short_line={
                "fill": "filled with random corpus negatives within the method's bound",
                "deepen": "their anchor searched again deeper for the hardest negatives within the method's bound ("
                + (f"to depth {settings.max_depth}" if settings.max_depth else "down to the whole corpus")
                + "), then filled with random ones",
                "keep": "kept with the negatives they have",
                "drop": "dropped",
            }[settings.on_short],
            depth=cfg["pool"]["depth"],
            seed=settings.seed,
            stats=stats,
            distributions=[
                ("positive", stats.positive_scores),
                ("negative", stats.negative_scores),
                ("margin", stats.margins),
            ],
            fmt=_fmt,
            pool_lines=_pool_lines(pool) if pool is not None else [],
            eci_line=_eci_line(eci_report) if eci_report is not None else "",
        )


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M" if n < 10_000_000 else "n>10M"


def _teacher_line(t: dict[str, Any]) -> str:
    if t.get("type") == "dense":
        prompts = ", ".join(
            f"{k} `{v!r}`"
            for k, v in (("query prompt", t.get("query_prompt")), ("document prompt", t.get("corpus_prompt")))
            if v
        )
        return f"dense, `{t.get('model')}` ({t.get('similarity')} similarity{', ' + prompts if prompts else ''})"
    if t.get("type") == "bm25":
        return f"BM25 (bm25s, {t.get('method')}, k1={t.get('k1')}, b={t.get('b')})"
    return f"`{t.get('name', t)}`"


def _sampling_line(s: dict[str, Any]) -> str:
    if s["strategy"] == "top":
        return "top: the highest-scoring survivors"
    what = f"softmax over scores, temperature {s['temperature']:g}" if s["weighting"] == "softmax" else "uniform"
    head = "the top survivor plus the rest " if s["strategy"] == "top1_sampled" else ""
    return f"{s['strategy']}: {head}drawn from the top {s['sample_from']} survivors ({what})"


def _pool_lines(pool: Any) -> list[str]:
    st = pool.statistics
    lines = [
        f"{st.rows} rows, {st.queries} distinct anchors ({st.queries_with_several_positives} with several "
        f"positives), {st.corpus_size} documents"
    ]
    if st.added_positives or st.duplicate_corpus_texts:
        lines.append(
            f"{st.added_positives} positives added to the corpus, {st.duplicate_corpus_texts} duplicate "
            "corpus texts merged"
        )
    for name, t in st.teachers.items():
        lines.append(
            f"teacher `{name}`: {t.candidates} candidates at depth {t.depth}, "
            f"{t.positives_among_retrieved} retrieved positives excluded"
        )
    return lines


def _eci_line(report: Any) -> str:
    return (
        f"ECI {report.eci:.3f} (|N| = {report.num_negatives:.2f}, signal S_n = {report.signal:.3f}, "
        f"Max-Margin = {report.max_margin:.3f}; Sinha et al., 2026)."
    )


def _without_histograms(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _without_histograms(v) for k, v in d.items() if k != "histogram"}
    return d
