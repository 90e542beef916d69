"""Data loaders over stored datasets: `MappedCollection`, what `collection.mapped()` returns.

Nothing imports this package at `import lamella` time: it imports numpy, h5py (and zarr, when
installed) and is loaded by the first `mapped()` call. It never imports torch.

- `mapped.py`: `MappedCollection`, the map-style dataset
- `shards.py`: one AnnData shard on disk (.h5ad with h5py, .zarr with zarr), described and read by rows
- `ondisk.py`: reading runs of rows from h5py datasets and zarr arrays in as few calls as possible,
  and uncompressed HDF5 datasets with `os.preadv` at the offsets h5py gives (`RawLayout`)
- `rows.py`: a shard's rows placed into the joint columns, for one item or a batch
- `joins.py`: inner/outer joins of the shards' variables as index arrays
- `labels.py`: merged categories, label encoders, obs filters, label weights
- `arguments.py`: the constructor's arguments, checked
"""

from __future__ import annotations

from lamella._loaders.mapped import MappedCollection

__all__ = ["MappedCollection"]
