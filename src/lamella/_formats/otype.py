"""Name the kind of an in-memory object without importing the library that defines it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["otype_of", "type_key", "type_keys"]

# "package.ClassName" -> otype; matched along the MRO so subclasses count too
_KNOWN: dict[str, str] = {
    "pandas.DataFrame": "DataFrame",
    "anndata.AnnData": "AnnData",
    "mudata.MuData": "MuData",
}


def type_key(cls: type) -> str:
    """`"pandas.DataFrame"` for `pandas.core.frame.DataFrame`: top-level package and class name.

    The top-level package rather than the defining module, because libraries move classes between
    private submodules across versions.
    """
    return f"{cls.__module__.partition('.')[0]}.{cls.__name__}"


def type_keys(obj: Any) -> Iterator[str]:
    """The `type_key` of each class along the MRO of `obj`'s type, most specific first.

    Class names and modules rather than isinstance, so that asking about a dict does not import
    pandas and anndata.
    """
    for cls in type(obj).__mro__:
        yield type_key(cls)


def otype_of(obj: Any) -> str | None:
    """`"DataFrame"`, `"AnnData"`, `"MuData"`, or None for anything else."""
    for key in type_keys(obj):
        otype = _KNOWN.get(key)
        if otype is not None:
            return otype
    return None
