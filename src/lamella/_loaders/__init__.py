"""Data loaders over stored datasets: `MappedCollection`, what `collection.mapped()` returns.

The package itself is light: the registries import it, and `MappedCollection` (numpy, h5py, zarr
and fsspec) is loaded by the first `mapped()` call, through the module `__getattr__` below. It never
imports torch.

- `mapped.py`: `MappedCollection`, the map-style dataset
- `shards.py`: one AnnData shard (.h5ad with h5py, .zarr with zarr), local or remote, described and read
  by rows
- `remote.py`: shards in an object store (S3, ...) read in place through fsspec: `RemotePath` (a URL and
  its filesystem, pickled to worker processes, which reopen the files), h5py over a block-cached
  fsspec file, zarr over an `FsspecStore`, and the errors that name the URL
- `ondisk.py`: reading runs of rows from h5py datasets and zarr arrays in as few calls as possible,
  and uncompressed HDF5 datasets with `os.preadv` at the offsets h5py gives (`RawLayout`; local
  files only: a remote h5ad shard is read by HDF5 alone)
- `rows.py`: a shard's rows placed into the joint columns, for one item or a batch
- `joins.py`: inner/outer joins of the shards' variables as index arrays
- `labels.py`: merged categories, label encoders, obs filters, label weights
- `arguments.py`: the constructor's arguments, checked
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lamella._loaders.mapped import MappedCollection

__all__ = ["MappedCollection"]


def __getattr__(name: str) -> Any:
    if name == "MappedCollection":
        return importlib.import_module("lamella._loaders.mapped").MappedCollection
    raise AttributeError(f"module 'lamella._loaders' has no attribute {name!r}")
