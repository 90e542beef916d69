"""One AnnData shard: an `.h5ad` file (h5py) or a `.zarr` folder (zarr v2 or v3), read in anndata's
on-disk layout without building an AnnData; on local disk (a `Path`) or in an object store (a
`RemotePath`, read in place through fsspec: see `remote.py`).

`describe_*` validate an element once and return a small, picklable description; `ShardReader` reads
rows of the described elements from an open handle. A handle never travels to another process: the
collection pickles descriptions and opens a new `ShardReader` where it reads.
"""

from __future__ import annotations

import atexit
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import h5py
import numpy as np

from lamella._loaders.ondisk import RawLayout, encoding_of, is_array, read_all, read_runs, runs_of
from lamella._loaders.remote import RemotePath, remote_errors
from lamella.errors import InvalidArgument, PathNotFound, UnreadableFile

try:  # the zarr extra; only zarr shards need it
    import zarr
except ImportError:  # pragma: no cover - zarr is installed with lamella[zarr]
    zarr = None  # type: ignore[assignment]

__all__ = ["ColumnSpec", "MatrixSpec", "ShardPath", "ShardReader", "shard_kind"]

ShardKind = Literal["h5ad", "zarr"]
ShardPath = Path | RemotePath
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_SPARSE = "csr_matrix"
_NULLABLE = {"nullable-integer", "nullable-boolean", "nullable-string-array"}


# the readers with an h5py file over a Python file object (remote h5ad shards): one still open when the
# interpreter shuts down crashes it (HDF5 calls into half-finalized Python objects), as it does in a
# DataLoader's spawned worker that exits with its dataset, so they are closed before that
_READING_FILE_OBJECTS: weakref.WeakSet[ShardReader] = weakref.WeakSet()


@atexit.register
def _close_file_object_readers() -> None:
    for reader in list(_READING_FILE_OBJECTS):
        reader.close()


def shard_kind(path: ShardPath) -> ShardKind:
    """`"h5ad"` for an HDF5 file, `"zarr"` for a zarr folder; an error names anything else."""
    if isinstance(path, RemotePath):
        return _remote_kind(path)
    if not path.exists():
        raise PathNotFound(f"no AnnData shard at {path}: check the path, or load the artifact into the cache")
    if path.is_dir():
        if any((path / marker).exists() for marker in (".zgroup", "zarr.json")):
            return "zarr"
        raise InvalidArgument(
            f"{path} is a folder but not a zarr store (no .zgroup or zarr.json): "
            "pass .h5ad files or .zarr folders written by anndata"
        )
    with open(path, "rb") as handle:
        signature = handle.read(len(_HDF5_SIGNATURE))
    return _file_kind(path, signature)


def _file_kind(path: ShardPath, signature: bytes) -> ShardKind:
    if signature == _HDF5_SIGNATURE:
        return "h5ad"
    raise InvalidArgument(
        f"{path} is neither an HDF5 (.h5ad) file nor a zarr folder (suffix {path.suffix!r}): "
        "a MappedCollection reads AnnData shards stored as .h5ad or .zarr"
    )


def _remote_kind(path: RemotePath) -> ShardKind:
    """`shard_kind` of a remote shard: a prefix ("folder") holding zarr metadata, or an HDF5 object."""
    fs = path.fs
    with remote_errors(path.url):  # a missing object: fsspec's FileNotFoundError, so PathNotFound
        if fs.info(path.path)["type"] == "directory":
            names = {entry.rstrip("/").rpartition("/")[2] for entry in fs.ls(path.path, detail=False)}
            if names & {".zgroup", "zarr.json"}:
                return "zarr"
            raise InvalidArgument(
                f"{path.url} is a folder but not a zarr store (no .zgroup or zarr.json): "
                "pass .h5ad files or .zarr folders written by anndata"
            )
        signature = fs.cat_file(path.path, start=0, end=len(_HDF5_SIGNATURE))
    return _file_kind(path, signature)


@dataclass(frozen=True)
class MatrixSpec:
    """A row-indexable matrix of a shard: X, a layer or an obsm entry."""

    path: str  # inside the store: "X", "layers/counts", "obsm/X_pca"
    sparse: bool  # CSR (data, indices, indptr); else a dense 2-D array
    n_rows: int
    n_cols: int
    dtype: np.dtype[Any]


@dataclass(frozen=True)
class ColumnSpec:
    """An obs column: anndata's categorical (codes + categories), a plain array, or a nullable array."""

    path: str  # "obs/cell_type"
    kind: Literal["categorical", "values", "nullable"]


class ShardReader:
    """An open shard: reads rows of matrices and obs columns. Not picklable on purpose.

    An h5ad shard has two handles: the h5py file, and a plain file for the datasets read directly
    (`RawLayout`). HDF5 keeps ~0.5 MB per open file (its metadata cache), so once the layouts of all
    the datasets a collection reads are known and none needs HDF5, `release_hdf5()` closes the h5py
    file and a shard costs one file descriptor; the h5py file opens again if something needs it.

    A remote h5ad shard has one handle, the h5py file over an fsspec file object: it has no file
    descriptor to read at offsets, so HDF5 reads everything (no `RawLayout`) and the file stays open.
    """

    def __init__(
        self, path: ShardPath, kind: ShardKind, name: str, layouts: dict[str, RawLayout | None] | None = None
    ) -> None:
        self.path = path
        self.kind = kind
        self.name = name  # how errors name the shard (its label, else its path)
        self._nodes: dict[str, Any] = {}
        # h5ad: where the bytes of each dataset read so far lie (None: HDF5 reads it); the collection
        # passes its own dict, so the layouts outlive this reader and travel to worker processes
        self._layouts: dict[str, RawLayout | None] = {} if layouts is None else layouts
        self._raw: Any = None  # a file object, so a reader dropped without close() leaks no descriptor
        self._remote_file: Any = None  # the fsspec file object h5py reads a remote h5ad shard from
        self._store: Any = None  # opened on first use

    @property
    def store(self) -> Any:
        """The h5py file or zarr group (opened if it was released)."""
        if self._store is None:
            self._store = self._open()
        return self._store

    def _open(self) -> Any:
        if isinstance(self.path, RemotePath):
            return self._open_remote(self.path)
        try:
            if self.kind == "h5ad":
                # no chunk cache: h5py's default (8 MiB per open dataset) fills up with the chunks of
                # random rows, so memory would grow with the number of shards; without it HDF5 reads
                # just the bytes selected
                return h5py.File(self.path, "r", rdcc_nbytes=0)
            if zarr is None:
                raise InvalidArgument(
                    f"reading the zarr shard {self.path} needs zarr: pip install 'lamella[zarr]'"
                )
            return zarr.open_group(str(self.path), mode="r")
        except (OSError, ValueError) as error:
            if isinstance(error, InvalidArgument):
                raise
            raise UnreadableFile(
                f"cannot open the AnnData shard {self.name} ({self.path}): {error}"
            ) from error

    def _open_remote(self, path: RemotePath) -> Any:
        if self.kind == "zarr":
            if zarr is None:
                raise InvalidArgument(
                    f"reading the zarr shard {path.url} needs zarr: pip install 'lamella[zarr]'"
                )
            with remote_errors(path.url):
                store = zarr.storage.FsspecStore.from_mapper(path.mapper(), read_only=True)
                return zarr.open_group(store, mode="r")
        self._remote_file = path.open_h5_file()
        try:
            # HDF5's chunk cache stays off as for local files: fsspec's block cache holds the bytes
            store = h5py.File(self._remote_file, "r", rdcc_nbytes=0)
            _READING_FILE_OBJECTS.add(self)
            return store
        except (OSError, ValueError) as error:
            self._close_remote_file()
            raise UnreadableFile(
                f"cannot open the AnnData shard {self.name} ({path.url}): {error}"
            ) from error

    def _close_remote_file(self) -> None:
        if self._remote_file is not None:
            self._remote_file.close()
            self._remote_file = None

    def release_hdf5(self, paths: list[str]) -> None:
        """Close the h5py file if every array in `paths` is read directly (keep the plain file open)."""
        if self.kind == "h5ad" and all(self._layout(path) is not None for path in paths):
            self._nodes.clear()
            if self._store is not None:
                self._store.close()
                self._store = None

    # ---- structure -------------------------------------------------------------------------------

    def node(self, key: str) -> Any:
        found = self._nodes.get(key)
        if found is None:
            found = self._nodes[key] = self.store[key]
        return found

    def has(self, key: str) -> bool:
        try:
            self.node(key)
        except KeyError:
            return False
        return True

    def keys(self, group: str) -> list[str]:
        return sorted(self.node(group).keys()) if self.has(group) else []

    def _index_column(self, group: str) -> str:
        node = self.node(group)
        if is_array(node):
            raise UnreadableFile(
                f"{group} of the shard {self.name} ({self.path}) is in the layout of anndata < 0.7 "
                "(one compound array): read it with anndata and write it again"
            )
        index = node.attrs.get("_index", "_index")
        return f"{group}/{index.decode() if isinstance(index, bytes) else index}"

    def n_obs(self) -> int:
        return int(self.node(self._index_column("obs")).shape[0])

    def var_names(self) -> np.ndarray:
        return read_all(self.node(self._index_column("var")))

    def describe_matrix(self, path: str, what: str, n_obs: int) -> MatrixSpec:
        """Validate the matrix at `path` (`what` names it for the user, e.g. "layer 'counts'")."""
        if not self.has(path):
            group = path.rpartition("/")[0]
            present = self.keys(group) if group else []
            raise InvalidArgument(
                f"the shard {self.name} ({self.path}) has no {what}"
                + (f"; its {group} keys are {present}" if group else "")
                + ": remove the key, or leave this shard out of the collection"
            )
        node = self.node(path)
        encoding = encoding_of(node)
        if is_array(node):
            if len(node.shape) != 2:
                raise InvalidArgument(f"the {what} of the shard {self.name} is not 2-D (shape {node.shape})")
            spec = MatrixSpec(path, False, int(node.shape[0]), int(node.shape[1]), np.dtype(node.dtype))
        elif encoding == _SPARSE:
            shape = node.attrs.get("shape", node.attrs.get("h5sparse_shape"))
            data = node["data"]
            spec = MatrixSpec(path, True, int(shape[0]), int(shape[1]), np.dtype(data.dtype))
        elif encoding == "csc_matrix":
            raise InvalidArgument(
                f"the {what} of the shard {self.name} ({self.path}) is a CSC sparse matrix, whose rows "
                "cannot be read without reading all of it: write it as CSR (adata.X = adata.X.tocsr())"
            )
        else:
            raise InvalidArgument(
                f"the {what} of the shard {self.name} ({self.path}) is stored as {encoding!r}; "
                "a MappedCollection reads dense arrays and CSR matrices"
            )
        if spec.n_rows != n_obs:
            raise UnreadableFile(
                f"the {what} of the shard {self.name} has {spec.n_rows} rows but obs has {n_obs}: the file is damaged"
            )
        return spec

    def describe_column(self, key: str) -> ColumnSpec:
        path = f"obs/{key}"
        if not self.has(path) or key in ("_index", "__categories"):
            raise InvalidArgument(
                f"the shard {self.name} ({self.path}) has no obs column {key!r}; its obs columns are "
                f"{self.obs_columns()}: choose obs_keys that every shard has"
            )
        node = self.node(path)
        encoding = encoding_of(node)
        if is_array(node):
            return ColumnSpec(path, "values")
        if encoding == "categorical":
            return ColumnSpec(path, "categorical")
        if encoding in _NULLABLE:
            return ColumnSpec(path, "nullable")
        raise InvalidArgument(
            f"the obs column {key!r} of the shard {self.name} is stored as {encoding!r}, which is not a "
            "column of labels (categorical, string, number or nullable array)"
        )

    def obs_columns(self) -> list[str]:
        index = self._index_column("obs").rpartition("/")[2]
        return [key for key in self.keys("obs") if key not in (index, "__categories")]

    # ---- obs columns -----------------------------------------------------------------------------

    def categories(self, spec: ColumnSpec) -> np.ndarray | None:
        """The categories of a categorical column (strings as `str`), else None."""
        if spec.kind != "categorical":
            return None
        return read_all(self.node(f"{spec.path}/categories"))

    def read_column(self, spec: ColumnSpec, rows: np.ndarray | None = None) -> np.ndarray:
        """Codes of a categorical column (-1: missing), else the values (missing as NaN), for `rows`
        (sorted, unique) or for all rows."""
        if spec.kind == "categorical":
            return self._read(f"{spec.path}/codes", rows)
        if spec.kind == "values":
            return self._read(spec.path, rows)
        values = self._read(f"{spec.path}/values", rows)
        mask = self._read(f"{spec.path}/mask", rows).astype(bool)
        if mask.any():
            values = values.astype(object)
            values[mask] = np.nan
        return values

    def read_value(self, spec: ColumnSpec, row: int) -> Any:
        """One row of `read_column`: a code, or a value (a missing one as NaN)."""
        if spec.kind == "categorical":
            return int(self._one(f"{spec.path}/codes", row))
        if spec.kind == "nullable" and bool(self._one(f"{spec.path}/mask", row)):
            return np.nan
        value = self._one(spec.path if spec.kind == "values" else f"{spec.path}/values", row)
        if isinstance(value, bytes):
            return value.decode("utf-8")
        return value.item() if isinstance(value, np.generic) else value

    def _read(self, path: str, rows: np.ndarray | None) -> np.ndarray:
        if rows is None:
            return read_all(self.node(path))
        starts, stops = runs_of(rows)
        return self._runs(path, starts, stops)

    def _runs(self, path: str, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """`read_runs` of the array at `path`, with the bytes read directly where they can be."""
        layout = self._layout(path)
        if layout is not None:
            return layout.read_runs(self._raw.fileno(), starts, stops)
        return read_runs(self.node(path), starts, stops)

    def _range(self, path: str, start: int, stop: int) -> np.ndarray:
        """Elements `[start, stop)` of a 1-D array (the single-item path: no run arithmetic)."""
        layout = self._layout(path)
        if layout is not None:
            return layout.read_range(self._raw.fileno(), start, stop)
        return np.asarray(self.node(path)[start:stop])

    def _layout(self, path: str) -> RawLayout | None:
        if self.kind != "h5ad" or isinstance(self.path, RemotePath):  # no descriptor to read at offsets
            return None
        if path in self._layouts:
            layout = self._layouts[path]
        else:
            layout = self._layouts[path] = RawLayout.of(self.node(path))
        if layout is not None and self._raw is None:
            self._raw = open(self.path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        return layout

    def _one(self, path: str, row: int) -> Any:
        return self._range(path, row, row + 1)[0]

    # ---- matrices --------------------------------------------------------------------------------

    def read_dense_rows(self, spec: MatrixSpec, rows: np.ndarray) -> np.ndarray:
        """Rows (sorted, unique) of a dense matrix, shape (len(rows), n_cols)."""
        starts, stops = runs_of(rows)
        return read_runs(self.node(spec.path), starts, stops)

    def read_dense_row(self, spec: MatrixSpec, row: int) -> np.ndarray:
        return np.asarray(self.node(spec.path)[row])

    def read_csr_rows(self, spec: MatrixSpec, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows (sorted, unique) of a CSR matrix: (data, column indices, nonzeros per row).

        One read of indptr for all the rows, then one read each of data and indices for their ranges
        (consecutive rows make one range).
        """
        group = spec.path
        starts, stops = runs_of(rows)
        # indptr[start .. stop] of each run: stop - start + 1 values per run
        bounds = self._runs(f"{group}/indptr", starts, stops + 1).astype(np.int64, copy=False)
        lengths = stops - starts + 1
        ends_at = np.cumsum(lengths)  # one past the last bound of each run
        run_first = bounds[ends_at - lengths]
        run_last = bounds[ends_at - 1]
        is_last = np.zeros(len(bounds), dtype=bool)
        is_last[ends_at - 1] = True
        counts = np.diff(bounds)[~is_last[:-1]]  # drop the step from one run's last bound to the next's first
        data = self._runs(f"{group}/data", run_first, run_last)
        indices = self._runs(f"{group}/indices", run_first, run_last)
        return data, indices, counts

    def read_csr_row(self, spec: MatrixSpec, row: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self._range(f"{spec.path}/indptr", row, row + 2).tolist()
        return self._range(f"{spec.path}/data", start, stop), self._range(f"{spec.path}/indices", start, stop)

    def close(self) -> None:
        self._nodes.clear()
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        if self._store is not None and self.kind == "h5ad":
            self._store.close()
        self._store = None
        self._close_remote_file()
