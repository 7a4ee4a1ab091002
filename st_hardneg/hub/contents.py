"""What goes into a Hub dataset repository: mined sets arranged as configurations and splits.

:func:`collect_parts` turns what the user passes to :func:`~st_hardneg.hub.save_for_hub` /
:func:`~st_hardneg.hub.push_to_hub` into a list of :class:`HubPart` (configuration, split, dataset, selection):

- one :class:`~st_hardneg.pool.Selection` or :class:`datasets.Dataset`: configuration ``config_name``
  (default ``"default"``), split ``split`` (default ``"train"``);
- a :class:`datasets.DatasetDict`: configuration ``config_name``, one split per key;
- a list of selections: one configuration per selection, named after its mining method (``"topk-percpos-0.95"``);
- a mapping ``{name: set}``: one configuration per name; ``{name: {split: set}}`` or ``{name: DatasetDict}``
  gives that configuration several splits.

Every name is checked here, before anything is written: configuration names become folders (``datasets`` puts the
``"default"`` configuration's files under ``data/``), split names follow ``datasets``' rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["HubPart", "collect_parts", "config_name_of"]

_SPLIT = re.compile(r"^\w+(\.\w+)*$")  # datasets.naming._split_re
_CONFIG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class HubPart:
    """One configuration/split of a Hub dataset.

    Attributes:
        config: the configuration name.
        split: the split name.
        dataset: the rows (a :class:`datasets.Dataset`).
        selection: the :class:`~st_hardneg.pool.Selection` the rows came from (statistics, settings, context), or
            ``None`` for a plain dataset (its card then records no mining configuration).
    """

    config: str
    split: str
    dataset: Any
    selection: Any = None

    @property
    def key(self) -> str:
        return f"{self.config}/{self.split}"


def config_name_of(selection: Any) -> str:
    """A configuration name from a selection's mining method: ``topk-percpos:0.95`` -> ``topk-percpos-0.95``.

    Examples:
        >>> from st_hardneg.settings import SelectionSettings
        >>> from types import SimpleNamespace
        >>> config_name_of(SimpleNamespace(settings=SelectionSettings(method="topk-marginpos:0.05")))
        'topk-marginpos-0.05'
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", selection.settings.method.spec).strip("-")


def collect_parts(data: Any, *, config_name: str | None = None, split: str | None = None) -> list[HubPart]:
    """The configurations and splits of ``data`` (see the module docstring), names checked.

    Raises:
        TypeError: ``data`` is none of the accepted shapes.
        ValueError: a bad or repeated configuration or split name, an empty collection.
    """
    from datasets import Dataset, DatasetDict

    def one(value: Any, config: str, split_name: str) -> HubPart:
        if _is_selection(value):
            return HubPart(config, split_name, value.dataset, value)
        if isinstance(value, Dataset):
            return HubPart(config, split_name, value, None)
        raise TypeError(
            f"expected a Selection (pool.select(..., return_statistics=True)) or a datasets.Dataset for "
            f"{config}/{split_name}, got {type(value).__name__}"
        )

    def splits(value: Any, config: str) -> list[HubPart]:
        if isinstance(value, (DatasetDict, Mapping)) and not _is_selection(value):
            if not value:
                raise ValueError(f"configuration {config!r} has no splits")
            return [one(v, config, str(s)) for s, v in value.items()]
        return [one(value, config, split or "train")]

    if _is_selection(data) or isinstance(data, Dataset):
        parts = [one(data, config_name or "default", split or "train")]
    elif isinstance(data, DatasetDict):
        if split is not None:
            raise ValueError("split= does not apply to a DatasetDict: its keys are the splits")
        parts = splits(data, config_name or "default")
    elif isinstance(data, Mapping):
        if config_name is not None:
            raise ValueError("config_name= does not apply to a mapping: its keys are the configuration names")
        if not data:
            raise ValueError("nothing to save: the mapping is empty")
        parts = [p for name, value in data.items() for p in splits(value, str(name))]
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        if not data:
            raise ValueError("nothing to save: the list is empty")
        if config_name is not None:
            raise ValueError("config_name= does not apply to a list: each selection is named after its method")
        if not all(_is_selection(s) for s in data):
            raise TypeError(
                "a list must hold selections (named after their mining methods); give datasets names with a dict "
                "{name: dataset}"
            )
        parts = [one(s, config_name_of(s), split or "train") for s in data]
    else:
        raise TypeError(
            "expected a Selection, a datasets.Dataset or DatasetDict, a list of selections, or a dict "
            f"{{configuration: set}}; got {type(data).__name__}"
        )
    _check_names(parts)
    return parts


def _is_selection(value: Any) -> bool:
    return all(hasattr(value, a) for a in ("dataset", "statistics", "settings", "context"))


def _check_names(parts: list[HubPart]) -> None:
    seen: set[str] = set()
    for part in parts:
        if not _CONFIG.match(part.config) or part.config == "data":
            raise ValueError(
                f"configuration name {part.config!r}: use letters, digits, '_', '.' and '-' (not 'data', which "
                "datasets reserves for the default configuration's folder)"
            )
        if not _SPLIT.match(part.split):
            raise ValueError(f"split name {part.split!r}: use letters, digits and '_' (datasets' rule)")
        if part.key in seen:
            raise ValueError(
                f"{part.key} is given twice (two selections with the same mining method?); name the "
                "configurations with a dict {name: selection}"
            )
        seen.add(part.key)
