"""Saving mined sets for the Hub, and pushing them: :func:`save_for_hub` and :func:`push_to_hub`.

``save_for_hub(sets, folder)`` writes exactly what ``push_to_hub(sets, repo_id)`` pushes:

- the data as parquet in the layout ``datasets`` uses for Hub datasets (:mod:`st_hardneg.hub.layout`), one
  configuration per mining method or per name you give, the splits you ask for (:mod:`st_hardneg.hub.contents`);
- ``README.md``: the dataset card (:class:`~st_hardneg.hub.card.MinedDatasetCard`);
- ``mining_config.json``: everything needed to mine each set again (:mod:`st_hardneg.hub.config`);
- ``plots/*.png``: histograms of the positive scores, negative scores and margins (:mod:`st_hardneg.hub.plots`,
  when matplotlib is installed; the card says so when it is not).

``push_to_hub`` checks the token and the repository id before any work, writes the folder in a temporary
directory, and pushes it in one commit that also deletes what a previous push wrote and this one does not
(:mod:`st_hardneg.hub.repo`). ``datasets.load_dataset(repo_id, config, split=...)`` then gives back the rows.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from st_hardneg.atomic import json_default
from st_hardneg.hub.card import MinedDatasetCard
from st_hardneg.hub.card_defaults import from_dataset_info, pool_eci_reports
from st_hardneg.hub.config import CONFIG_FILENAME, MiningRecord, mining_config_document
from st_hardneg.hub.contents import HubPart, collect_parts
from st_hardneg.hub.layout import MAX_SHARD_SIZE, write_parquet_layout
from st_hardneg.hub.plots import matplotlib_available, save_score_histograms, score_distributions
from st_hardneg.hub.repo import check_repo_id, push_written
from st_hardneg.hub.settings import CardSettings
from st_hardneg.settings.base import document_options

logger = logging.getLogger(__name__)

__all__ = ["push_to_hub", "save_for_hub"]

KIND = "mined-dataset"
_MARKER = CONFIG_FILENAME


@document_options(CardSettings)
def save_for_hub(
    sets: Any,
    folder: str | Path,
    *,
    overwrite: bool = False,
    config_name: str | None = None,
    split: str | None = None,
    pool: Any = None,
    source: Any = None,
    repo_id: str | None = None,
    card: CardSettings | None = None,
    plots: bool = True,
    eci: bool = True,
    eci_model: Any = None,
    agreement: Any = None,
    max_shard_size: int | str = MAX_SHARD_SIZE,
    show_progress: bool = True,
    **kwargs: Any,
) -> list[str]:
    """Write mined sets to ``folder`` exactly as :func:`push_to_hub` would push them.

    Args:
        sets: a :class:`~st_hardneg.pool.Selection` (``pool.select(..., return_statistics=True)``), a
            :class:`datasets.Dataset` or ``DatasetDict``, a list of selections (one configuration per mining
            method), or ``{configuration: set}`` / ``{configuration: {split: set}}``.
        folder: the folder to write; an existing non-empty one is refused unless ``overwrite=True``, and then only
            if it holds a previous ``save_for_hub`` output.
        config_name / split: the configuration and split of a single set (default ``"default"`` / ``"train"``).
        pool: the :class:`~st_hardneg.pool.CandidatePool` the selections came from, for its statistics in the card.
        source: where the pairs came from (a Hub id, a path, words, or a
            :class:`~st_hardneg.hub.source.DataSource`): the card's title, source and "Mine it again" snippet.
            Default: what the pool recorded (the command records the dataset, split and corpus), else the sets'
            ``dataset.info.dataset_name`` (kept by ``pairs.map(miner)``).
        repo_id: the repository the card's snippets load from (``push_to_hub`` passes its own).
        card: a :class:`~st_hardneg.hub.settings.CardSettings` (license, language, source datasets, tags, title);
            keyword arguments override its fields. Without ``license=``: the sets' ``dataset.info.license`` when
            they have one, else ``apache-2.0`` for the embedded example and ``unknown`` otherwise.
        plots: draw the score histograms (needs matplotlib).
        eci: compute ECI for the card: with ``eci_model`` if given, else from the sets' stored ``scores`` when
            they have them, else from the teacher's scores ``pool`` holds (each pair looked up; nothing is
            selected again).
        eci_model: a SentenceTransformer (or CrossEncoder) to score ECI with.
        agreement: teacher agreement to show in the card (an object with ``to_markdown()``, or Markdown).
        max_shard_size: Arrow bytes per parquet shard (``datasets``' default ``"500MB"``).
        show_progress: progress bars.
        **kwargs: fields of :class:`~st_hardneg.hub.settings.CardSettings`:

            {options}

    Returns:
        The files written, relative to ``folder``.

    Examples:
        >>> import tempfile, datasets
        >>> from st_hardneg import CandidatePool
        >>> from st_hardneg.data import load_default
        >>> pairs, corpus = load_default()
        >>> pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=20, show_progress=False)
        >>> selection = pool.select(num_negatives=2, show_progress=False, return_statistics=True)
        >>> folder = tempfile.mkdtemp()
        >>> files = save_for_hub(selection, folder, pool=pool, plots=False, show_progress=False)
        >>> files
        ['README.md', 'data/train-00000-of-00001.parquet', 'mining_config.json']
        >>> datasets.load_dataset(folder, split="train").to_list() == selection.dataset.to_list()
        True
    """
    card = CardSettings.from_kwargs(card, **kwargs)
    parts = collect_parts(sets, config_name=config_name, split=split)
    source, card = from_dataset_info(parts, source, card)
    folder = Path(folder)
    from st_hardneg.outputs import prepare_output_folder

    prepare_output_folder(folder, overwrite=overwrite, marker=_MARKER, what="a mined set saved for the Hub")
    configs = {p.key: MiningRecord.from_selection(p.selection, source=source) if p.selection else None for p in parts}
    with _progress_bars(show_progress):
        layout = write_parquet_layout(parts, folder, max_shard_size=max_shard_size)
    plot_files, plots_note = _draw_plots(parts, folder) if plots else ({}, None)
    eci_reports = _eci_reports(parts, eci_model, show_progress) if eci else {}
    if eci and eci_model is None:  # sets without a scores column: the teacher's scores the pool holds
        eci_reports.update(pool_eci_reports([p for p in parts if p.key not in eci_reports], pool))
    document = mining_config_document(_nested(parts, configs))
    import json

    (folder / CONFIG_FILENAME).write_text(json.dumps(document, indent=2, default=json_default), encoding="utf-8")
    files = [f for paths in layout.files.values() for f in paths] + list(plot_files.values()) + [CONFIG_FILENAME]
    files.append("README.md")
    card = MinedDatasetCard.from_parts(
        parts,
        configs,
        card=card,
        pool=pool,
        repo_id=repo_id,
        plots=plot_files,
        plots_note=plots_note,
        eci=eci_reports,
        agreement=agreement,
        layout=layout,
        files=files,
    )
    card.save(folder / "README.md")
    return sorted(files)


def push_to_hub(
    sets: Any,
    repo_id: str,
    *,
    private: bool | None = None,
    token: str | None = None,
    api: Any = None,
    overwrite: bool = False,
    commit_message: str | None = None,
    **kwargs: Any,
) -> Any:
    """Push mined sets to a Hub dataset repository in one commit: data, card, ``mining_config.json``, histograms.

    What is pushed is exactly what :func:`save_for_hub` writes (it writes it, in a temporary folder). A
    re-push to the same repository replaces the previous push and deletes its files that this push does not
    write; a repository holding anything else is refused unless ``overwrite=True``.

    Args:
        sets: as :func:`save_for_hub`.
        repo_id: ``"user/name"`` (or ``"organization/name"``).
        private: make a new repository private (an existing one keeps its visibility).
        token: a Hugging Face token; default: ``huggingface_hub``'s (``HF_TOKEN``, ``hf auth login``). Without one,
            a ``ValueError`` before any work. The token is never printed or written into a file.
        api: an ``HfApi``-compatible object to push with (default ``HfApi(token=token)``).
        overwrite: replace a repository that holds something other than an st-hardneg mined set.
        commit_message: default ``"Upload hard negatives mined with st-hardneg"``.
        **kwargs: the options of :func:`save_for_hub` (``config_name``, ``split``, ``pool``, ``source``, ``card``
            and the :class:`~st_hardneg.hub.settings.CardSettings` fields ``license``, ``language``, ...).

    Returns:
        The ``CommitInfo`` of the commit.
    """
    repo_id = check_repo_id(repo_id)
    # Bad input fails before the token, the network or any work: options, settings, names.
    own = set(inspect.signature(save_for_hub).parameters) - {"sets", "folder", "kwargs"}
    card_fields = {k: kwargs.pop(k) for k in list(kwargs) if k not in own}  # an unknown name fails here
    kwargs["card"] = CardSettings.from_kwargs(kwargs.get("card"), **card_fields)
    collect_parts(sets, config_name=kwargs.get("config_name"), split=kwargs.get("split"))
    return push_written(
        lambda folder: save_for_hub(sets, folder, repo_id=repo_id, **kwargs),
        repo_id,
        kind=KIND,
        api=api,
        token=token,
        private=private,
        overwrite=overwrite,
        commit_message=commit_message or "Upload hard negatives mined with st-hardneg",
    )


# ---------------------------------------------------------------------------------------------- helpers
def _nested(parts: list[HubPart], configs: dict[str, MiningRecord | None]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in parts:
        out.setdefault(p.config, {})[p.split] = configs[p.key]
    return out


def _draw_plots(parts: list[HubPart], folder: Path) -> tuple[dict[str, str], str | None]:
    if not matplotlib_available():
        return {}, (
            "Score histograms are not drawn here: matplotlib was not installed when this set was saved (`pip install "
            '"st-hardneg[plots]"`). The table below gives the distributions.'
        )
    files: dict[str, str] = {}
    named: dict[str, Any] = {}
    for p in parts:
        dist = score_distributions(p.selection if p.selection is not None else p.dataset)
        if dist is None:
            continue
        path = f"plots/{p.config}-{p.split}-scores.png"
        if save_score_histograms({p.key: dist}, folder / path, title=f"Teacher scores: {p.key}"):
            files[p.key] = path
            named[p.key] = dist
    if len(named) > 1:
        path = "plots/comparison-scores.png"
        if save_score_histograms(named, folder / path, title="Teacher scores by configuration"):
            files["comparison"] = path
    return files, None


def _eci_reports(parts: list[HubPart], model: Any, show_progress: bool) -> dict[str, tuple[Any, str]]:
    from st_hardneg.eci.compute import compute_eci

    reports: dict[str, tuple[Any, str]] = {}
    for p in parts:
        if model is not None:
            from st_hardneg.teachers.provenance import model_reference

            ref = model_reference(model)
            reports[p.key] = (compute_eci(p.dataset, model, show_progress=show_progress), ref.describe())
        elif "scores" in p.dataset.column_names:
            scored_with = "the teacher's stored scores (`scores` column)"
            reports[p.key] = (compute_eci(p.dataset, show_progress=show_progress), scored_with)
    return reports


@contextlib.contextmanager
def _progress_bars(show: bool) -> Iterator[None]:
    """Silence ``datasets``' progress bars for the block when ``show`` is False (restored afterwards)."""
    from datasets.utils import disable_progress_bars, enable_progress_bars, is_progress_bar_enabled

    was_enabled = is_progress_bar_enabled()
    if not show and was_enabled:
        disable_progress_bars()
    try:
        yield
    finally:
        if not show and was_enabled:
            enable_progress_bars()
