"""Storage keys (relative POSIX paths) and the multi-part file suffixes bioinformatics data uses."""

from __future__ import annotations

import os
import re

from lamella.errors import InvalidArgument

__all__ = ["suffix_of", "validate_key"]

# Outer endings that wrap another format: "x.csv.gz" is gzip-compressed csv, so its suffix is ".csv.gz".
_WRAPPERS = frozenset({"gz", "bgz", "bz2", "xz", "zst", "zstd", "lz4", "zip", "tar", "7z"})
# Containers that form a multi-part suffix only with specific inner parts: ".ome.zarr" but not ".data.zarr".
_QUALIFIED = {
    "zarr": frozenset({"ome", "anndata", "mudata", "spatialdata"}),
    "tiff": frozenset({"ome"}),
    "tif": frozenset({"ome"}),
    "n5": frozenset({"ome"}),
}
# Inner formats that are not purely alphabetic but are common inside a compression ending.
_ALNUM_FORMATS = frozenset({"gff3", "h5", "h5ad", "h5mu", "hdf5"})
_WORD = re.compile(r"[A-Za-z]+")


def _is_format_part(part: str) -> bool:
    return bool(_WORD.fullmatch(part)) or part.lower() in _ALNUM_FORMATS


def suffix_of(path_or_name: str | os.PathLike[str], *, folder: bool = False) -> str:
    """The full suffix: ".parquet", ".csv.gz", ".tar.gz", ".ome.zarr", ".ome.tiff"; "v1.2.csv" gives ".csv".

    Folders (`folder=True` or a name ending in "/") have suffix "" unless they are zarr stores.
    """
    text = os.fspath(path_or_name)
    if text.endswith("/"):
        folder = True
    name = text.rstrip("/").rsplit("/", 1)[-1]
    # A leading dot belongs to the stem, as in pathlib: ".bashrc" has no suffix.
    body = name.lstrip(".")
    parts = body.split(".")
    if len(parts) < 2 or parts[-1] == "":
        return ""
    chosen = [parts[-1]]
    index = len(parts) - 2  # candidate inner part; parts[0] always stays the stem
    while index >= 1:
        outer, inner = chosen[0].lower(), parts[index]
        if outer in _QUALIFIED:
            fits = inner.lower() in _QUALIFIED[outer]
        elif outer in _WRAPPERS:
            fits = _is_format_part(inner)
        else:
            fits = False
        if not fits:
            break
        chosen.insert(0, inner)
        index -= 1
    suffix = "." + ".".join(chosen)
    if folder and not suffix.lower().endswith(".zarr"):
        return ""
    return suffix


def _fail(key: object, problem: str, fix: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid key {key!r}: {problem}. {fix}")


def validate_key(key: str, *, data_suffix: str | None) -> str:
    """Return `key` if it is a clean relative POSIX path whose suffix matches the data's, else raise."""
    if not isinstance(key, str) or key == "":
        raise _fail(
            key, "a key must be a non-empty string", 'Pass a relative path such as "folder/data.parquet".'
        )
    if "\\" in key:
        raise _fail(
            key, "backslashes are not allowed", f'Use "/" as separator: {key.replace(chr(92), "/")!r}.'
        )
    if "://" in key:
        raise _fail(key, "a key is a path inside the storage, not a URL", "Drop the scheme and bucket.")
    if key.startswith("/") or re.match(r"^[A-Za-z]:", key):
        raise _fail(key, "a key must be relative, not absolute", f"Use {key.lstrip('/')!r}.")
    if key.endswith("/"):
        raise _fail(key, "a key must not end with '/'", f"Use {key.rstrip('/')!r}.")
    if any(ord(char) < 32 for char in key):
        raise _fail(key, "control characters are not allowed", "Remove them from the key.")
    segments = key.split("/")
    if "" in segments:
        raise _fail(
            key, "empty path segments ('//') are not allowed", f"Use {'/'.join(s for s in segments if s)!r}."
        )
    if ".." in segments or "." in segments:
        raise _fail(key, "'..' and '.' segments are not allowed", "Give the path without them.")
    if data_suffix:
        key_suffix = suffix_of(key)
        if key_suffix != data_suffix:
            stem = key[: len(key) - len(key_suffix)] if key_suffix else key
            raise _fail(
                key,
                f"its suffix {key_suffix!r} differs from the data's suffix {data_suffix!r}",
                f"Use {stem + data_suffix!r}.",
            )
    return key
