"""Name the kind of an in-memory object without importing the library that defines it."""

from __future__ import annotations

from typing import Any

__all__ = ["otype_of"]

# (top-level module, class name) -> otype; matched along the MRO so subclasses count too
_KNOWN: dict[tuple[str, str], str] = {
    ("pandas", "DataFrame"): "DataFrame",
    ("anndata", "AnnData"): "AnnData",
    ("mudata", "MuData"): "MuData",
}


def otype_of(obj: Any) -> str | None:
    """`"DataFrame"`, `"AnnData"`, `"MuData"`, or None for anything else.

    Looks at class names and modules rather than using isinstance, so that asking about a dict
    does not import pandas and anndata.
    """
    for cls in type(obj).__mro__:
        package = cls.__module__.partition(".")[0]
        otype = _KNOWN.get((package, cls.__name__))
        if otype is not None:
            return otype
    return None
