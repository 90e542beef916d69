"""`load` and `open_dataset`: find the registered function for a suffix and call it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamella._formats.registry import find_format, known_suffixes, normalize_suffix
from lamella.errors import (
    InvalidArgument,
    LamellaError,
    PathIsAFolder,
    PathNotFound,
    StorageError,
    UnreadableFile,
)

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
        raise PathNotFound(f"cannot load {path}: no such file or folder; was it deleted or moved?")
    try:
        return found.load(Path(path), **kwargs)
    except Exception as e:
        raise _reader_failed("load", path, suffix, kwargs, e) from e


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
    try:
        return found.open(path, filesystem=filesystem, **kwargs)
    except Exception as e:
        raise _reader_failed("open", path, suffix, kwargs, e) from e


def _reader_failed(
    action: str, path: Any, suffix: str, kwargs: dict[str, Any], error: Exception
) -> Exception:
    """What to raise when a format's reader failed: the error of the tree that says why.

    Readers are other libraries (pandas, pyarrow, anndata, json, yaml); what they raise for a damaged
    file or an unknown option is a ValueError, TypeError or OSError of their own, which must not
    escape a public call bare. An error of the tree, an ImportError (a missing optional package) and
    a MemoryError pass unchanged.
    """
    if isinstance(error, LamellaError | ImportError | MemoryError):
        return error
    suffix = normalize_suffix(suffix)
    options = ", ".join(f"{name}={value!r}" for name, value in kwargs.items())
    if isinstance(error, TypeError) and kwargs:
        return InvalidArgument(
            f"cannot {action} {path} with {options}: the {suffix} reader refused them ({error}); "
            f"pass only options the reader takes, or none"
        )
    if isinstance(error, FileNotFoundError):
        return PathNotFound(
            f"cannot {action} {path}: no such file or folder ({error}); was it deleted or moved?"
        )
    if isinstance(error, IsADirectoryError):
        return PathIsAFolder(f"cannot {action} {path} as a {suffix} file: it is a folder ({error})")
    if isinstance(error, OSError) and not _is_format_error(error):
        return StorageError(f"cannot {action} {path}: {error}")
    hint = f"check the options ({options}), or " if kwargs else ""
    return UnreadableFile(
        f"cannot {action} {path} as a {suffix} file: {type(error).__name__}: {error}. The file is damaged "
        f"or is not in the {suffix} format: {hint}look at it through artifact.cache(), which gives its "
        f"local path, and save a good copy as a new version"
    )


def _is_format_error(error: OSError) -> bool:
    """An OSError that says the bytes are not in the format (h5py raises these), not that reading failed."""
    return error.errno is None
