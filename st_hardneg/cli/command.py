"""The ``st-hardneg`` command: ``main``, the sub-commands, and how a user error is reported.

``st-hardneg [mine] [DATASET] [options]`` mines hard negatives (the default command; with no dataset it mines the
embedded example); ``st-hardneg sweep`` scores mining configurations with ECI before training
(:mod:`st_hardneg.cli.sweep`). Further commands register in :data:`COMMANDS`. Options are generated from the settings
dataclasses (:mod:`st_hardneg.cli.options`); every mistake on the command line is one line on stderr and exit
status 2, found before any model is loaded or any file written.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

logger = logging.getLogger("st_hardneg")

__all__ = ["COMMANDS", "main", "run_command"]

#: Sub-command name -> module with ``build_parser()`` and ``run(args, parser, argv)``; the first is the default.
COMMANDS: dict[str, str] = {
    "mine": "st_hardneg.cli.mine",
    "relabel": "st_hardneg.cli.relabel",  # ARHN judgments of a saved pool (st_hardneg.relabel)
    "sweep": "st_hardneg.cli.sweep",  # every configuration of a pool scored with ECI before training
}

#: Exceptions that mean "the user's input is wrong": reported as one line, exit status 2.
USER_ERRORS = (ValueError, TypeError, KeyError, FileNotFoundError, FileExistsError, NotADirectoryError, ImportError)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv[0] if argv and argv[0] in COMMANDS else next(iter(COMMANDS))
    if argv and argv[0] == name:
        argv = argv[1:]
    module = importlib.import_module(COMMANDS[name])
    parser = module.build_parser()
    args = parser.parse_args(argv)
    return run_command(lambda: module.run(args, parser, argv), parser, verbose=getattr(args, "verbose", False))


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
