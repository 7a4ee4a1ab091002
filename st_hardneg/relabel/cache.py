"""On-disk cache of judge replies, so a relabeling run stopped midway resumes without asking again.

A reply is keyed by the judge's :meth:`~st_hardneg.relabel.Judge.fingerprint` (model, prompts, generation settings),
the stage, and the exact texts asked about (query and passage, or query and the ordered passage list). The cache is
one SQLite file (``judgments.sqlite`` in the cache folder): every batch of replies is written in one transaction, so
a run killed at any moment leaves either the whole batch or none of it, never a half-written reply. Failed requests
are not stored (a later run asks them again); unparseable replies are (the model did answer).

Examples:
    >>> import tempfile
    >>> from st_hardneg.relabel.judges.base import Answer
    >>> cache = JudgmentCache(tempfile.mkdtemp())
    >>> key = cache.key("judge-fingerprint", "answer", "what is a cell?", "A cell is ...")
    >>> cache.put_many({key: Answer("no answer", raw="NO ANSWER").to_dict()})
    >>> cache.get_many([key])[key]["status"]
    'no answer'
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["JudgmentCache", "default_cache_folder"]

_FILE = "judgments.sqlite"


def default_cache_folder() -> Path:
    """``$ST_HARDNEG_CACHE/judgments``, else ``$XDG_CACHE_HOME/st-hardneg/judgments``, else ``~/.cache/...``."""
    if os.environ.get("ST_HARDNEG_CACHE"):
        return Path(os.environ["ST_HARDNEG_CACHE"]) / "judgments"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "st-hardneg" / "judgments"


class JudgmentCache:
    """A folder holding the judge replies of any number of runs (one SQLite file)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise NotADirectoryError(f"judgment cache {self.folder} exists and is not a folder")
        self.path = self.folder / _FILE
        self._connection: sqlite3.Connection | None = None

    @staticmethod
    def key(fingerprint: str, stage: str, query: str, passages: str | Sequence[str]) -> str:
        """The key of one question: judge fingerprint, stage, query, and passage (or ordered passages)."""
        texts = [passages] if isinstance(passages, str) else list(passages)
        payload = json.dumps([fingerprint, stage, query, texts], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=60)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL)")
            con.commit()
            self._connection = con
        return self._connection

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored replies among ``keys`` (missing keys are left out)."""
        keys = list(keys)
        if not keys or not self.path.exists():
            return {}
        out: dict[str, dict[str, Any]] = {}
        con = self.connection
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, reply in con.execute(f"SELECT key, reply FROM replies WHERE key IN ({marks})", chunk):
                out[key] = json.loads(reply)
        return out

    def put_many(self, replies: Mapping[str, dict[str, Any]]) -> None:
        """Store replies in one transaction (all or nothing)."""
        if not replies:
            return
        rows = [(k, json.dumps(v, ensure_ascii=False)) for k, v in replies.items()]
        with self.connection as con:
            con.executemany("INSERT OR REPLACE INTO replies (key, reply) VALUES (?, ?)", rows)

    def __len__(self) -> int:
        if not self.path.exists():
            return 0
        return int(self.connection.execute("SELECT COUNT(*) FROM replies").fetchone()[0])

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __repr__(self) -> str:
        return f"JudgmentCache({str(self.folder)!r})"
