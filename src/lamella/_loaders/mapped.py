"""`MappedCollection`: a map-style dataset over AnnData shards, what `collection.mapped()` returns.

The shards are concatenated virtually along obs: index `i` of the collection is a row of one shard,
read from disk when asked for. Nothing but the requested rows is ever read from X, the layers or
obsm; obs columns and var names are read whole once, at construction, for the joins, filters and
label encoders.

It works with PyTorch without importing it: `DataLoader(ds, batch_size=256, shuffle=True)` calls
`__getitems__` with a batch of indices (one sorted read per shard) and collates the per-item dicts
with its default collate; the dataset pickles to worker processes without its open files and opens
them again in each process on first use.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np

from lamella._loaders.arguments import (
    as_keys,
    check_encode_labels,
    check_label_names,
    check_obs_filter,
    check_paths,
    check_unknown_label,
)
from lamella._loaders.joins import Join, join_vars
from lamella._loaders.labels import (
    UNKNOWN_CODE,
    code_lookup,
    encode_values,
    label_weights,
    make_encoder,
    matches,
    merge_categories,
    present_values,
)
from lamella._loaders.ondisk import RawLayout
from lamella._loaders.rows import FEW_ROWS, Output, fill_rows, read_row
from lamella._loaders.shards import ColumnSpec, MatrixSpec, ShardKind, ShardPath, ShardReader, shard_kind
from lamella._logging import logger
from lamella.errors import InvalidArgument, OutOfRange

__all__ = ["MappedCollection"]


@dataclass
class _Shard:
    """What the collection knows about one shard; picklable (no open handle)."""

    path: ShardPath  # a local Path, or a RemotePath (URL and filesystem) that each process reopens
    kind: ShardKind
    name: str
    n_obs_file: int  # rows in the file
    rows: np.ndarray | None  # the rows kept by obs_filter (sorted); None: all
    var_names: np.ndarray
    matrices: dict[str, MatrixSpec] = field(default_factory=dict)  # output key -> spec
    columns: dict[str, ColumnSpec] = field(default_factory=dict)  # obs key -> spec
    layouts: dict[str, RawLayout | None] = field(default_factory=dict)  # see ShardReader

    def read_paths(self) -> list[str]:
        """The arrays that reading items touches."""
        paths = []
        for spec in self.matrices.values():
            paths += (
                [f"{spec.path}/{part}" for part in ("indptr", "data", "indices")]
                if spec.sparse
                else [spec.path]
            )
        for column in self.columns.values():
            kind = column.kind
            suffixes = (
                ["/codes"] if kind == "categorical" else [""] if kind == "values" else ["/values", "/mask"]
            )
            paths += [column.path + suffix for suffix in suffixes]
        return paths

    @property
    def n_obs(self) -> int:
        return self.n_obs_file if self.rows is None else len(self.rows)


class MappedCollection:
    """Map-style dataset over AnnData shards (`.h5ad` files, `.zarr` folders), virtually concatenated.

    `ds[i]` returns a dict: `"X"` (and one entry per other layer of `layers_keys`) a dense 1-D row in
    the joint var order, `"obsm_<key>"` per `obsm_keys`, one entry per `obs_keys` (its integer code
    when encoded, else the label), `"_store_idx"` (which shard) and `"_idx"` (the index asked for).

    Args:
        paths: `.h5ad` files or `.zarr` folders in anndata's on-disk layout: local paths, or remote
            ones read in place through fsspec, as URLs (`"s3://bucket/key.h5ad"`) or cloud `UPath`s;
            credentials come from the environment (or the UPath's options). Worker processes open
            the remote files themselves.
        label_names: one name per shard (e.g. artifact keys or uids): errors name shards so, and
            `label_names[item["_store_idx"]]` tells where an item comes from. Default: the file names.
        layers_keys: layers to read; `None` or `"X"` in the list reads `.X` (under `"X"`).
        obs_keys: obs columns to return with each item.
        obsm_keys: obsm entries to return, under `"obsm_<key>"`.
        obs_filter: keep only rows whose obs values are among the given ones, e.g.
            `{"cell_type": ["T cell", "B cell"]}` (a single value or a list/tuple per column).
        join: `"inner"` (shared variables, in the first shard's order), `"outer"` (all variables,
            sorted, zero-filled where a shard lacks them), or `None` (no join: same variable count).
        encode_labels: encode obs labels as integers (sorted categories -> 0..n-1): `True` for all
            `obs_keys`, or a list of them.
        unknown_label: a label encoded as -1 instead (e.g. "unknown"), or a dict obs key -> label.
            Missing values (NaN) are encoded as -1 too.
        cache_categories: keep each shard's categories in memory (else read them at every access).
        parallel: open no file at construction; each process opens its files on first use.
        dtype: cast X, layers and obsm to this dtype (e.g. "float32").
    """

    def __init__(
        self,
        paths: Sequence[Any] | str | os.PathLike[str],
        label_names: Sequence[str] | None = None,
        layers_keys: str | Sequence[str] | None = None,
        obs_keys: str | Sequence[str] | None = None,
        obsm_keys: str | Sequence[str] | None = None,
        obs_filter: dict[str, Any] | None = None,
        join: Join = "inner",
        encode_labels: bool | Sequence[str] = True,
        unknown_label: str | dict[str, str] | None = None,
        cache_categories: bool = True,
        parallel: bool = False,
        dtype: str | None = None,
    ) -> None:
        self.path_list = check_paths(paths)
        self.label_names = check_label_names(label_names, self.path_list)
        self.layers_keys = as_keys(layers_keys, "layers_keys") or ["X"]
        self.obs_keys = as_keys(obs_keys, "obs_keys")
        self.obsm_keys = as_keys(obsm_keys, "obsm_keys")
        if join not in ("inner", "outer", None):
            raise InvalidArgument(f"join must be 'inner', 'outer' or None, not {join!r}")
        self.encode_labels = check_encode_labels(encode_labels, self.obs_keys)
        self.unknown_label = check_unknown_label(unknown_label, self.encode_labels)
        self.parallel = parallel
        self.cache_categories = cache_categories
        try:
            self._dtype = None if dtype is None else np.dtype(dtype)
        except TypeError as error:
            raise InvalidArgument(f"dtype {dtype!r} is not a numpy dtype: pass e.g. 'float32'") from error
        filters = check_obs_filter(obs_filter)
        self._closed = False
        self._pid: int | None = os.getpid()
        self._readers: list[ShardReader | None] = [None] * len(self.path_list)
        try:
            self._shards: list[_Shard] = []
            self._categories: dict[str, list[np.ndarray | None]] = {key: [] for key in self.obs_keys}
            # one shard after the other, so that one HDF5 file at a time is open
            for index in range(len(self.path_list)):
                shard = self._describe(index, filters)
                self._shards.append(shard)
                for key in self.obs_keys:
                    self._categories[key].append(self._read_categories(index, key))
                # learn where the bytes lie; keep no HDF5 handle if no read needs one
                self._reader(index).release_hdf5(shard.read_paths())
            self._join = join_vars([shard.var_names for shard in self._shards], join, self.label_names)
            self._outputs = self._make_outputs()
            self.encoders: dict[str, dict[Any, int]] = {}
            for key in self.encode_labels:
                self.encoders[key] = make_encoder(self.get_merged_categories(key), self._unknown_for(key))
            self._lookups: dict[tuple[int, str], np.ndarray] = {}
            if not cache_categories:
                self._categories = {}
        except BaseException:
            self._close_readers()
            raise
        if parallel:
            self._close_readers()
        self.join_vars: Join = join
        self._offsets = np.concatenate(([0], np.cumsum([shard.n_obs for shard in self._shards]))).astype(
            np.int64
        )
        self._offset_list = self._offsets.tolist()

    # ---- construction ----------------------------------------------------------------------------

    def _describe(self, index: int, filters: dict[str, list[Any]]) -> _Shard:
        path = self.path_list[index]
        kind = shard_kind(path)
        layouts: dict[str, RawLayout | None] = {}
        self._readers[index] = reader = ShardReader(path, kind, self.label_names[index], layouts)
        n_obs = reader.n_obs()
        shard = _Shard(path, kind, reader.name, n_obs, None, reader.var_names(), layouts=layouts)
        for key in self.layers_keys:
            where, what = ("X", "X") if key == "X" else (f"layers/{key}", f"layer {key!r}")
            spec = shard.matrices[key] = reader.describe_matrix(where, what, n_obs)
            if spec.n_cols != len(shard.var_names):
                raise InvalidArgument(
                    f"the {what} of the shard {reader.name} has {spec.n_cols} columns but var has "
                    f"{len(shard.var_names)} names: the file is damaged"
                )
        for key in self.obsm_keys:
            shard.matrices[f"obsm_{key}"] = reader.describe_matrix(
                f"obsm/{key}", f"obsm entry {key!r}", n_obs
            )
        for key in self.obs_keys:
            shard.columns[key] = reader.describe_column(key)
        if filters:
            shard.rows = self._filter_rows(reader, filters)
        return shard

    def _filter_rows(self, reader: ShardReader, filters: dict[str, list[Any]]) -> np.ndarray:
        keep = np.ones(reader.n_obs(), dtype=bool)
        for key, wanted in filters.items():
            if key not in reader.obs_columns():
                logger.warning(
                    f"obs_filter: the shard {reader.name} has no obs column {key!r}, so none of its rows is kept"
                )
                return np.empty(0, dtype=np.int64)
            spec = reader.describe_column(key)
            values = reader.read_column(spec)
            categories = reader.categories(spec)
            if categories is not None:  # decide per category, then look the codes up
                per_code = np.append(matches(categories, wanted), matches(np.array([np.nan]), wanted))
                keep &= per_code[values]
            else:
                keep &= matches(values, wanted)
        return np.flatnonzero(keep)

    def _make_outputs(self) -> list[Output]:
        wanted = [(key, True) for key in self.layers_keys] + [
            (f"obsm_{key}", False) for key in self.obsm_keys
        ]
        outputs = []
        for key, joined in wanted:
            specs = [shard.matrices[key] for shard in self._shards]
            if joined:  # X and layers follow the var join
                width = self._join.n_vars
            else:
                widths = {spec.n_cols for spec in specs}
                if len(widths) > 1:
                    raise InvalidArgument(
                        f"obsm entry {key[5:]!r} has different widths across shards ({sorted(widths)}), "
                        "so its rows cannot be batched: leave it out of obsm_keys"
                    )
                width = widths.pop()
            dtype = self._dtype or np.result_type(*(spec.dtype for spec in specs))
            outputs.append(Output(key, width, np.dtype(dtype), joined))
        return outputs

    def _read_categories(self, index: int, key: str) -> np.ndarray | None:
        spec = self._shards[index].columns[key]
        reader = self._reader(index)
        categories = reader.categories(spec)
        if categories is None:  # a plain column: its distinct values stand for categories
            return np.array(present_values(reader.read_column(spec)), dtype=object)
        return categories

    def _unknown_for(self, key: str) -> str | None:
        if isinstance(self.unknown_label, dict):
            return self.unknown_label.get(key)
        return self.unknown_label

    # ---- files, per process ----------------------------------------------------------------------

    def _reader(self, index: int) -> ShardReader:
        if self._closed:
            raise InvalidArgument("this MappedCollection was closed: create a new one to read again")
        pid = os.getpid()
        if self._pid != pid:  # a new process (fork or unpickled): never reuse a parent's handles
            self._readers = [None] * len(self.path_list)
            self._pid = pid
        reader = self._readers[index]
        if reader is None:
            shard = self._shards[index]
            reader = self._readers[index] = ShardReader(shard.path, shard.kind, shard.name, shard.layouts)
        return reader

    def _close_readers(self) -> None:
        if self._pid == os.getpid():
            for reader in self._readers:
                if reader is not None:
                    reader.close()
        self._readers = [None] * len(self.path_list)

    def close(self) -> None:
        """Close the files this process opened; the collection cannot read afterwards."""
        self._close_readers()
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> MappedCollection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_readers"] = [None] * len(self.path_list)
        state["_pid"] = None
        return state

    @property
    def storages(self) -> list[Any]:
        """The open h5py files / zarr groups of this process (opened now if they were not)."""
        return [self._reader(index).store for index in range(len(self._shards))]

    @staticmethod
    def torch_worker_init_fn(worker_id: int) -> None:
        """Kept for LaminDB code that passes it as `worker_init_fn`: each worker reopens the files on
        first use anyway, so there is nothing to do."""

    # ---- shape and metadata ----------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._offsets[-1])

    @property
    def n_obs(self) -> int:
        return len(self)

    @property
    def n_vars(self) -> int:
        return self._join.n_vars

    @property
    def shape(self) -> tuple[int, int]:
        """(observations after obs_filter, variables of the join)."""
        return len(self), self._join.n_vars

    @property
    def n_obs_list(self) -> list[int]:
        return [shard.n_obs for shard in self._shards]

    @property
    def n_vars_list(self) -> list[int]:
        return [len(shard.var_names) for shard in self._shards]

    @property
    def original_shapes(self) -> list[tuple[int, int]]:
        """(obs after obs_filter, vars) of each shard."""
        return [(shard.n_obs, len(shard.var_names)) for shard in self._shards]

    @property
    def var_list(self) -> list[np.ndarray]:
        """The var names of each shard."""
        return [shard.var_names for shard in self._shards]

    @property
    def var_joint(self) -> np.ndarray | None:
        """The joint var names, in the order of the columns of "X" (None with join=None)."""
        return self._join.var_joint

    @property
    def var_indices(self) -> list[np.ndarray] | None:
        """Per shard (LaminDB's meaning): inner join, the shard column of each joint variable; outer
        join, the joint column of each shard variable. None when the shards' variables are the same."""
        return self._join.var_indices

    @property
    def indices_list(self) -> list[np.ndarray]:
        """Per shard, the rows in the file that the collection keeps."""
        return [np.arange(s.n_obs_file) if s.rows is None else s.rows for s in self._shards]

    @property
    def indices(self) -> np.ndarray:
        """The row in its shard of every observation (an array of n_obs)."""
        return np.concatenate(self.indices_list) if self._shards else np.empty(0, dtype=np.int64)

    @property
    def storage_idx(self) -> np.ndarray:
        """The shard of every observation (an array of n_obs)."""
        return np.repeat(np.arange(len(self._shards)), self.n_obs_list)

    def check_vars_sorted(self, ascending: bool = True) -> bool:
        """Whether the var names of every shard are sorted."""
        for names in self.var_list:
            ordered = np.all(names[:-1] <= names[1:]) if ascending else np.all(names[:-1] >= names[1:])
            if not ordered:
                return False
        return True

    def check_vars_non_aligned(self, vars: Sequence[str]) -> list[int]:
        """The shards whose var names are not exactly `vars` (in order)."""
        wanted = np.asarray(vars, dtype=object)
        return [i for i, names in enumerate(self.var_list) if not np.array_equal(names, wanted)]

    def __repr__(self) -> str:
        return (
            f"MappedCollection(n_obs={len(self)}, n_vars={self.n_vars}, shards={len(self._shards)}, "
            f"join={self.join_vars!r}, layers_keys={self.layers_keys}, obs_keys={self.obs_keys})"
        )

    # ---- labels ----------------------------------------------------------------------------------

    def _column_spec(self, index: int, key: str) -> ColumnSpec:
        spec = self._shards[index].columns.get(key)
        return spec if spec is not None else self._reader(index).describe_column(key)

    def _lookup(self, index: int, key: str, reader: ShardReader) -> np.ndarray | None:
        """Code -> output (encoded integer or label) of a categorical column of one shard, else None."""
        found = self._lookups.get((index, key))
        if found is not None:
            return found
        spec = self._shards[index].columns[key]
        if spec.kind != "categorical":
            return None
        categories = self._categories[key][index] if self.cache_categories else reader.categories(spec)
        assert categories is not None
        lookup = code_lookup(categories, self.encoders.get(key))
        if self.cache_categories:
            self._lookups[(index, key)] = lookup
        return lookup

    def _labels(self, index: int, key: str, reader: ShardReader, rows: np.ndarray | None) -> np.ndarray:
        """The outputs of obs column `key` for sorted unique `rows` (None: all rows) of one shard."""
        spec = self._column_spec(index, key)
        values = reader.read_column(spec, rows)
        if key in self._shards[index].columns:
            lookup = self._lookup(index, key, reader)
        else:
            categories = reader.categories(spec)
            lookup = None if categories is None else code_lookup(categories, None)
        if lookup is not None:
            return lookup[values]
        if key in self.encoders:
            return encode_values(values, self.encoders[key])
        return values

    def get_merged_labels(self, label_key: str) -> np.ndarray:
        """The label of every observation for obs column `label_key` (after obs_filter), in order."""
        merged = []
        for index, shard in enumerate(self._shards):
            reader = self._reader(index)
            spec = self._column_spec(index, label_key)
            values = reader.read_column(spec)
            categories = reader.categories(spec)
            labels = values if categories is None else code_lookup(categories, None)[values]
            merged.append(labels if shard.rows is None else labels[shard.rows])
            reader.release_hdf5(shard.read_paths())  # one HDF5 file open at a time, as at construction
        return np.concatenate(merged) if merged else np.empty(0, dtype=object)

    def get_merged_categories(self, label_key: str) -> list[Any]:
        """The sorted union of the categories of obs column `label_key` over the shards."""
        cached = self._categories.get(label_key)
        if cached is None:
            cached = []
            for index in range(len(self._shards)):
                reader = self._reader(index)
                spec = self._column_spec(index, label_key)
                categories = reader.categories(spec)
                if categories is None:
                    categories = np.array(present_values(reader.read_column(spec)), dtype=object)
                cached.append(categories)
                reader.release_hdf5(self._shards[index].read_paths())
        return merge_categories(c for c in cached if c is not None)

    def get_label_weights(
        self, obs_keys: str | Sequence[str], scaler: float | None = None, return_categories: bool = False
    ) -> np.ndarray | dict[str, float]:
        """Per-observation weights `1 / count of its label` (for several keys, of the combined label
        "a__b"), for `torch.utils.data.WeightedRandomSampler`; with `scaler`,
        `scaler / (count + scaler)`. `return_categories=True` returns {label: weight} instead."""
        keys = as_keys(obs_keys, "obs_keys")
        if not keys:
            raise InvalidArgument("get_label_weights needs at least one obs key")
        weights, names, per_label = label_weights([self.get_merged_labels(key) for key in keys], scaler)
        if return_categories:
            return dict(zip(names, per_label.tolist(), strict=True))
        return weights

    # ---- reading ---------------------------------------------------------------------------------

    @overload
    def __getitem__(self, idx: int | np.integer[Any]) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, idx: slice | Sequence[int] | np.ndarray) -> dict[str, np.ndarray]: ...
    def __getitem__(self, idx: Any) -> dict[str, Any]:
        """One item (a dict of a row per key) for an integer; for a list, array or slice of indices,
        `read_batch` of them (a dict of arrays: what a DataLoader with `batch_size=None` and a
        `BatchSampler` as sampler collates at no cost)."""
        if not isinstance(idx, int | np.integer):
            if isinstance(idx, slice):
                return self.read_batch(np.arange(*idx.indices(len(self))))
            if isinstance(idx, list | tuple | range | np.ndarray) or hasattr(idx, "__array__"):
                return self.read_batch(idx)
            raise InvalidArgument(
                f"a MappedCollection is indexed by an integer, a list of integers or a slice, "
                f"not {type(idx).__name__}"
            )
        position = int(idx)
        n_obs = self._offset_list[-1]
        if position < 0:
            position += n_obs
        if not 0 <= position < n_obs:
            raise OutOfRange(f"index {idx} is out of range for a MappedCollection of {n_obs} observations")
        index = bisect.bisect_right(self._offset_list, position) - 1
        shard = self._shards[index]
        local = position - self._offset_list[index]
        row = local if shard.rows is None else int(shard.rows[local])
        reader = self._reader(index)
        item: dict[str, Any] = {}
        for output in self._outputs:
            spec = shard.matrices[output.key]
            item[output.key] = read_row(reader, spec, output, *self._row_maps(index, output), row)
        item["_store_idx"] = index
        item["_idx"] = position
        for key in self.obs_keys:
            item[key] = self._label(index, key, reader, row)
        return item

    def _label(self, index: int, key: str, reader: ShardReader, row: int) -> Any:
        """One row of `_labels`, without the array machinery (single items are read one by one)."""
        spec = self._shards[index].columns[key]
        value = reader.read_value(spec, row)
        lookup = self._lookup(index, key, reader)
        if lookup is not None:
            value = lookup[value]
        elif key in self.encoders:
            return self.encoders[key].get(value, UNKNOWN_CODE)
        return value.item() if isinstance(value, np.generic) else value

    def _row_maps(self, index: int, output: Output) -> tuple[np.ndarray | None, np.ndarray | None]:
        if not output.joined:
            return None, None
        return self._join.col_maps[index], self._join.takes[index]

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        """The items for a batch of indices, in their order: what torch's DataLoader calls, reading
        each shard once per batch. Values are the rows of one array per key (see `read_batch`)."""
        batch = self.read_batch(indices)
        columns: dict[str, Any] = {}
        for key, values in batch.items():
            columns[key] = values if values.ndim > 1 else values.tolist()
        keys = list(columns)
        return [{key: columns[key][j] for key in keys} for j in range(len(batch["_idx"]))]

    def read_batch(self, indices: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
        """A batch as arrays: each matrix as a 2-D array (one row per index, in the order given), each
        obs key, "_store_idx" and "_idx" as a 1-D array. One sorted read per shard and element."""
        positions = self._positions(indices)
        n = len(positions)
        batch: dict[str, np.ndarray] = {
            output.key: np.zeros((n, output.width), dtype=output.dtype) for output in self._outputs
        }
        shard_of = np.searchsorted(self._offsets, positions, side="right") - 1
        labels = {
            key: np.empty(n, dtype=np.int64 if key in self.encoders else object) for key in self.obs_keys
        }
        order = np.argsort(shard_of, kind="stable")
        cuts = np.flatnonzero(np.diff(shard_of[order])) + 1
        for chosen in np.split(order, cuts) if n else []:
            index = int(shard_of[chosen[0]])
            shard = self._shards[index]
            local = positions[chosen] - self._offsets[index]
            rows = local if shard.rows is None else shard.rows[local]
            unique, inverse = np.unique(rows, return_inverse=True)
            inverse = inverse.reshape(-1)
            reader = self._reader(index)
            for output in self._outputs:
                spec = shard.matrices[output.key]
                maps = self._row_maps(index, output)
                fill_rows(batch[output.key], reader, spec, output, *maps, chosen, unique, inverse)
            for key in self.obs_keys:
                if len(unique) <= FEW_ROWS:
                    values = np.array(
                        [self._label(index, key, reader, row) for row in unique.tolist()], dtype=object
                    )
                else:
                    values = self._labels(index, key, reader, unique)
                labels[key][chosen] = values[inverse]
        batch["_store_idx"] = shard_of
        batch["_idx"] = positions
        batch.update(labels)
        return batch

    def _positions(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        positions = np.asarray(indices)
        if positions.ndim != 1 or (positions.size and positions.dtype.kind not in "iu"):
            raise InvalidArgument(f"a batch of indices must be a 1-D sequence of integers, not {indices!r}")
        positions = positions.astype(np.int64, copy=True)
        n_obs = len(self)
        positions[positions < 0] += n_obs
        bad = (positions < 0) | (positions >= n_obs)
        if bad.any():
            raise OutOfRange(
                f"indices {np.asarray(indices)[bad][:5].tolist()} are out of range for a "
                f"MappedCollection of {n_obs} observations"
            )
        return positions
