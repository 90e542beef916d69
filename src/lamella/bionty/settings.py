"""`bt.settings`: the organism genes, proteins and cell markers default to."""

from __future__ import annotations

from typing import Any

from lamella._instance import state
from lamella.errors import InvalidArgument


def _values() -> dict[str, Any]:
    # kept in the process state, so that forgetting the process (tests, a new connection) forgets it
    return state.process.module_caches.setdefault("bionty_settings", {})


class BiontySettings:
    """`bt.settings.organism = "human"`: the organism of `bt.Gene.from_values(...)` and friends."""

    @property
    def organism(self) -> str | None:
        return _values().get("organism")

    @organism.setter
    def organism(self, value: Any) -> None:
        name = getattr(value, "name", value)
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise InvalidArgument(
                f"bt.settings.organism takes an organism name such as 'human', not {value!r}"
            )
        _values()["organism"] = name.strip() if isinstance(name, str) else None

    def __repr__(self) -> str:
        return f"BiontySettings(organism={self.organism!r})"


settings = BiontySettings()
