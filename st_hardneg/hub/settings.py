"""What a Hub card says about the data beyond how it was mined: :class:`CardSettings`.

:func:`~st_hardneg.hub.save_for_hub`, :func:`~st_hardneg.hub.push_to_hub`, ``pool.push_to_hub``,
:class:`~st_hardneg.hub.MinedDatasetCard` and :class:`~st_hardneg.hub.PoolCard` take these fields as keyword
arguments or a ``card=`` object; the command's ``--license``, ``--language``, ... are generated from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from st_hardneg.settings.base import Settings, option

__all__ = ["CardSettings"]

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _names(text: str) -> tuple[str, ...]:
    """``"en,fr"`` -> ``("en", "fr")`` (the command's form of a list)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class CardSettings(Settings):
    """Card metadata passed through to the Hub (the mining record itself comes from the selection).

    Examples:
        >>> CardSettings(license="cc-by-4.0", language="en").language
        ('en',)
        >>> CardSettings(source_datasets=("scifact",))
        Traceback (most recent call last):
        ...
        ValueError: source_datasets: 'scifact' is not a Hub dataset id ('namespace/name')
    """

    license: str | None = option(
        None,
        "the card's license id (default: apache-2.0 for the embedded example, else 'unknown': the source's license "
        "applies)",
        metavar="ID",
    )
    language: tuple[str, ...] = option(
        (), "language codes of the texts, comma-separated", parse=_names, metavar="CODES"
    )
    source_datasets: tuple[str, ...] = option(
        (), "Hub ids of the data the pairs came from, comma-separated", parse=_names, metavar="IDS"
    )
    tags: tuple[str, ...] = option((), "more Hub tags, comma-separated", parse=_names, metavar="TAGS")
    pretty_name: str | None = option(
        None, "the card's title (default: from the source and the methods)", metavar="TEXT"
    )

    def __post_init__(self) -> None:
        for name in ("license", "pretty_name"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise TypeError(f"{name} must be a non-empty string, got {value!r}")
        for name in ("language", "source_datasets", "tags"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) and v for v in value):
                raise TypeError(f"{name} must be a list of non-empty strings, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        for value in self.source_datasets:
            if not _HUB_ID.match(value):
                raise ValueError(f"source_datasets: {value!r} is not a Hub dataset id ('namespace/name')")
