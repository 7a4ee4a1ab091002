"""Candidate pools on the Hub: push a pool so others select from it without encoding, and load it back.

``pool.push_to_hub(repo_id)`` (:func:`push_pool_to_hub`) pushes the files ``pool.save`` writes (JSON, Arrow and
NumPy arrays: nothing pickled) and a :class:`~st_hardneg.hub.pool_card.PoolCard`, in one commit, to a dataset
repository; :func:`save_pool_for_hub` writes exactly that to a local folder. ``CandidatePool.from_hub(repo_id)``
(:func:`load_pool_from_hub`) first downloads ``pool.json`` alone and checks its format version (a pool written by
an st-hardneg whose format this one cannot read is refused with a message saying what to do), then downloads the
pool's files only (``snapshot_download`` with ``allow_patterns``, pinned to the commit of the first download) and
loads them memory-mapped with ``numpy.load(allow_pickle=False)``.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from st_hardneg.hub.pool_card import KIND, PoolCard
from st_hardneg.hub.repo import check_repo_id, folder_files, push_written
from st_hardneg.hub.settings import CardSettings

logger = logging.getLogger(__name__)

__all__ = ["POOL_FILE_PATTERNS", "check_pool_format", "load_pool_from_hub", "push_pool_to_hub", "save_pool_for_hub"]

#: The files of a pool on the Hub (what ``from_hub`` downloads): never a pickle.
POOL_FILE_PATTERNS = ["pool.json", "*.arrow", "*.npz", "*.npy", "README.md"]
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def save_pool_for_hub(pool: Any, folder: str | Path, *, overwrite: bool = False, **card_kwargs: Any) -> list[str]:
    """Write ``pool`` to ``folder`` exactly as :func:`push_pool_to_hub` pushes it: the pool's files and its card.

    Args:
        overwrite: replace a previous saved pool in ``folder`` (never other files).
        **card_kwargs: :meth:`~st_hardneg.hub.pool_card.PoolCard.from_pool` options (``repo_id``, ``source``,
            ``card``, and the :class:`~st_hardneg.hub.settings.CardSettings` fields ``license``, ...).

    Returns:
        The files written, relative to ``folder``.
    """
    folder = Path(folder)
    pool.save(folder, overwrite=overwrite)
    files = folder_files(folder) + ["README.md"]
    PoolCard.from_pool(pool, files=files, **card_kwargs).save(folder / "README.md")
    return sorted(files)


def push_pool_to_hub(
    pool: Any,
    repo_id: str,
    *,
    token: str | None = None,
    private: bool | None = None,
    api: Any = None,
    commit_message: str | None = None,
    overwrite: bool = False,
    **card_kwargs: Any,
) -> Any:
    """Push a candidate pool to a Hub dataset repository in one commit (see the module docstring).

    Args:
        repo_id: ``"user/name"``.
        private: make a new repository private.
        token: default ``huggingface_hub``'s (``HF_TOKEN``, ``hf auth login``); without one, a ``ValueError``
            before any work. Never printed or written.
        api: an ``HfApi``-compatible object (default ``HfApi(token=token)``).
        overwrite: replace a repository that holds something other than an st-hardneg pool.
        **card_kwargs: :meth:`~st_hardneg.hub.pool_card.PoolCard.from_pool` options.

    Returns:
        The ``CommitInfo``.
    """
    repo_id = check_repo_id(repo_id)
    own = {"card", "source", "template_path"}  # PoolCard.from_pool's own options; the rest are CardSettings fields
    card_fields = {k: card_kwargs.pop(k) for k in list(card_kwargs) if k not in own}  # an unknown name fails here
    card_kwargs["card"] = CardSettings.from_kwargs(card_kwargs.get("card"), **card_fields)
    return push_written(
        lambda folder: save_pool_for_hub(pool, folder, repo_id=repo_id, **card_kwargs),
        repo_id,
        kind=KIND,
        api=api,
        token=token,
        private=private,
        overwrite=overwrite,
        commit_message=commit_message or "Upload a candidate pool built with st-hardneg",
    )


def check_pool_format(meta: dict[str, Any], where: str) -> None:
    """Raise ``ValueError`` when ``pool.json``'s format version is not one this st-hardneg reads."""
    from st_hardneg.pool.storage import READABLE_VERSIONS
    from st_hardneg.version import __version__

    version = meta.get("format_version")
    if version in READABLE_VERSIONS:
        return
    newer = isinstance(version, int) and version > max(READABLE_VERSIONS)
    advice = (
        "upgrade st-hardneg (pip install -U st-hardneg)"
        if newer
        else "ask its author to push it again with a current st-hardneg, or rebuild it"
    )
    raise ValueError(
        f"{where} holds a candidate pool in format {version!r} (written by st-hardneg "
        f"{meta.get('st_hardneg_version', '?')}); this st-hardneg {__version__} reads formats "
        f"{list(READABLE_VERSIONS)}: {advice}"
    )


def load_pool_from_hub(
    cls: Any,
    repo_id: str | Path,
    *,
    revision: str | None = None,
    token: str | None = None,
    api: Any = None,
    cache_dir: str | Path | None = None,
    dataset: Any = None,
    corpus: Any = None,
) -> Any:
    """A :class:`~st_hardneg.pool.CandidatePool` from a Hub repository (or a local folder holding one).

    Args:
        cls: the pool class (``CandidatePool``).
        repo_id: ``"user/name"``, or a folder written by :func:`save_pool_for_hub`.
        revision: a branch, tag or commit.
        token: for a private repository (default ``huggingface_hub``'s).
        api: an ``HfApi``-compatible object with ``snapshot_download``.
        cache_dir: where ``huggingface_hub`` caches the files.
        dataset / corpus: checked against the pool's fingerprints when given.

    Raises:
        ValueError: the pool's format version is not one this st-hardneg reads.
    """
    local = Path(repo_id)
    if local.is_dir():
        folder, where = local, str(local)
    else:
        repo_id = check_repo_id(str(repo_id))
        if api is None:
            from huggingface_hub import HfApi

            api = HfApi(token=token)
        where = f"the Hub repository {repo_id}"
        kwargs = {"repo_type": "dataset", "cache_dir": cache_dir}
        first = Path(api.snapshot_download(repo_id, revision=revision, allow_patterns=["pool.json"], **kwargs))
        if not (first / "pool.json").is_file():
            raise FileNotFoundError(f"{where} holds no candidate pool (no pool.json)")
        check_pool_format(json.loads((first / "pool.json").read_text()), where)
        pinned = first.name if _COMMIT.match(first.name) else revision
        folder = Path(api.snapshot_download(repo_id, revision=pinned, allow_patterns=POOL_FILE_PATTERNS, **kwargs))
    meta_path = folder / "pool.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{where} holds no candidate pool (no pool.json)")
    check_pool_format(json.loads(meta_path.read_text()), where)
    logger.info("Loading the candidate pool of %s", where)
    return cls.load(folder, dataset=dataset, corpus=corpus)
