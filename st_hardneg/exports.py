"""The one export style of the package's ``__init__.py`` files: public names load their module on first use.

A package's ``__init__`` is its public face: it names things from any layer, lazily, so importing a package is
cheap and never imports a higher layer by itself. Modules inside ``st_hardneg`` import from the defining module,
never from a package ``__init__`` (``tests/test_architecture.py``).

Examples:
    >>> __all__, __getattr__, __dir__ = lazy_exports("st_hardneg.example", {"combine": "st_hardneg.keyed_random"})
    >>> __all__, __getattr__("combine").__name__
    (['combine'], 'combine')
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], *, extra: tuple[str, ...] = ()
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``(__all__, __getattr__, __dir__)`` for a package exporting ``{name: defining module}`` (and ``extra``
    names it defines itself)."""
    names = sorted({*exports, *extra})

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return list(names)

    return names, __getattr__, __dir__
