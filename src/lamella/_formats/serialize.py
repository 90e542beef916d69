"""Write an in-memory object to a local file in its registered format and describe the result."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamella._formats.otype import otype_of
from lamella._formats.registry import StreamWriter, find_stream_writer, find_writer
from lamella.errors import StorageError

__all__ = ["SerializedData", "n_observations_of", "serialize", "stream_writer_for", "suffix_for"]


@dataclass(frozen=True)
class SerializedData:
    """What `serialize` wrote."""

    path: Path
    """The written file, or folder for zarr."""
    suffix: str
    """E.g. `".parquet"`."""
    otype: str | None
    """`"DataFrame"`, `"AnnData"`, `"MuData"` or None."""
    n_observations: int | None
    """Rows of a DataFrame, `n_obs` of an AnnData or MuData; None otherwise."""


def n_observations_of(obj: Any) -> int | None:
    """Rows of a DataFrame, `n_obs` of an AnnData or MuData; None for other objects."""
    return _n_observations(obj, otype_of(obj))


def _n_observations(obj: Any, otype: str | None) -> int | None:
    if otype == "DataFrame":
        return len(obj)
    if otype in ("AnnData", "MuData"):
        return int(obj.n_obs)
    return None


def serialize(obj: Any, directory: Path, stem: str, *, format: str | None = None) -> SerializedData:
    """Write `obj` to `directory/<stem><suffix>` and describe what was written.

    The writer is the one registered for `obj`'s type (see `register_format`). Built in: DataFrame
    -> `.parquet` (or format "csv", "tsv"); AnnData -> `.h5ad` (or "zarr"); MuData -> `.h5mu`;
    dict or list -> `.json` (or "yaml"); str -> `.txt` (or "md", "html", "log").
    """
    kind, suffix, write = find_writer(obj, format)
    directory = Path(directory)
    path = directory / f"{stem}{suffix}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            # zarr stores are folders; a stale one would mix old and new arrays
            shutil.rmtree(path)
        write(obj, path)
    except OSError as error:
        raise StorageError(f"could not write {kind} to {path}: {error}") from error
    otype = otype_of(obj)
    return SerializedData(path=path, suffix=suffix, otype=otype, n_observations=_n_observations(obj, otype))


def suffix_for(obj: Any, *, format: str | None = None) -> str:
    """The suffix `serialize` would write `obj` with, checked without writing anything."""
    return find_writer(obj, format)[1]


def stream_writer_for(obj: Any, *, format: str | None = None) -> StreamWriter | None:
    """`write(obj, binary_file)` for the format `serialize` would use, if it writes front to back."""
    return find_stream_writer(obj, format)
