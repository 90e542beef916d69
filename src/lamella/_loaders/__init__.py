"""Data loaders over stored datasets: `MappedCollection`, what `collection.mapped()` returns.

Nothing imports this package at `import lamella` time: it imports numpy, h5py (and zarr, when
installed) and is loaded by the first `mapped()` call. It never imports torch.

- `shards.py`: one AnnData shard on disk (.h5ad with h5py, .zarr with zarr), described and read by rows
- `ondisk.py`: reading runs of rows from h5py datasets and zarr arrays in as few calls as possible
- `joins.py`: inner/outer joins of the shards' variables as index arrays
- `labels.py`: merged categories, label encoders, obs filters, label weights
- `mapped.py`: `MappedCollection`, the map-style dataset
"""

from __future__ import annotations

from lamella._loaders.mapped import MappedCollection

__all__ = ["MappedCollection"]
