"""Pushing a folder to a Hub dataset repository in one commit, and the checks that come before any work.

- :func:`resolve_token`: the token given, else the one ``huggingface_hub`` finds in its usual places
  (``HF_TOKEN``, the file ``hf auth login`` writes); without one, a ``ValueError`` that says how to log in. The
  token is handed to ``HfApi`` only: never logged, printed, or written into a file.
- :func:`check_repo_id`: ``name`` or ``namespace/name`` as the Hub allows (``huggingface_hub``'s own validator).
- :func:`push_folder`: one ``HfApi.create_commit`` that adds every file of the folder and deletes the files of a
  previous st-hardneg push that this one does not write again, so a re-push leaves nothing stale. What a previous
  push wrote is read from its card (``st_hardneg.files`` in the README's YAML); files you added by hand stay. A
  repository holding something else (no st-hardneg card of the same kind) is refused unless ``overwrite=True``,
  which then replaces all of it: st-hardneg never deletes what it did not write without being told to.

``api`` is any ``HfApi``-compatible object (``create_repo``, ``list_repo_files``, ``hf_hub_download``,
``create_commit``); the tests pass one that records the operations it receives.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["check_repo_id", "folder_files", "make_api", "previous_push", "push_folder", "resolve_token"]

#: Files the Hub manages in every repository; never deleted by a push.
_KEEP = {".gitattributes"}


def resolve_token(token: str | None = None) -> str:
    """The Hugging Face token: ``token``, else ``huggingface_hub.get_token()`` (``HF_TOKEN``, ``hf auth login``).

    Raises:
        ValueError: no token anywhere (before any work is done).
    """
    if token:
        return token
    from huggingface_hub import get_token

    found = get_token()
    if not found:
        raise ValueError(
            "pushing to the Hugging Face Hub needs a token with write access: run `hf auth login`, or set the "
            "HF_TOKEN environment variable, or pass token=..."
        )
    return found


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` if the Hub accepts it as a dataset repository name (``name`` or ``namespace/name``).

    Examples:
        >>> check_repo_id("user/scifact-hard-negatives")
        'user/scifact-hard-negatives'
        >>> check_repo_id("user/bad name")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: repository id 'user/bad name' is not valid on the Hub: ...
    """
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if not isinstance(repo_id, str) or not repo_id.strip():
        raise ValueError(f"repository id must be 'user/name', got {repo_id!r}")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise ValueError(f"repository id {repo_id!r} is not valid on the Hub: {err}") from None
    if repo_id.count("/") > 1:
        raise ValueError(f"repository id {repo_id!r}: give 'user/name' or 'organization/name'")
    return repo_id


def make_api(token: str) -> Any:
    from huggingface_hub import HfApi

    from st_hardneg.version import __version__

    return HfApi(token=token, library_name="st-hardneg", library_version=__version__)


def folder_files(folder: Path) -> list[str]:
    """Every file under ``folder``, as POSIX paths relative to it, sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())


def previous_push(api: Any, repo_id: str, kind: str) -> tuple[list[str], set[str] | None, str | None]:
    """``(files in the repository, files an st-hardneg push of this kind wrote there or None, kind found)``.

    A repository that does not exist yet has no files.
    """
    from huggingface_hub import DatasetCard
    from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

    try:
        existing = list(api.list_repo_files(repo_id, repo_type="dataset"))
    except RepositoryNotFoundError:
        return [], None, None
    if "README.md" not in existing:
        return existing, None, None
    try:
        readme = api.hf_hub_download(repo_id, "README.md", repo_type="dataset")
    except EntryNotFoundError:
        return existing, None, None
    meta = DatasetCard.load(readme).data.to_dict().get("st_hardneg") or {}
    found = meta.get("kind") if isinstance(meta, dict) else None
    if found != kind:
        return existing, None, found
    return existing, set(meta.get("files") or ()), found


def push_folder(
    api: Any,
    folder: Path,
    repo_id: str,
    *,
    kind: str,
    private: bool | None,
    overwrite: bool,
    commit_message: str,
    remote: tuple[list[str], set[str] | None, str | None] | None = None,
) -> Any:
    """Create the repository if needed and commit ``folder`` to it in one commit (adds, then stale deletes).

    Args:
        remote: what :func:`previous_push` found (read again when ``None``).

    Returns:
        The ``CommitInfo`` of the commit.

    Raises:
        FileExistsError: the repository holds files no st-hardneg push of this ``kind`` wrote, and not
            ``overwrite``.
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    existing, previous, found = remote if remote is not None else previous_push(api, repo_id, kind)
    check_remote(repo_id, existing, previous, found, kind=kind, overwrite=overwrite)
    repo_url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    repo_id = getattr(repo_url, "repo_id", None) or repo_id
    files = folder_files(folder)
    if previous is None:
        stale = set(existing) if overwrite else set()
    else:
        stale = previous & set(existing)
    stale -= set(files) | _KEEP
    operations: list[Any] = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(folder / f)) for f in files]
    operations += [CommitOperationDelete(path_in_repo=f) for f in sorted(stale)]
    logger.info("Pushing %d files to %s (deleting %d stale files) in one commit", len(files), repo_id, len(stale))
    return api.create_commit(repo_id, operations=operations, commit_message=commit_message, repo_type="dataset")


def push_written(
    write: Callable[[Path], Any],
    repo_id: str,
    *,
    kind: str,
    api: Any,
    token: str | None,
    private: bool | None,
    overwrite: bool,
    commit_message: str,
) -> Any:
    """Check the repository before any work, have ``write(folder)`` write what to push into a temporary folder, and
    push that folder in one commit (:func:`push_folder`): the sequence every st-hardneg push follows.

    Args:
        write: writes the repository's files into the (not yet existing) folder it is given.
        api: an ``HfApi``-compatible object; ``None``: ``HfApi`` with ``token`` (or ``huggingface_hub``'s own),
            looked up here so that tests can stand in for the Hub.

    Returns:
        The ``CommitInfo`` of the commit.
    """
    if api is None:
        api = make_api(resolve_token(token))
    remote = previous_push(api, repo_id, kind)
    check_remote(repo_id, *remote, kind=kind, overwrite=overwrite)
    with tempfile.TemporaryDirectory(prefix=f"st-hardneg-{kind}-") as tmp:
        folder = Path(tmp) / "repo"
        write(folder)
        return push_folder(
            api,
            folder,
            repo_id,
            kind=kind,
            private=private,
            overwrite=overwrite,
            commit_message=commit_message,
            remote=remote,
        )


def check_remote(
    repo_id: str, existing: list[str], previous: set[str] | None, found: str | None, *, kind: str, overwrite: bool
) -> None:
    """Refuse (``FileExistsError``) a repository whose files no st-hardneg push of this kind wrote."""
    if previous is not None or overwrite or not (set(existing) - _KEEP):
        return
    what = f"an st-hardneg {found}" if found else "files not written by an st-hardneg push"
    raise FileExistsError(
        f"the Hub repository {repo_id} holds {what} ({len(existing)} files), not an st-hardneg {kind}; pass "
        "overwrite=True (--overwrite) to replace its contents, or choose another repository"
    )
