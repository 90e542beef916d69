"""Old namespaces: `ln.core` and `ln.dev` (LaminDB 0.x) with `datasets` (today `ln.examples.datasets`)
and `run_context` (today `ln.context`). Looking the namespace up is silent; each name read from it
warns with today's spelling at the user's line."""

from __future__ import annotations

from typing import Any

from lamella import examples
from lamella._query.legacy_lookups import warn_legacy
from lamella._tracking import context

# old name in the namespace -> (today's spelling, the object)
_NAMES: dict[str, tuple[str, Any]] = {
    "datasets": ("ln.examples.datasets", examples.datasets),
    "run_context": ("ln.context", context),
}


class OldNamespace:
    """`ln.core` or `ln.dev`."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, name: str) -> Any:
        found = _NAMES.get(name)
        if found is None:
            raise AttributeError(
                f"ln.{self._name} has no {name!r}; it keeps only {', '.join(f'ln.{self._name}.{n}' for n in _NAMES)}"
            )
        today, value = found
        warn_legacy(f"ln.{self._name}.{name}", today)
        return value

    def __dir__(self) -> list[str]:
        return sorted(_NAMES)

    def __repr__(self) -> str:
        return f"<ln.{self._name}: a namespace of LaminDB 0.x; today ln.examples and ln.context>"


core = OldNamespace("core")
dev = OldNamespace("dev")
