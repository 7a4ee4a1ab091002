"""``mining_config.json``: how each pushed set was mined, recorded and rendered as code for its card.

One :class:`MiningRecord` per configuration and split of a pushed set: the teacher (type, Hub id and revision when
known, prompts, search backend, BM25 parameters), the :class:`~st_hardneg.settings.PoolSettings` and
:class:`~st_hardneg.settings.SelectionSettings` (their ``to_dict``), the source (dataset, split, corpus), and the
fingerprints of the dataset and of the pool's corpus; the file adds the library versions installed when it was
written. :func:`read_mining_config` reads it back (from a folder, a file, or a Hub dataset repository). Mining the
same rows again lives with mining: :mod:`st_hardneg.reproduce` (``load_mining_config(...).mine(pairs)``).

Examples:
    >>> from st_hardneg import CandidatePool
    >>> from st_hardneg.data import load_default
    >>> pairs, corpus = load_default()
    >>> pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=20, seed=1, show_progress=False)
    >>> selection = pool.select("topk-marginpos:0.1", num_negatives=2, seed=1, show_progress=False,
    ...                         return_statistics=True)
    >>> record = MiningRecord.from_selection(selection, source="st-hardneg embedded default")
    >>> MiningRecord.from_dict(record.to_dict()) == record   # what mining_config.json holds
    True
    >>> record.select_code()
    "dataset = pool.select('topk-marginpos:0.1', num_negatives=2, seed=1)"
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from st_hardneg.hub.source import DataSource
from st_hardneg.pool.settings import PoolSettings
from st_hardneg.select.settings import SelectionSettings

__all__ = ["CONFIG_FILENAME", "MiningRecord", "library_versions", "read_mining_config", "read_mining_configs"]

CONFIG_FILENAME = "mining_config.json"
R = TypeVar("R", bound="MiningRecord")
#: Version of the ``mining_config.json`` layout.
CONFIG_FORMAT = 1
_LIBRARIES = (
    "st-hardneg",
    "sentence-transformers",
    "transformers",
    "torch",
    "datasets",
    "huggingface-hub",
    "numpy",
    "pyarrow",
    "bm25s",
    "faiss-cpu",
    "faiss-gpu",
)


def library_versions() -> dict[str, str]:
    """Python and the versions of the libraries that decide a mined set's rows (those installed)."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    if "st-hardneg" not in versions:
        from st_hardneg.version import __version__

        versions["st-hardneg"] = __version__
    return versions


@dataclass(frozen=True)
class MiningRecord:
    """How one mined set was made, complete enough to make it again (:class:`st_hardneg.reproduce.MiningConfig`
    mines it again).

    Attributes:
        pool_settings: the :class:`~st_hardneg.settings.PoolSettings` of the pool it was selected from.
        selection_settings: the :class:`~st_hardneg.settings.SelectionSettings` of the selection.
        teacher: the teacher's configuration (``Teacher.config()``): ``type``, ``name``, ``model`` (Hub id, or
            ``None`` for a local model), ``revision``, prompts, ``backend``; BM25's parameters.
        source: where the pairs came from (:class:`~st_hardneg.hub.source.DataSource`).
        dataset_fingerprint / corpus_fingerprint: digests of the pairs and of the pool's corpus, to recognise them.
        corpus_given: whether a corpus was given (else the pool mined among the pairs' positives).
        versions: the library versions recorded with it.
        relabel: for a set selected from a relabeled pool (:mod:`st_hardneg.relabel`): the judge, its prompts, the
            ARHN settings, the mode applied and the judging counts; ``None`` otherwise.
    """

    pool_settings: PoolSettings
    selection_settings: SelectionSettings
    teacher: dict[str, Any]
    source: DataSource
    dataset_fingerprint: str | None = None
    corpus_fingerprint: str | None = None
    corpus_given: bool | None = None
    versions: dict[str, str] = field(default_factory=dict)
    relabel: dict[str, Any] | None = None

    @classmethod
    def from_selection(cls, selection: Any, *, source: Any = None) -> MiningRecord:
        """The configuration of a ``pool.select(..., return_statistics=True)`` result.

        Args:
            selection: a :class:`~st_hardneg.pool.Selection`.
            source: where the pairs came from; default: what the pool recorded (the command records it).
        """
        pool = selection.context.get("pool", {})
        if pool.get("settings") is not None:
            pool_settings = PoolSettings.from_dict(pool["settings"])
        else:  # a selection made before pools recorded their settings in the context
            pool_settings = PoolSettings(depth=pool["depth"], seed=pool["seed"])
        recorded = pool.get("source")
        chosen = source if source is not None else recorded
        return cls(
            pool_settings=pool_settings,
            selection_settings=selection.settings,
            teacher=dict(selection.context.get("teacher", {})),
            source=DataSource.of(chosen),
            dataset_fingerprint=pool.get("dataset_fingerprint"),
            corpus_fingerprint=pool.get("corpus_fingerprint"),
            corpus_given=pool.get("corpus_given"),
            versions=library_versions(),
            relabel=selection.context.get("relabel"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.to_dict(),
            "teacher": self.teacher,
            "pool": {
                "settings": self.pool_settings.to_dict(),
                "dataset_fingerprint": self.dataset_fingerprint,
                "corpus_fingerprint": self.corpus_fingerprint,
                "corpus_given": self.corpus_given,
            },
            "selection": self.selection_settings.to_dict(),
            "versions": self.versions,
            **({"relabel": self.relabel} if self.relabel is not None else {}),
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MiningRecord:
        """The configuration :meth:`to_dict` wrote; the settings are validated again."""
        try:
            pool = values["pool"]
            return cls(
                pool_settings=PoolSettings.from_dict(pool["settings"]),
                selection_settings=SelectionSettings.from_dict(values["selection"]),
                teacher=dict(values["teacher"]),
                source=DataSource.of(values.get("source")),
                dataset_fingerprint=pool.get("dataset_fingerprint"),
                corpus_fingerprint=pool.get("corpus_fingerprint"),
                corpus_given=pool.get("corpus_given"),
                versions=dict(values.get("versions") or {}),
                relabel=values.get("relabel"),
            )
        except KeyError as err:
            raise ValueError(f"not a mining configuration: {err.args[0]!r} is missing") from None

    # ------------------------------------------------------------------ the same, as code for a card
    def teacher_code(self) -> tuple[str, str]:
        """``(import lines, expression)`` that build the teacher (a list of them for an ensemble)."""
        imports: list[str] = []
        expression = _teacher_code(self.teacher, imports)
        return "\n".join(dict.fromkeys(i for i in imports if i)), expression

    def pool_code(self) -> str:
        """The ``CandidatePool.build`` call (every PoolSettings field that differs from its default, and the seed)."""
        s = self.pool_settings
        resolved = {"anchor_column": "anchor", "positive_column": "positive"}  # what the column rule picks anyway
        args = _changed(s, always=("depth", "seed"), same_as=resolved)
        return f"pool = CandidatePool.build(pairs, teacher, corpus=corpus, {', '.join(args)})"

    def relabel_code(self) -> str:
        """The ``pool.relabel`` call of a relabeled set ("" otherwise); the judge is the reader's to supply."""
        if self.relabel is None:
            return ""
        s = self.relabel.get("settings", {})
        args = ", ".join(f"{k}={s[k]!r}" for k in ("mode", "candidates", "seed") if k in s)
        return f"pool.relabel(ARHN(judge, {args}))  # judge: see `relabel.judge` in mining_config.json"

    def select_code(self, target: str = "dataset") -> str:
        """The ``pool.select`` call with every selection setting that differs from its default."""
        s = self.selection_settings
        resolved = {"on_short": "fill" if s.output_format == "n-tuple" else "keep"}  # what on_short=None becomes
        # a single teacher's name is not needed (the rebuilt pool has that one teacher); an ensemble names its members
        skip = ("method",) if s.ensemble is not None else ("method", "teacher")
        args = [repr(s.method.spec)] + _changed(s, always=("num_negatives", "seed"), skip=skip, same_as=resolved)
        return f"{target} = pool.select({', '.join(args)})"


def _teacher_code(t: Mapping[str, Any], imports: list[str]) -> str:
    """The expression that builds the teacher of config ``t`` (appending the imports it needs)."""
    kind = t.get("type")
    if kind == "ensemble":
        return "[" + ", ".join(_teacher_code(m, imports) for m in t.get("members", {}).values()) + "]"
    if kind == "dense":
        args = [repr(t["model"]) if t.get("model") else repr(f"path/to/{t.get('local_model', 'the-model')}")]
        if t.get("name") and t.get("name") != t.get("model"):
            args.append(f"name={t['name']!r}")
        for key in ("query_prompt", "corpus_prompt"):
            if t.get(key):
                args.append(f"{key}={t[key]!r}")
        if t.get("backend", "exact") != "exact":
            args.append(f"backend={t['backend']!r}")
        imports.append("from st_hardneg.teachers import DenseTeacher")
        return f"DenseTeacher({', '.join(args)})"
    if kind == "bm25":
        defaults = {"k1": 1.5, "b": 0.75, "delta": 0.5, "method": "lucene", "stopwords": "en", "name": "bm25"}
        args = [f"{k}={t[k]!r}" for k in defaults if k in t and t[k] != defaults[k]]
        imports.append("from st_hardneg.teachers import BM25Teacher")
        return f"BM25Teacher({', '.join(args)})"
    if kind == "random":
        imports.append("from st_hardneg.teachers import RandomTeacher")
        name = f", name={t['name']!r}" if t.get("name", "random") != "random" else ""
        return f"RandomTeacher(seed={t.get('seed', 0)!r}{name})"
    if kind == "cross-encoder":
        imports.append("from st_hardneg.teachers import CrossEncoderTeacher")
        model = repr(t["model"]) if t.get("model") else repr(f"path/to/{t.get('local_model', 'the-cross-encoder')}")
        first = _teacher_code(t.get("first_stage") or {}, imports)
        args = [model, f"first_stage={first}"]
        if t.get("name") and t.get("name") != t.get("model"):
            args.append(f"name={t['name']!r}")
        if t.get("depth") is not None:
            args.append(f"depth={t['depth']!r}")
        if t.get("activation") not in (None, "sigmoid"):
            args.append(f"activation={t['activation']!r}")
        return f"CrossEncoderTeacher({', '.join(args)})"
    return "teacher  # " + str(t.get("name", "the teacher"))


def _changed(
    settings: Any,
    *,
    always: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
    same_as: Mapping[str, Any] | None = None,
) -> list[str]:
    """``name=value`` for the fields that differ from their defaults (and from what a default resolves to)."""
    import dataclasses

    out = []
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name in skip:
            continue
        default = (same_as or {}).get(f.name, f.default)
        if f.name in always or value != default:
            out.append(f"{f.name}={value!r}")
    return out


# ---------------------------------------------------------------------------------------------- the file
def mining_config_document(configs: Mapping[str, Mapping[str, MiningRecord | None]]) -> dict[str, Any]:
    """The JSON document of ``mining_config.json`` for ``{configuration: {split: MiningRecord or None}}``."""
    return {
        "format": "st-hardneg mining configuration",
        "format_version": CONFIG_FORMAT,
        "library_versions": library_versions(),
        "configurations": {
            name: {split: (c.to_dict() if c is not None else None) for split, c in splits.items()}
            for name, splits in configs.items()
        },
    }


def read_mining_configs(
    document: Mapping[str, Any], *, cls: type[MiningRecord] | None = None
) -> dict[str, dict[str, MiningRecord | None]]:
    """Every configuration and split of a ``mining_config.json`` document."""
    if document.get("format_version") != CONFIG_FORMAT:
        raise ValueError(
            f"mining configuration format {document.get('format_version')!r}; this st-hardneg reads format "
            f"{CONFIG_FORMAT}"
        )
    return {
        name: {split: ((cls or MiningRecord).from_dict(c) if c is not None else None) for split, c in splits.items()}
        for name, splits in document["configurations"].items()
    }


def read_mining_config(
    path_or_repo: str | Path,
    config_name: str | None = None,
    split: str | None = None,
    *,
    revision: str | None = None,
    token: str | None = None,
    api: Any = None,
    cls: type[R] | None = None,
) -> R:
    """The :class:`MiningRecord` (or a ``cls`` subclass) of one configuration and split of a saved or pushed set.

    Args:
        path_or_repo: a folder written by :func:`~st_hardneg.hub.save_for_hub`, a ``mining_config.json`` file, or
            a Hub dataset repository id (the file is downloaded with ``huggingface_hub``).
        config_name / split: which one; may be left out when there is only one (configuration, or split).
        revision / token / api: for a Hub repository (``api``: an ``HfApi``-compatible object).

    Raises:
        ValueError: an unknown configuration or split, or one that was not mined by st-hardneg.
    """
    path = Path(path_or_repo)
    if path.is_dir():
        path = path / CONFIG_FILENAME
    if not path.is_file():
        if api is None:
            from huggingface_hub import HfApi

            api = HfApi(token=token)
        path = Path(api.hf_hub_download(str(path_or_repo), CONFIG_FILENAME, repo_type="dataset", revision=revision))
    configs = read_mining_configs(json.loads(path.read_text(encoding="utf-8")), cls=cls or MiningRecord)
    config_name = _pick(config_name, configs, "configuration")
    split = _pick(split, configs[config_name], f"split of {config_name!r}")
    config = configs[config_name][split]
    if config is None:
        raise ValueError(f"{config_name}/{split} was not mined by st-hardneg here: no mining configuration recorded")
    return config


def _pick(name: str | None, options: Mapping[str, Any], what: str) -> str:
    if name is None:
        if len(options) != 1:
            raise ValueError(f"several {what}s: {sorted(options)}; name one")
        return next(iter(options))
    if name not in options:
        raise ValueError(f"no {what} named {name!r}; there are {sorted(options)}")
    return name
