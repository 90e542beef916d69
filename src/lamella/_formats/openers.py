"""Functions that open a file or folder for streaming access, without loading it into memory."""

from __future__ import annotations

from typing import Any

from lamella._formats.lazy_zarr import read_zarr_lazily
from lamella._formats.paths import resolve_location
from lamella.errors import InvalidArgument

__all__ = ["open_csv", "open_h5ad", "open_parquet", "open_text", "open_tsv", "open_zarr"]


def open_parquet(path: Any, filesystem: Any | None = None, **kwargs: Any) -> Any:
    """A `pyarrow.dataset.Dataset` over one parquet file or a folder of them."""
    import pyarrow.dataset as ds

    location, filesystem = resolve_location(path, filesystem)
    return ds.dataset(location, format="parquet", filesystem=filesystem, **kwargs)


def _open_delimited(path: Any, filesystem: Any | None, delimiter: str, kwargs: dict[str, Any]) -> Any:
    import pyarrow.csv as pv
    import pyarrow.dataset as ds

    location, filesystem = resolve_location(path, filesystem)
    file_format = kwargs.pop("format", None) or ds.CsvFileFormat(
        parse_options=pv.ParseOptions(delimiter=delimiter)
    )
    return ds.dataset(location, format=file_format, filesystem=filesystem, **kwargs)


def open_csv(path: Any, filesystem: Any | None = None, **kwargs: Any) -> Any:
    """A `pyarrow.dataset.Dataset` over a csv file (or folder of them); `.gz` is decompressed."""
    return _open_delimited(path, filesystem, ",", kwargs)


def open_tsv(path: Any, filesystem: Any | None = None, **kwargs: Any) -> Any:
    return _open_delimited(path, filesystem, "\t", kwargs)


def open_h5ad(path: Any, filesystem: Any | None = None, **kwargs: Any) -> Any:
    """An `AnnData` in backed mode: obs and var in memory, `X` read from disk on access."""
    import anndata

    location, filesystem = resolve_location(path, filesystem)
    if filesystem is not None:
        raise InvalidArgument(
            f"cannot open the remote .h5ad file {path!s} in backed mode; backed AnnData needs a local "
            "file: call artifact.cache() first and open the local path"
        )
    kwargs.setdefault("backed", "r")
    return closable(anndata.read_h5ad(location, **kwargs))


def open_zarr(path: Any, filesystem: Any | None = None, **kwargs: Any) -> Any:
    """An `AnnData` whose matrices stay in the zarr store until sliced."""

    location, filesystem = resolve_location(path, filesystem)
    store = filesystem.get_mapper(location) if filesystem is not None else location
    return closable(read_zarr_lazily(store, **kwargs))


def open_text(
    path: Any, filesystem: Any | None = None, mode: str = "r", encoding: str | None = "utf-8", **kwargs: Any
) -> Any:
    """A file handle (text by default, `mode="rb"` for bytes), a context manager; `.gz` is decompressed."""
    import fsspec

    if mode not in ("r", "rt", "rb"):
        raise InvalidArgument(f"open() reads: pass mode='r' (text) or 'rb' (bytes), not {mode!r}")
    location, filesystem = resolve_location(path, filesystem)
    protocol = (
        (filesystem.protocol if isinstance(filesystem.protocol, str) else filesystem.protocol[0])
        if filesystem
        else None
    )
    url = f"{protocol}://{location}" if protocol and protocol not in ("file", "local") else location
    text = "b" not in mode
    opened = fsspec.open(
        url,
        "rt" if text else "rb",
        compression="infer",
        encoding=encoding if text else None,
        **({"fs": filesystem} if filesystem is not None else {}),
        **kwargs,
    )
    return opened.open()


_CLOSABLE: dict[type, type] = {}


def closable(adata: Any) -> Any:
    """The opened AnnData, usable in a `with` block that closes its backing file at the end.

    It stays an AnnData (a subclass that adds only `__enter__`/`__exit__`), so isinstance checks and
    everything anndata offers keep working.
    """
    base = type(adata)
    if hasattr(base, "__enter__"):
        return adata
    subclass = _CLOSABLE.get(base)
    if subclass is None:
        subclass = _CLOSABLE[base] = type(
            base.__name__,
            (base,),
            {"__enter__": _enter, "__exit__": _exit, "__doc__": base.__doc__, "__module__": base.__module__},
        )
    adata.__class__ = subclass
    return adata


def _enter(self: Any) -> Any:
    return self


def _exit(self: Any, *_exc: object) -> None:
    if getattr(self, "isbacked", False):
        self.file.close()
