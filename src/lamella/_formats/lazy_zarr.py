"""Read an AnnData zarr store so that its matrices are only read when sliced.

anndata's own lazy reader (`anndata.experimental.read_lazy`) needs xarray; without it we build an
AnnData whose `X`, layers and pairwise matrices are the zarr arrays (or anndata's on-disk sparse
datasets) themselves, while the small annotations (obs, var, uns, obsm, varm) are read into memory.
"""

from __future__ import annotations

from typing import Any

from lamella.errors import InvalidArgument

__all__ = ["read_zarr_lazily"]

_SPARSE_ENCODINGS = {"csr_matrix", "csc_matrix"}
_MATRIX_SLOTS = ("layers", "obsp", "varp")
_EAGER_SLOTS = ("obsm", "varm", "uns")


def read_zarr_lazily(store: Any, **kwargs: Any) -> Any:
    import anndata

    read_lazy = getattr(anndata.experimental, "read_lazy", None)
    if read_lazy is not None:
        try:
            return read_lazy(store, **kwargs)
        except ImportError:
            # its optional dependency (xarray) is missing: fall through to our own reader
            pass
    if kwargs:
        raise InvalidArgument(
            f"opening a zarr store with options {sorted(kwargs)} needs anndata.experimental.read_lazy, "
            "which needs xarray: pip install xarray, or open without options"
        )
    return _read_with_zarr_arrays(store)


def _anndata_io() -> tuple[Any, Any]:
    # anndata >= 0.11 exposes these in anndata.io; 0.10 only in anndata.experimental
    import anndata

    module = getattr(anndata, "io", None)
    if module is None or not hasattr(module, "read_elem"):
        module = anndata.experimental
    return module.read_elem, module.sparse_dataset


def _read_with_zarr_arrays(store: Any) -> Any:
    import anndata
    import zarr

    read_elem, sparse_dataset = _anndata_io()
    # Any: zarr types a child as "array or group", but the AnnData layout fixes which one it is
    group: Any = zarr.open_group(store, mode="r")

    def lazy(node: Any) -> Any:
        if isinstance(node, zarr.Array):
            return node
        if node.attrs.get("encoding-type") in _SPARSE_ENCODINGS:
            return sparse_dataset(node)
        return read_elem(node)

    slots: dict[str, Any] = {}
    for name in ("obs", "var"):
        if name in group:
            slots[name] = read_elem(group[name])
    if "X" in group:
        slots["X"] = lazy(group["X"])
    for name in _MATRIX_SLOTS:
        if name in group:
            slots[name] = {key: lazy(group[name][key]) for key in group[name]}
    for name in _EAGER_SLOTS:
        if name in group:
            slots[name] = read_elem(group[name])
    return anndata.AnnData(**slots)
