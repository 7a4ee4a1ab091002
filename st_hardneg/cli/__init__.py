"""The ``st-hardneg`` command (:mod:`.command`: ``main``, the sub-commands and how errors are reported).

``st-hardneg [mine] [DATASET] [options]`` mines hard negatives (the default command; with no dataset it mines the
embedded example); ``st-hardneg sweep`` scores mining configurations with ECI before training
(:mod:`st_hardneg.cli.sweep`); ``st-hardneg relabel`` judges a saved pool with ARHN. Names load on first use.
"""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "COMMANDS": "st_hardneg.cli.command",
        "USER_ERRORS": "st_hardneg.cli.command",
        "held_info": "st_hardneg.cli.options",
        "main": "st_hardneg.cli.command",
        "quiet_progress_bars": "st_hardneg.cli.options",
        "run_command": "st_hardneg.cli.command",
    },
)
