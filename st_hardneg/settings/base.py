"""The settings contract: frozen dataclasses whose fields carry their help text, validated on creation.

Every configurable part of st-hardneg (building a pool, selecting negatives, a dense teacher, ECI) has one settings
dataclass. It is the single source of the option's name, default, help text and validation: the public functions
accept the fields as keyword arguments (turned into settings by :meth:`Settings.from_kwargs`, the one place that
does so), the command line is generated from the fields (:mod:`st_hardneg.cli.options`), and ``to_dict`` is what
``mining.json``, the pool's history and dataset cards record.

Fields are declared with :func:`option`, which stores the help text (and, where useful, the command-line choices and
a parser for the command-line string) in the field's metadata, as ``SentenceTransformerTrainingArguments`` does for
``HfArgumentParser``.

Examples:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Demo(Settings):
    ...     size: int = option(3, "how many")
    ...     def __post_init__(self):
    ...         check_int("size", self.size, minimum=1)
    >>> Demo.from_kwargs(size=5)
    Demo(size=5)
    >>> Demo(size=0)
    Traceback (most recent call last):
    ...
    ValueError: size must be a whole number >= 1, got 0
    >>> Demo.from_kwargs(sise=5)
    Traceback (most recent call last):
    ...
    TypeError: unknown option 'sise' for Demo; did you mean 'size'? Options: size
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

S = TypeVar("S", bound="Settings")

__all__ = [
    "DEFAULT_SEED",
    "Settings",
    "check_choice",
    "check_columns",
    "check_float",
    "check_int",
    "document_options",
    "option",
    "options_doc",
    "split_kwargs",
]

#: The seed of every random draw unless one is given (pool fill documents, sampling, ARHN's prompt positions).
DEFAULT_SEED = 42


def option(
    default: Any,
    help: str,
    *,
    choices: Iterable[str] | None = None,
    parse: Callable[[str], Any] | None = None,
    cli: bool = True,
    cli_name: str | None = None,
    metavar: str | None = None,
    multiple: bool = False,
) -> Any:
    """A settings field with its help text.

    Args:
        default: the default value (immutable: settings are frozen).
        help: one sentence for ``--help`` and the docs.
        choices: the allowed strings, shown on the command line.
        parse: turns the command-line string into the value (e.g. a mining method from ``"topk-percpos:0.95"``).
        cli: whether the command line offers this field.
        cli_name: the option's name on the command line, when it is not the field name with dashes.
        metavar: the placeholder shown in ``--help``.
        multiple: the command line takes the option several times (``--select-teacher a --select-teacher b``);
            the field then holds a tuple of the values.
    """
    metadata = {"help": help, "choices": tuple(choices) if choices is not None else None, "parse": parse}
    metadata.update({"cli": cli, "cli_name": cli_name, "metavar": metavar, "multiple": multiple})
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Base class of st-hardneg's settings dataclasses (frozen; validated in ``__post_init__``)."""

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_kwargs(cls: type[S], settings: S | None = None, /, **kwargs: Any) -> S:
        """Settings from keyword arguments, on top of ``settings`` (or the defaults).

        This is the one place where the public functions' keyword arguments become settings: unknown names raise a
        ``TypeError`` that suggests the closest option.
        """
        if settings is not None and not isinstance(settings, cls):
            raise TypeError(f"settings must be {cls.__name__}, got {type(settings).__name__}")
        _reject_unknown(cls, kwargs)
        if settings is None:
            return cls(**kwargs)
        return dataclasses.replace(settings, **kwargs) if kwargs else settings

    def replace(self: S, **changes: Any) -> S:
        """A copy with some fields changed (validated again)."""
        _reject_unknown(type(self), changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values of every field; objects with a ``to_dict`` (mining methods) are expanded."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[S], values: Mapping[str, Any]) -> S:
        """The settings ``to_dict`` wrote (unknown keys raise, so a typo in a config file is not ignored)."""
        if not isinstance(values, Mapping):
            raise TypeError(f"{cls.__name__}.from_dict needs a mapping, got {type(values).__name__}")
        _reject_unknown(cls, values)
        return cls(**dict(values))


def options_doc(*classes: type[Settings], indent: int = 8) -> str:
    """The fields of ``classes`` as Google-style argument lines (name, default, help), for docstrings."""
    pad = " " * indent
    lines = []
    for cls in classes:
        for f in dataclasses.fields(cls):
            default = f.default.to_dict() if hasattr(f.default, "to_dict") else f.default
            text = f.metadata.get("help", "").rstrip(".")
            lines.append(f"{pad}{f.name}: {text}. Default: ``{default!r}`` ({cls.__name__}).")
    return "\n".join(lines)


def document_options(*classes: type[Settings]) -> Callable[[Callable], Callable]:
    """Decorator: replace ``{options}`` in a function's docstring by :func:`options_doc` of ``classes``."""

    def decorate(fn: Callable) -> Callable:
        if fn.__doc__ and "{options}" in fn.__doc__:
            fn.__doc__ = fn.__doc__.replace("{options}", options_doc(*classes, indent=12).lstrip())
        return fn

    return decorate


def split_kwargs(kwargs: Mapping[str, Any], *classes: type[Settings], shared: Iterable[str] = ()) -> list[dict]:
    """Share keyword arguments out among settings classes by field name.

    A name in ``shared`` goes to every class that has the field; any other name must belong to exactly one class.
    Unknown names raise a ``TypeError`` naming the closest option of any class.
    """
    shared = set(shared)
    out: list[dict[str, Any]] = [{} for _ in classes]
    for key, value in kwargs.items():
        owners = [i for i, c in enumerate(classes) if key in c.field_names()]
        if not owners:
            names = sorted({n for c in classes for n in c.field_names()})
            raise TypeError(_unknown_message(key, names, " or ".join(c.__name__ for c in classes)))
        for i in owners if key in shared else owners[:1]:
            out[i][key] = value
    return out


def _reject_unknown(cls: type[Settings], values: Iterable[str]) -> None:
    names = cls.field_names()
    for key in values:
        if key not in names:
            raise TypeError(_unknown_message(key, names, cls.__name__))


def _unknown_message(key: str, names: list[str], owner: str) -> str:
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "."
    return f"unknown option {key!r} for {owner}{hint} Options: {', '.join(names)}"


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------------- validators
def check_int(name: str, value: Any, *, minimum: int | None = None, optional: bool = False) -> None:
    """Raise unless ``value`` is a whole number (not a bool) at least ``minimum`` (or None when ``optional``)."""
    if value is None and optional:
        return
    bound = "" if minimum is None else f" >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, int) and not _is_numpy_int(value):
        raise TypeError(f"{name} must be a whole number{bound}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be a whole number{bound}, got {value!r}")


def check_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
    optional: bool = False,
) -> None:
    """Raise unless ``value`` is a finite number within the bounds (``strict_minimum``: above, not at, minimum)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not _is_numpy_number(value):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if minimum is not None and (value <= minimum if strict_minimum else value < minimum):
        raise ValueError(f"{name} must be {'>' if strict_minimum else '>='} {minimum:g}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum:g}, got {value!r}")


def check_columns(anchor_column: Any, positive_column: Any) -> None:
    """Raise unless both column names are None or non-empty strings, and not the same column."""
    for name, value in (("anchor_column", anchor_column), ("positive_column", positive_column)):
        if value is not None and (not isinstance(value, str) or not value):
            raise TypeError(f"{name} must be a column name, got {value!r}")
    if anchor_column is not None and anchor_column == positive_column:
        raise ValueError(f"anchor_column and positive_column must differ; both are {anchor_column!r}")


def check_choice(name: str, value: Any, choices: Iterable[Any], *, optional: bool = False) -> None:
    """Raise unless ``value`` is one of ``choices`` (or None when ``optional``), naming the choices."""
    choices = tuple(choices)
    if value is None and optional:
        return
    if value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}{hint}")


def _is_numpy_int(value: Any) -> bool:
    import numpy as np

    return isinstance(value, np.integer)


def _is_numpy_number(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (np.integer, np.floating))
