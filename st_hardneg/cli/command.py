"""The ``st-hardneg`` command: ``main``, the sub-commands, and how a user error is reported.

``st-hardneg [mine] [DATASET] [options]`` mines hard negatives (the default command; with no dataset it mines the
embedded example); ``st-hardneg sweep`` scores mining configurations with ECI before training
(:mod:`st_hardneg.cli.sweep`). Further commands register in :data:`COMMANDS`. Options are generated from the settings
dataclasses (:mod:`st_hardneg.cli.options`); every mistake on the command line is one line on stderr and exit
status 2, found before any model is loaded or any file written.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence

from st_hardneg.teachers.loading import ModelNotAvailableError

logger = logging.getLogger("st_hardneg")

__all__ = ["COMMANDS", "main", "run_command"]

#: Sub-command name -> module with ``build_parser()`` and ``run(args, parser, argv)``; the first is the default.
COMMANDS: dict[str, str] = {
    "mine": "st_hardneg.cli.mine",
    "relabel": "st_hardneg.cli.relabel",  # ARHN judgments of a saved pool (st_hardneg.relabel)
    "sweep": "st_hardneg.cli.sweep",  # every configuration of a pool scored with ECI before training
}

#: Exceptions that mean "the user's input is wrong": reported as one line, exit status 2.
USER_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    FileNotFoundError,
    FileExistsError,
    NotADirectoryError,
    ImportError,
    ModelNotAvailableError,  # a model neither on this machine nor reachable on the Hub
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _refuse_mistyped_command(argv)
    name = argv[0] if argv and argv[0] in COMMANDS else next(iter(COMMANDS))
    if argv and argv[0] == name:
        argv = argv[1:]
    module = importlib.import_module(COMMANDS[name])
    parser = module.build_parser()
    args = parser.parse_args(argv)
    return run_command(lambda: module.run(args, parser, argv), parser, verbose=getattr(args, "verbose", False))


def _refuse_mistyped_command(argv: list[str]) -> None:
    """``st-hardneg swep ...``: a first word close to a command's name, and no such file, is a typo, not a dataset."""
    if not argv or argv[0] in COMMANDS or argv[0].startswith("-") or os.path.exists(argv[0]):
        return
    close = difflib.get_close_matches(argv[0], list(COMMANDS), n=1, cutoff=0.75)
    if close:
        sys.stderr.write(f"st-hardneg: error: no command or file {argv[0]!r}; did you mean {close[0]}?\n")
        raise SystemExit(2)


def run_command(fn: Callable[[], int], parser: argparse.ArgumentParser, *, verbose: bool = False) -> int:
    """Run a command; a user error becomes ``prog: error: message`` on stderr and exit status 2."""
    try:
        return fn()
    except USER_ERRORS as err:
        if verbose:
            logger.exception("Traceback of the error below")
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        parser.exit(2, f"{parser.prog}: error: {message}\n")
    except KeyboardInterrupt:
        parser.exit(130, f"{parser.prog}: interrupted\n")
    return 0
