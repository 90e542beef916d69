"""`load` and `open_dataset`: find the registered function for a suffix and call it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamella._formats.registry import find_format, known_suffixes, normalize_suffix
from lamella.errors import InvalidArgument, StorageError

__all__ = ["load", "open_dataset", "otype_for_suffix", "supported_load_suffixes", "supported_open_suffixes"]


def supported_load_suffixes() -> list[str]:
    """Suffixes `load` can read into memory, sorted."""
    return [entry.suffix for entry in known_suffixes() if entry.load is not None]


def supported_open_suffixes() -> list[str]:
    """Suffixes `open_dataset` can stream from, sorted."""
    return [entry.suffix for entry in known_suffixes() if entry.open is not None]


def otype_for_suffix(suffix: str) -> str | None:
    """The type of object a file with this suffix loads into (`".h5ad"` -> `"AnnData"`), if known."""
    found = find_format(suffix)
    return found.otype if found is not None else None


def load(path: Path, suffix: str, **kwargs: Any) -> Any:
    """Read the local file or folder at `path` into memory, choosing the reader by `suffix`.

    `suffix` is passed separately because a cached file's name need not end in it.
    """
    found = find_format(suffix)
    if found is None or found.load is None:
        raise InvalidArgument(
            f"cannot load a '{normalize_suffix(suffix)}' file into memory; use artifact.cache() to get "
            "a local path to it (or register a loader with lamella._formats.register_format)"
        )
    if not Path(path).exists():
        raise StorageError(f"cannot load {path}: no such file or folder; was it deleted or moved?")
    return found.load(Path(path), **kwargs)


def open_dataset(path: Any, suffix: str, *, filesystem: Any | None = None, **kwargs: Any) -> Any:
    """Open the file or folder at `path` for streaming access without loading it.

    `.parquet`, `.csv`, `.tsv` -> `pyarrow.dataset.Dataset`; `.h5ad` -> backed AnnData (local only);
    `.zarr` -> AnnData whose matrices are read on access. Pass `filesystem` (fsspec) for remote paths
    given as strings; a `UPath` brings its own.
    """
    found = find_format(suffix)
    if found is None or found.open is None:
        raise InvalidArgument(
            f"cannot open a '{normalize_suffix(suffix)}' file for streaming; supported suffixes are "
            f"{', '.join(supported_open_suffixes())}; use artifact.load() or artifact.cache() instead "
            "(or register an opener with lamella._formats.register_format)"
        )
    return found.open(path, filesystem=filesystem, **kwargs)
