"""The card of a candidate pool pushed to the Hub: its build configuration and per-teacher statistics.

:class:`PoolCard` is a :class:`huggingface_hub.DatasetCard` rendered from ``hub/pool_card_template.md``. Its YAML
carries the pool's configuration and statistics under ``st_hardneg`` (``kind: candidate-pool``, the pool format
version, the files the push wrote) and ``viewer: false`` (a pool is arrays, not a table to browse).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from st_hardneg.hub.card_lines import license_line, size_category, teacher_line, without_histograms
from st_hardneg.hub.settings import CardSettings
from st_hardneg.hub.snippets import PLACEHOLDER_REPO
from st_hardneg.hub.source import DataSource
from st_hardneg.settings.base import document_options

TEMPLATE_PATH = Path(__file__).parent / "pool_card_template.md"
KIND = "candidate-pool"

__all__ = ["KIND", "TEMPLATE_PATH", "PoolCard"]


class PoolCard(DatasetCard):
    """The card of a :class:`~st_hardneg.pool.CandidatePool` on the Hub.

    Examples:
        >>> from st_hardneg import CandidatePool
        >>> from st_hardneg.data import load_default
        >>> pairs, corpus = load_default()
        >>> pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=10, show_progress=False)
        >>> card = PoolCard.from_pool(pool, repo_id="user/pool")
        >>> card.data.st_hardneg["kind"], card.data.viewer
        ('candidate-pool', False)
        >>> 'CandidatePool.from_hub("user/pool")' in card.text
        True
    """

    default_template_path = TEMPLATE_PATH

    @classmethod
    @document_options(CardSettings)
    def from_pool(
        cls,
        pool: Any,
        *,
        card: CardSettings | None = None,
        repo_id: str | None = None,
        source: Any = None,
        files: Sequence[str] = (),
        template_path: str | Path | None = None,
        **kwargs: Any,
    ) -> PoolCard:
        """Render the card of ``pool``.

        Args:
            card: a :class:`~st_hardneg.hub.settings.CardSettings`; keyword arguments override its fields.
            repo_id: the repository the snippet loads from.
            source: where the pairs came from; default: what the pool recorded.
            files: the repository's files (recorded under ``st_hardneg.files``).
            template_path: another Jinja template.
            **kwargs: fields of :class:`~st_hardneg.hub.settings.CardSettings`:

                {options}
        """
        from st_hardneg.pool.storage import FORMAT_VERSION
        from st_hardneg.version import __version__

        card = CardSettings.from_kwargs(card, **kwargs)
        license = card.license
        src = DataSource.of(source if source is not None else pool.config.get("source"))
        if license is None:
            license = "apache-2.0" if src.kind == "default" else "unknown"
        st = pool.statistics
        hub_sources = sorted(({src.hub_id} - {None}) | set(card.source_datasets))
        meta = {
            "kind": KIND,
            "version": __version__,
            "format_version": FORMAT_VERSION,
            "files": sorted(files),
            "config": pool.config,
            "statistics": without_histograms(st.to_dict()),
        }
        card_data = DatasetCardData(
            language=list(card.language) or None,
            license=license,
            pretty_name=card.pretty_name
            or f"Candidate pool for {src.dataset if src.kind != 'default' else 'the st-hardneg example'}",
            size_categories=[size_category(len(pool))],
            source_datasets=hub_sources or None,
            task_categories=["sentence-similarity"],
            tags=list(
                dict.fromkeys(["st-hardneg", "candidate-pool", "hard-negatives", "sentence-transformers", *card.tags])
            ),
            viewer=False,
            st_hardneg=meta,
        )
        s = pool.config["settings"]
        build_rows = [
            ("Source", src.describe()),
            ("Split", f"`{src.split}`" if src.split else "the whole file / dataset (no split)"),
            (
                "Corpus",
                "given" + (f": `{src.corpus}`" if src.corpus else "") + ", plus any positive missing from it"
                if pool.config.get("corpus_given")
                else "the pairs' own positives",
            ),
            ("Candidates per anchor (depth)", f"{s['depth']}, after removing all of the anchor's positives"),
            ("Random fill reserve per anchor", str(s["num_random"])),
            ("Seed", str(s["seed"])),
            ("Columns", f"anchor `{s.get('anchor_column')}`, positive `{s.get('positive_column')}`"),
            (
                "Fingerprints",
                f"pairs `{str(pool.config.get('dataset_fingerprint'))[:16]}`, corpus "
                f"`{str(pool.config.get('corpus_fingerprint'))[:16]}`",
            ),
        ]
        teachers = []
        for name, t in st.teachers.items():
            teachers.append(
                {
                    "name": name,
                    "queries": t.queries,
                    "depth": t.depth,
                    "candidates": t.candidates,
                    "padded": t.padded_slots,
                    "positives": t.positives_among_retrieved,
                    "positive": _pair(t.positive_scores.mean, t.positive_scores.median),
                    "candidate": _triple(t.candidate_scores.p05, t.candidate_scores.median, t.candidate_scores.p95),
                    "line": teacher_line(pool.config["teachers"].get(name, {})),
                }
            )
        return cls.from_template(
            card_data,
            template_path=str(template_path or TEMPLATE_PATH),
            pretty_name=card_data.pretty_name,
            version=__version__,
            repo_literal=json.dumps(repo_id or PLACEHOLDER_REPO),
            teacher_literal=json.dumps(next(iter(st.teachers), "")),
            source=src.describe(),
            depth=s["depth"],
            license_line=license_line(license, [src]),
            build_rows=build_rows,
            teachers=teachers,
            stats=st,
            history=len(pool.history),
            format_version=FORMAT_VERSION,
        )


def _pair(a: float | None, b: float | None) -> str:
    return ", ".join("" if v is None else f"{v:.4f}" for v in (a, b))


def _triple(a: float | None, b: float | None, c: float | None) -> str:
    return ", ".join("" if v is None else f"{v:.4f}" for v in (a, b, c))
