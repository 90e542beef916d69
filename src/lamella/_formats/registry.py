"""The table of formats: which function loads or opens a file, looked up by its suffix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lamella.errors import InvalidArgument

__all__ = ["Format", "find_format", "known_suffixes", "normalize_suffix", "register_format"]


@dataclass(frozen=True)
class Format:
    """How one suffix is read: `load` into memory, `open` for streaming, and the type it yields."""

    suffix: str
    load: Callable[..., Any] | None = None
    open: Callable[..., Any] | None = None
    otype: str | None = None


_FORMATS: dict[str, Format] = {}


def normalize_suffix(suffix: str) -> str:
    """`"CSV"`, `".csv"` and `".Csv"` all name the same format."""
    if not isinstance(suffix, str):
        raise InvalidArgument(f"a suffix must be a string like '.csv', got {suffix!r}")
    suffix = suffix.strip().lower()
    if suffix and not suffix.startswith("."):
        suffix = "." + suffix
    return suffix


def register_format(
    suffixes: Sequence[str],
    *,
    load: Callable[..., Any] | None = None,
    open: Callable[..., Any] | None = None,
    otype: str | None = None,
) -> None:
    """Teach Lamella to read files with the given suffixes.

    `load(local_path, **kwargs)` returns the in-memory object; `open(path, filesystem=None, **kwargs)`
    returns an object that streams from the file. Registering a suffix again replaces only what is
    passed, so a loader can be added to a format that already has an opener (and vice versa).

        >>> register_format([".npy"], load=numpy.load)
    """
    _ensure_builtins()
    if isinstance(suffixes, str):
        # a bare string would otherwise be split into characters
        suffixes = [suffixes]
    if load is None and open is None:
        raise InvalidArgument(
            f"register_format({list(suffixes)!r}) needs a load= or an open= function; pass at least one"
        )
    for function, name in ((load, "load"), (open, "open")):
        if function is not None and not callable(function):
            raise InvalidArgument(f"{name}= must be callable, got {function!r}")
    normalized = [normalize_suffix(raw) for raw in suffixes]
    if not normalized or "" in normalized:
        # checked before registering anything so that a bad call leaves the table unchanged
        raise InvalidArgument(f"cannot register the suffixes {list(suffixes)!r}; pass suffixes like '.csv'")
    for suffix in normalized:
        current = _FORMATS.get(suffix, Format(suffix))
        changes: dict[str, Any] = {}
        if load is not None:
            changes["load"] = load
        if open is not None:
            changes["open"] = open
        if otype is not None:
            changes["otype"] = otype
        _FORMATS[suffix] = replace(current, **changes)


def find_format(suffix: str) -> Format | None:
    """The format for `suffix`, falling back to its shorter endings (`.x.csv.gz` -> `.csv.gz` -> `.gz`)."""
    _ensure_builtins()
    suffix = normalize_suffix(suffix)
    while suffix:
        found = _FORMATS.get(suffix)
        if found is not None:
            return found
        # drop the leftmost part: ".anndata.zarr" -> ".zarr"
        cut = suffix.find(".", 1)
        suffix = suffix[cut:] if cut > 0 else ""
    return None


def known_suffixes() -> list[Format]:
    _ensure_builtins()
    return [_FORMATS[suffix] for suffix in sorted(_FORMATS)]


_builtins_registered = False


def _ensure_builtins() -> None:
    # built-ins are registered on first use, not at import, so that importing this package stays
    # cheap; register_format calls this first, so a user's registration always wins over a built-in
    global _builtins_registered
    if _builtins_registered:
        return
    _builtins_registered = True
    from lamella._formats import builtin

    builtin.register_builtins()
