"""The table of formats: how a file is read, looked up by its suffix, and written, looked up by type.

This module holds the table and its lookups only; the built-in formats are registered into it by
`lamella._formats.builtin` when the package is imported, so this module never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from lamella._formats.otype import type_key, type_keys
from lamella.errors import InvalidArgument

__all__ = [
    "Format",
    "Writer",
    "find_format",
    "find_stream_writer",
    "find_writer",
    "known_suffixes",
    "normalize_suffix",
    "register_format",
]

Writer = Callable[[Any, Path], None]
# writes an object into a binary file object, sequentially (no seek, no read back)
StreamWriter = Callable[[Any, BinaryIO], None]


@dataclass(frozen=True)
class Format:
    """One suffix: `load` it into memory, `open` it for streaming, `write` objects of `types` to it."""

    suffix: str
    load: Callable[..., Any] | None = None
    open: Callable[..., Any] | None = None
    otype: str | None = None
    write: Writer | None = None
    types: tuple[str, ...] = ()
    """What `write` accepts, as `"package.ClassName"`: `"pandas.DataFrame"`, `"builtins.dict"`."""
    stream: StreamWriter | None = None
    """`write` into a binary file object from front to back: lets a save hash the bytes as they are
    written and upload them without a local file."""

    @property
    def name(self) -> str:
        """What `format=` calls it: `".anndata.zarr"` -> `"anndata.zarr"`."""
        return self.suffix[1:]


_FORMATS: dict[str, Format] = {}
# type -> suffix it is written with when no format= is given; a type without an entry gets the
# first format registered for it
_DEFAULTS: dict[str, str] = {}


def normalize_suffix(suffix: str) -> str:
    """`"CSV"`, `".csv"` and `".Csv"` all name the same format."""
    if not isinstance(suffix, str):
        raise InvalidArgument(f"a suffix must be a string like '.csv', got {suffix!r}")
    suffix = suffix.strip().lower()
    if suffix and not suffix.startswith("."):
        suffix = "." + suffix
    return suffix


def _normalize_type(value: type | str) -> str:
    if isinstance(value, type):
        return type_key(value)
    module, _, name = value.rpartition(".") if isinstance(value, str) else ("", "", "")
    if not module or not name:
        raise InvalidArgument(
            f"cannot register a writer for {value!r}; name the type it writes as a class or as "
            "'package.ClassName', e.g. 'pandas.DataFrame' or 'builtins.dict'"
        )
    return f"{module.partition('.')[0]}.{name}"


def register_format(
    suffixes: Sequence[str],
    *,
    load: Callable[..., Any] | None = None,
    open: Callable[..., Any] | None = None,
    otype: str | None = None,
    write: Writer | None = None,
    types: Sequence[type | str] = (),
    default: bool = False,
    stream: StreamWriter | None = None,
) -> None:
    """Teach Lamella to read, or write, files with the given suffixes.

    `load(local_path, **kwargs)` returns the in-memory object; `open(path, filesystem=None, **kwargs)`
    returns an object that streams from the file; `write(obj, local_path)` writes an object of one
    of `types` (classes, or names like `"pandas.DataFrame"`; subclasses count too). With
    `default=True` the first suffix is what those types are written as unless `format=` says
    otherwise. Registering a suffix again replaces only what is passed, so a loader can be added to
    a format that already has an opener (and vice versa); `write`, `types` and `stream` are replaced
    together. `stream(obj, binary_file)`, given with `write`, writes the same bytes into a file object
    from front to back (never seeking): objects are then hashed as they are written, and streamed
    into cloud storage without a local file.

        >>> register_format([".npy"], load=numpy.load)
        >>> register_format([".npy"], write=lambda a, path: numpy.save(path, a), types=["numpy.ndarray"])
    """
    if isinstance(suffixes, str):
        # a bare string would otherwise be split into characters
        suffixes = [suffixes]
    if isinstance(types, str | type):
        types = [types]
    if load is None and open is None and write is None:
        raise InvalidArgument(
            f"register_format({list(suffixes)!r}) needs a load= or an open= function, or a write= "
            "function with types=; pass at least one"
        )
    if stream is not None and write is None:
        raise InvalidArgument(f"register_format({list(suffixes)!r}) got stream= without write=; pass both")
    for function, name in ((load, "load"), (open, "open"), (write, "write"), (stream, "stream")):
        if function is not None and not callable(function):
            raise InvalidArgument(f"{name}= must be callable, got {function!r}")
    if (write is None) != (not types):
        raise InvalidArgument(
            f"register_format({list(suffixes)!r}) got {'types=' if write is None else 'write='} without "
            f"{'write=' if write is None else 'types='}; pass both: the writer and the types it writes"
        )
    if default and write is None:
        raise InvalidArgument(f"register_format({list(suffixes)!r}, default=True) needs write= and types=")
    written = tuple(dict.fromkeys(_normalize_type(value) for value in types))
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
        if write is not None:
            changes["write"] = write
            changes["types"] = written
            changes["stream"] = stream
        _FORMATS[suffix] = replace(current, **changes)
    if default:
        for key in written:
            _DEFAULTS[key] = normalized[0]


def find_format(suffix: str) -> Format | None:
    """The format for `suffix`, falling back to its shorter endings (`.x.csv.gz` -> `.csv.gz` -> `.gz`)."""
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
    return [_FORMATS[suffix] for suffix in sorted(_FORMATS)]


def find_writer(obj: Any, format: str | None = None) -> tuple[str, str, Writer]:
    """(kind of `obj`, suffix, writer) for writing `obj` as `format`, or as its type's default.

    Raises for an object no format writes, and for a format that cannot hold it.
    """
    keys = list(type_keys(obj))
    writable = {
        entry.suffix: (entry, entry.write)
        for entry in _FORMATS.values()
        if entry.write is not None and not set(entry.types).isdisjoint(keys)
    }
    # the most specific class that something writes names the kind and picks the default
    kind = next((key for key in keys if any(key in entry.types for entry, _ in writable.values())), None)
    if kind is None:
        cls = type(obj)
        raise InvalidArgument(
            f"cannot serialize an object of type {cls.__module__}.{cls.__qualname__}; supported are "
            f"{', '.join(_writable_types())}: convert it, or write it to a file yourself and pass the path"
        )
    kind_name = kind.rpartition(".")[2]
    if format is None:
        suffix = _default_suffix(kind, writable)
    elif not isinstance(format, str):
        raise InvalidArgument(f"format= must be a string like 'csv', got {format!r}")
    else:
        suffix = "." + format.strip().lower().lstrip(".")
        if suffix not in writable:
            choices = sorted(entry.name for entry, _ in writable.values())
            raise InvalidArgument(f"cannot write a {kind_name} as format={format!r}; choose one of {choices}")
    return kind_name, suffix, writable[suffix][1]


def find_stream_writer(obj: Any, format: str | None = None) -> StreamWriter | None:
    """The streaming writer of the format `find_writer` picks for `obj`, if that format has one."""
    suffix = find_writer(obj, format)[1]
    return _FORMATS[suffix].stream


def _default_suffix(kind: str, writable: dict[str, tuple[Format, Writer]]) -> str:
    suffix = _DEFAULTS.get(kind)
    if suffix in writable and kind in writable[suffix][0].types:
        return suffix
    # no default registered, or its format was registered again for other types
    return next(entry.suffix for entry, _ in writable.values() if kind in entry.types)


def _writable_types() -> list[str]:
    """Every type some format writes, in registration order; builtins by their bare name."""
    keys = dict.fromkeys(key for entry in _FORMATS.values() if entry.write is not None for key in entry.types)
    return [key.removeprefix("builtins.") for key in keys]
