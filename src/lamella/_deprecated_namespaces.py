"""Old namespaces (`ln.core.datasets`, `ln.dev.datasets`) that point at `ln.examples`."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from lamella import examples


def _namespace(old: str) -> Any:

    return SimpleNamespace(datasets=examples.datasets)


def __getattr__(name: str) -> Any:
    if name in ("core", "dev"):
        return _namespace(name)
    raise AttributeError(name)
