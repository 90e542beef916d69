"""Calls a lower layer makes into a higher one: declared here, filled by the facade.

Layers import only downward. Two calls must still go up: connecting on first use (the current
instance lives in `_instance`, connecting is the setup layer's job) and the curator behind
`Artifact.from_dataframe(..., schema=)` (registries sit below curators). The lower layer calls the
hook; `lamella/__init__.py` fills it with a function that imports the higher layer when first called,
so `import lamella` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lamella.errors import NotConnected

if TYPE_CHECKING:
    from lamella._instance.state import Instance


def _unfilled(name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        raise NotConnected(
            f"lamella's {name!r} hook is not filled: import lamella (the package), not one of its modules"
        )

    return call


@dataclass
class Hooks:
    # connect to the current instance, creating the default one if there is none
    connect: Callable[[], Instance]
    # the curator class of that name (`DataFrameCurator`, `AnnDataCurator`, ...)
    curator: Callable[[str], type]


hooks = Hooks(connect=_unfilled("connect"), curator=_unfilled("curator"))
