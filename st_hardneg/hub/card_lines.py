"""Sentences and values the dataset card (:mod:`.card`) and the pool card (:mod:`.pool_card`) both write: the
teacher, sampling and relabeling lines, the license line, the size category, Markdown escaping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from st_hardneg.hub.source import DataSource
from st_hardneg.teachers.provenance import ModelReference

_ENSEMBLE_LINES = {
    "cross_sample": "cross-sample ensemble (one teacher drawn per anchor; NV-Retriever 3.4.2)",
    "intra_sample": "intra-sample ensemble, duplicates kept (teachers take turns; NV-Retriever 3.4.2)",
    "intra_sample_dedup": "intra-sample ensemble, duplicates replaced (NV-Retriever 3.4.2)",
    "concat": "concatenation: the union of the teachers' negatives (the ECI paper's hybrid sets)",
    "rrf": "reciprocal-rank fusion (k={rrf_k}), the method on the fused score",
    "mean_score": "mean of per-teacher min-max normalised scores, the method on the fused score",
}


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` value for ``n`` rows.

    Examples:
        >>> size_category(63), size_category(5_000), size_category(2_000_000)
        ('n<1K', '1K<n<10K', '1M<n<10M')
    """
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M" if n < 10_000_000 else "n>10M"


def license_line(license: str, sources: list[DataSource]) -> str:
    if license == "unknown":
        where = sources[0].describe() if sources else "its source data"
        return (
            f"License: not stated when this set was pushed (`unknown`). It is derived from {where}: that data's "
            "license applies."
        )
    return f"License: `{license}`."


def teacher_line(t: Mapping[str, Any]) -> str:
    kind = t.get("type")
    if kind == "ensemble":
        members = ", ".join(f"`{name}` ({teacher_line(c)})" for name, c in t.get("members", {}).items())
        how = _ENSEMBLE_LINES.get(t.get("strategy"), str(t.get("strategy"))).format(rrf_k=t.get("rrf_k"))
        return f"{how} of {members}"
    if kind == "cross-encoder":
        ref = ModelReference(t.get("model"), t.get("revision"), t.get("local_model") or t.get("name") or "")
        depth = f"top {t['depth']}" if t.get("depth") else "the candidates"
        first = teacher_line(t.get("first_stage") or {})
        return f"cross-encoder {ref.describe()} ({t.get('activation')} scores) rescoring {depth} of {first}"
    if kind == "random":
        return f"random scores (seed {t.get('seed')}): NV-Retriever's random negatives"
    if kind == "dense":
        ref = ModelReference(t.get("model"), t.get("revision"), t.get("local_model") or t.get("name") or "")
        prompts = ", ".join(
            f"{label} `{t.get(key)!r}`"
            for label, key in (("query prompt", "query_prompt"), ("document prompt", "corpus_prompt"))
            if t.get(key)
        )
        details = ", ".join(x for x in (f"{t.get('similarity', 'cosine')} similarity", prompts) if x)
        return f"dense, {ref.describe()} ({details}; {t.get('backend', 'exact')} search)"
    if kind == "bm25":
        return f"BM25 (bm25s, {t.get('method')}, k1={t.get('k1')}, b={t.get('b')}, stopwords {t.get('stopwords')})"
    return f"`{t.get('name', kind)}`"


def sampling_line(s: Any) -> str:
    if s.sampling == "top":
        return "top: the highest-scoring survivors"
    if s.sampling == "simans":
        return (
            f"SimANS: drawn from every survivor with weights exp(-{s.simans_a:g} (score - positive score + "
            f"{s.simans_b:g})^2), keyed by seed and row"
        )
    what = f"softmax over scores, temperature {s.temperature:g}" if s.weighting == "softmax" else "uniform"
    head = "the top survivor plus the rest " if s.sampling == "top1_sampled" else ""
    return f"{s.sampling}: {head}drawn from the top {s.sample_from} survivors ({what}), keyed by seed and row"


def negatives_per_row(s: Any) -> int:
    """A full row's negatives: ``num_negatives``, per teacher for a concatenation."""
    return s.num_negatives * (len(s.teachers) if s.ensemble == "concat" else 1)


def ensemble_scale_line(s: Any) -> str:
    if s.ensemble in ("rrf", "mean_score"):
        return "the fused scores the method compared"
    return f"the first teacher's (`{s.teachers[0]}`); pairs it did not score are left out of the distributions"


def scores_note(s: Any) -> str:
    if not s.output_scores:
        return ""
    named = list(s.score_teachers or (s.teachers if s.ensemble else ()))
    if len(named) > 1:
        return ", with soft labels from " + ", ".join(f"`{n}`" for n in named) + " (a `scores_<name>` column each)"
    return ", with the teacher's scores" + (f" (`{named[0]}`)" if named else "")


def relabel_line(relabel: dict[str, Any] | None, settings: Any) -> str:
    """The false-negative step of a relabeled pool (ARHN), in words; empty when the selection used none."""
    if not relabel:
        return ""
    mode = relabel["mode"]
    if mode == "off":
        return "judgments of the pool not applied (relabel_mode off)"
    judge = relabel.get("judge", {})
    counts = relabel.get("statistics", {}).get("by_mode", {}).get(mode, {})
    what = {"relabel": "relabel only", "filter": "filter only", "both": "relabel and filter"}[mode]
    k = relabel.get("settings", {}).get("candidates")
    line = (
        f"ARHN ({what}) over the top {k} candidates per anchor, judge {judge.get('type')} `{judge.get('model')}`: "
        f"{counts.get('relabeled', 0)} relabeled as positives, {counts.get('filtered', 0)} filtered, "
        f"{counts.get('unparseable', 0)} unparseable and {counts.get('failed', 0)} failed (left as they were)"
    )
    if settings.relabeled_output == "rows":
        line += "; relabeled positives added as rows"
    elif settings.relabeled_output == "list":
        line += "; relabeled positives added to the lists with label 1"
    return line + ". The judge's prompts are in mining_config.json (`relabel.judge.prompts`)"


def markdown(value: Any) -> str:
    to_markdown = getattr(value, "to_markdown", None)
    return to_markdown() if callable(to_markdown) else str(value)


def without_histograms(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: without_histograms(v) for k, v in d.items() if k != "histogram"}
    if isinstance(d, list):
        return [without_histograms(v) for v in d]
    return d


def carried_lines(s: Any, keep_columns: Any) -> list[str]:
    """What the set carries from its source rows (``output_ids``, ``keep_columns``), in words; none when nothing."""
    lines = []
    if s.output_ids:
        lines.append(
            "- Ids of the source data (`output_ids`): `anchor_id`, the positive's and each negative's id, to join "
            "with the source's qrels or audit a row. Remove them before training (sentence-transformers feeds every "
            "column but labels and scores to the loss)."
        )
    if keep_columns:
        named = ", ".join(f"`{c}`" for c in keep_columns)
        lines.append(f"- Carried from each source row (`keep_columns`): {named}; remove them before training too.")
    return lines
