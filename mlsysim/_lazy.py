"""Lazy public names for package ``__init__`` modules (PEP 562), so importing does no work.

    __getattr__, __dir__ = lazy_exports(__name__, globals(), {"fmt": "mlsysim.viz.formatting"})

The first access to a name imports its module and caches the value in the package namespace,
so later look-ups skip the hook.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str,
    namespace: dict[str, Any],
    exports: Mapping[str, str | tuple[str, str]],
    subpackages: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``.

    ``exports`` maps a public name to its module (same attribute name) or to ``(module,
    attribute)``; ``subpackages`` are imported as ``package.<name>``. ``__dir__`` lists
    ``__all__`` from ``namespace`` (else the exports and subpackages).
    """
    subpackages = tuple(subpackages)

    def __getattr__(name: str) -> Any:
        if name in exports:
            target = exports[name]
            module, attribute = (target, name) if isinstance(target, str) else target
            value = getattr(importlib.import_module(module), attribute)
            namespace[name] = value
            return value
        if name in subpackages:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(namespace.get("__all__", [*exports, *subpackages]))

    return __getattr__, __dir__
