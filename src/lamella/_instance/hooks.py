"""Calls a lower layer makes into a higher one: declared here, filled by the facade.

Layers import only downward. Three calls must still go up: connecting on first use (the current
instance lives in `_instance`, connecting is the setup layer's job), opening another instance to read
(`ln.Artifact.using("name")`, the same job) and the curator behind
`Artifact.from_dataframe(..., schema=)` (registries sit below curators). The lower layer calls the
hook; `lamella/__init__.py` fills it with a function that imports the higher layer when first called,
so `import lamella` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lamella.errors import NotConnected

if TYPE_CHECKING:
    from lamella._instance.state import Instance


def _unfilled(name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        raise NotConnected(
            f"lamella's {name!r} hook is not set: lamella/__init__.py sets it when the package is imported"
        )

    return call


class Hooks:
    """The upward calls; a plain class, since `import lamella` imports this module (no dataclasses)."""

    def __init__(self) -> None:
        # connect to the current instance, creating the default one if there is none
        self.connect: Callable[[], Instance] = _unfilled("connect")
        # open another instance registered on this machine read-only, by name or "owner/name" (the
        # connected instance itself when it is the one named); never changes the connection
        self.open_other: Callable[[str], Instance] = _unfilled("open_other")
        # the curator class of that name (`DataFrameCurator`, `AnnDataCurator`, ...)
        self.curator: Callable[[str], type] = _unfilled("curator")


hooks = Hooks()
