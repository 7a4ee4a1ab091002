"""An in-memory stand-in for the Hugging Face Hub with ``HfApi``'s methods, for offline tests of the push path.

sentence-transformers tests its push by patching ``HfApi`` and asserting on the calls; this goes one step further:
``RecordingHubApi`` records every call and the operations of every commit, *and* applies the commits to a folder
per repository, so a test can read back what a push left on the "Hub" (``load_dataset`` on a snapshot,
``CandidatePool.from_hub``, re-push deletions). Only the methods st-hardneg uses are implemented.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from huggingface_hub import CommitInfo, CommitOperationAdd, CommitOperationDelete, RepoUrl
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError
from huggingface_hub.utils import filter_repo_objects


@dataclass
class Commit:
    repo_id: str
    message: str
    added: dict[str, bytes]
    deleted: list[str]


@dataclass
class RecordingHubApi:
    """Repositories as folders under ``root``; every call recorded in ``calls``, every commit in ``commits``."""

    root: Path
    token: str | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    commits: list[Commit] = field(default_factory=list)
    private: dict[str, bool | None] = field(default_factory=dict)

    def _repo(self, repo_id: str) -> Path:
        return self.root / "repos" / repo_id

    def _not_found(self, repo_id: str) -> RepositoryNotFoundError:
        url = f"https://huggingface.co/api/datasets/{repo_id}"
        return RepositoryNotFoundError(
            f"Repository Not Found for url: {url}", response=httpx2.Response(404, request=httpx2.Request("GET", url))
        )

    # ------------------------------------------------------------------ HfApi methods
    def create_repo(self, repo_id: str, *, repo_type: str | None = None, private: bool | None = None, exist_ok=False):
        self.calls.append(("create_repo", {"repo_id": repo_id, "repo_type": repo_type, "private": private}))
        repo = self._repo(repo_id)
        if repo.exists() and not exist_ok:
            raise FileExistsError(repo_id)
        if not repo.exists():
            repo.mkdir(parents=True)
            (repo / ".gitattributes").write_text("*.parquet filter=lfs diff=lfs merge=lfs -text\n")
            self.private[repo_id] = private
        return RepoUrl(f"https://huggingface.co/datasets/{repo_id}")

    def list_repo_files(self, repo_id: str, *, repo_type: str | None = None, revision: str | None = None):
        self.calls.append(("list_repo_files", {"repo_id": repo_id, "repo_type": repo_type}))
        repo = self._repo(repo_id)
        if not repo.exists():
            raise self._not_found(repo_id)
        return sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())

    def hf_hub_download(self, repo_id: str, filename: str, *, repo_type: str | None = None, revision=None, **_: Any):
        self.calls.append(("hf_hub_download", {"repo_id": repo_id, "filename": filename, "repo_type": repo_type}))
        repo = self._repo(repo_id)
        if not repo.exists():
            raise self._not_found(repo_id)
        path = repo / filename
        if not path.is_file():
            raise EntryNotFoundError(f"{filename} not in {repo_id}")
        out = self.root / "downloads" / self._sha(repo_id) / filename
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        return str(out)

    def snapshot_download(
        self, repo_id: str, *, repo_type: str | None = None, revision=None, allow_patterns=None, **_: Any
    ) -> str:
        self.calls.append(
            ("snapshot_download", {"repo_id": repo_id, "revision": revision, "allow_patterns": allow_patterns})
        )
        files = self.list_repo_files(repo_id, repo_type=repo_type)
        sha = self._sha(repo_id)
        if revision is not None and revision != sha:
            raise ValueError(f"revision {revision} is not the current commit {sha} of {repo_id}")
        out = self.root / "snapshots" / repo_id / f"{len(self.calls)}" / sha
        for name in filter_repo_objects(files, allow_patterns=allow_patterns):
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self._repo(repo_id) / name, out / name)
        out.mkdir(parents=True, exist_ok=True)
        return str(out)

    def create_commit(self, repo_id: str, operations, *, commit_message: str, repo_type: str | None = None, **kw):
        operations = list(operations)
        self.calls.append(("create_commit", {"repo_id": repo_id, "repo_type": repo_type, "n": len(operations), **kw}))
        repo = self._repo(repo_id)
        if not repo.exists():
            raise self._not_found(repo_id)
        added, deleted = {}, []
        for op in operations:
            if isinstance(op, CommitOperationAdd):
                data = Path(op.path_or_fileobj).read_bytes()
                added[op.path_in_repo] = data
            elif isinstance(op, CommitOperationDelete):
                deleted.append(op.path_in_repo)
            else:  # pragma: no cover
                raise TypeError(type(op))
        for name in deleted:
            (repo / name).unlink()
        for name, data in added.items():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_bytes(data)
        self.commits.append(Commit(repo_id, commit_message, added, deleted))
        oid = self._sha(repo_id)
        return CommitInfo(
            commit_url=f"https://huggingface.co/datasets/{repo_id}/commit/{oid}",
            commit_message=commit_message,
            commit_description="",
            oid=oid,
        )

    # ------------------------------------------------------------------ helpers for tests
    def files(self, repo_id: str) -> dict[str, bytes]:
        repo = self._repo(repo_id)
        return {p.relative_to(repo).as_posix(): p.read_bytes() for p in repo.rglob("*") if p.is_file()}

    def put(self, repo_id: str, name: str, data: bytes) -> None:
        """A file someone added to the repository by hand."""
        self.create_repo(repo_id, exist_ok=True)
        path = self._repo(repo_id) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def _sha(self, repo_id: str) -> str:
        return hashlib.sha1(f"{repo_id}:{len(self.commits)}".encode()).hexdigest()
