"""Command-line options generated from settings dataclasses, as ``HfArgumentParser`` does for
``SentenceTransformerTrainingArguments``: the API and the command cannot drift apart.

Each field of a :class:`~st_hardneg.settings.base.Settings` class becomes ``--field-name`` (or its ``cli_name``),
with the field's help text and default, its choices, and its parser (a mining method from ``"topk-percpos:0.95"``);
booleans become ``--flag`` / ``--no-flag``; a field declared ``multiple`` is given once per value
(``--select-teacher a --select-teacher b``). A field shared by two classes (``seed``) is one option that sets both.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import logging
import logging.handlers
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from st_hardneg.settings.base import Settings

__all__ = [
    "OneLineParser",
    "add_dataset_argument",
    "command_parser",
    "add_settings_groups",
    "add_settings_options",
    "given_options",
    "held_info",
    "log_as_asked",
    "quiet_progress_bars",
    "settings_from_args",
]


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (``prog: error: ...``) and exit status 2, without the usage;
    a mistyped option gets a "did you mean" (as ``suggest_on_error`` does from Python 3.14)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message}{self._suggestion(message)} (see {self.prog} --help)\n")

    def _suggestion(self, message: str) -> str:
        prefix = "unrecognized arguments: "
        if not message.startswith(prefix):
            return ""
        options = [o for o in self._option_string_actions if o.startswith("--")]
        hints = {}
        for token in message[len(prefix) :].split():
            name = token.split("=", 1)[0]
            close = difflib.get_close_matches(name, options, n=1, cutoff=0.6) if name.startswith("--") else []
            if close:
                hints[name] = close[0]
        if len(hints) == 1:
            return f"; did you mean {next(iter(hints.values()))}?"
        return "; did you mean " + ", ".join(f"{v} (for {k})" for k, v in hints.items()) + "?" if hints else ""


def add_settings_options(
    parser: argparse.ArgumentParser, cls: type[Settings], *, title: str | None = None, exclude: Iterable[str] = ()
) -> None:
    """Add one option per command-line field of ``cls`` (in a group titled ``title``); skip names already added."""
    exclude = set(exclude)
    group = parser.add_argument_group(title or cls.__name__, _plain_text((cls.__doc__ or "").strip().splitlines()[0]))
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.metadata.get("cli", True) or f.name in exclude:
            continue
        flag = "--" + (f.metadata.get("cli_name") or f.name.replace("_", "-"))
        if flag in parser._option_string_actions:
            existing = parser._option_string_actions[flag]
            if existing.default != f.default:
                raise ValueError(f"{flag} is shared by two settings classes with different defaults")
            continue
        base = _base_type(hints[f.name])
        help_text = f.metadata.get("help", "")
        if "default" not in help_text:
            help_text += f" (default: {_show(f.default)})"
        kwargs: dict[str, Any] = {"dest": option_dest(f), "default": f.default, "help": help_text}
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif f.metadata.get("multiple"):
            # Given several times, the values collect in a list (the field's default must be None: argparse appends
            # to a non-None default instead of replacing it).
            kwargs.update(action="append", type=_argument_type(f.metadata.get("parse") or str, f.name))
            for key in ("choices", "metavar"):
                if f.metadata.get(key):
                    kwargs[key] = f.metadata[key]
        else:
            kwargs["type"] = _argument_type(f.metadata.get("parse") or base, f.name)
            if f.metadata.get("choices"):
                kwargs["choices"] = f.metadata["choices"]
            if f.metadata.get("metavar"):
                kwargs["metavar"] = f.metadata["metavar"]
        group.add_argument(flag, **kwargs)


def command_parser(prog: str, description: str, *, usage: str | None = None) -> OneLineParser:
    """A sub-command's parser: errors on one line, no abbreviated options."""
    return OneLineParser(prog=prog, usage=usage, description=description, allow_abbrev=False)


def add_settings_groups(parser: argparse.ArgumentParser, groups: Sequence[tuple[type[Settings], str]]) -> None:
    """One option group per ``(settings class, title)``, in order (:func:`add_settings_options`)."""
    for cls, title in groups:
        add_settings_options(parser, cls, title=title)


def add_dataset_argument(parser: argparse.ArgumentParser) -> None:
    """The optional positional ``dataset`` the mining commands share."""
    parser.add_argument(
        "dataset",
        nargs="?",
        help="json/jsonl/csv/parquet file, saved dataset or BEIR folder; default: the embedded example",
    )


def log_as_asked(args: argparse.Namespace) -> None:
    """Log level from ``--verbose`` (debug) and ``--quiet`` (warnings only); info otherwise."""
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")


def settings_from_args(cls: type[Settings], args: argparse.Namespace) -> Settings:
    """The settings the parsed options describe (validated by the class)."""
    values = {f.name: getattr(args, option_dest(f)) for f in dataclasses.fields(cls) if hasattr(args, option_dest(f))}
    return cls(**values)


def option_dest(f: dataclasses.Field) -> str:
    """Where argparse stores a field: its command-line name with underscores (unique across the command)."""
    return (f.metadata.get("cli_name") or f.name).replace("-", "_")


def given_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The destinations of the options written on the command line (not left at their defaults)."""
    given = set()
    for token in argv:
        if token.startswith("--"):
            action = parser._option_string_actions.get(token.split("=", 1)[0])
            if action is not None:
                given.add(action.dest)
    return given


def _base_type(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        return members[0] if len(members) == 1 else str
    return hint if isinstance(hint, type) else str


def _argument_type(parse: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except (TypeError, ValueError) as err:
            if parse in (int, float):
                kind = "a whole number" if parse is int else "a number"
                raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = name
    return convert


def _plain_text(text: str) -> str:
    """Docstring text without Sphinx roles: ``:meth:`~a.b.C.d``` -> ``C.d``."""
    return re.sub(r":\w+:`~?([\w.]+)`", lambda m: ".".join(m.group(1).split(".")[-2:]), text).replace("``", "")


def _show(value: Any) -> str:
    if hasattr(value, "spec"):
        return value.spec
    return repr(value) if isinstance(value, str) else str(value)


def quiet_progress_bars() -> None:
    """Silence every progress bar st-hardneg's dependencies draw (datasets, huggingface_hub, transformers)."""
    import datasets
    import huggingface_hub.utils

    datasets.disable_progress_bars()
    huggingface_hub.utils.disable_progress_bars()
    try:
        import transformers

        transformers.utils.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass


@contextlib.contextmanager
def held_info() -> Iterator[None]:
    """Hold the log records (and the ``datasets`` progress bars) of a step that may end in a user error: when it
    succeeds they are written as usual, when it fails only its warnings are, so a data error stays one line."""
    import datasets

    root = logging.getLogger()
    handlers = root.handlers[:]
    held = logging.handlers.BufferingHandler(capacity=1 << 30)
    root.handlers = [held]
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        root.handlers = handlers
        if bars:
            datasets.enable_progress_bars()
        for record in held.buffer:
            if not failed or record.levelno >= logging.WARNING:
                for handler in handlers:
                    if record.levelno >= handler.level:
                        handler.handle(record)
