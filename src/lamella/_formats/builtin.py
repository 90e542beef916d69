"""The formats Lamella reads out of the box."""

from __future__ import annotations

import importlib.util

from lamella._formats import loaders, openers
from lamella._formats.registry import register_format

__all__ = ["register_builtins"]

_TEXT_SUFFIXES = [".txt", ".md", ".log", ".html"]


def register_builtins() -> None:
    register_format([".parquet"], load=loaders.load_parquet, open=openers.open_parquet, otype="DataFrame")
    register_format([".csv"], load=loaders.load_csv, open=openers.open_csv, otype="DataFrame")
    register_format([".tsv"], load=loaders.load_tsv, open=openers.open_tsv, otype="DataFrame")
    register_format([".csv.gz"], load=loaders.load_csv_gz, open=openers.open_csv, otype="DataFrame")
    register_format([".tsv.gz"], load=loaders.load_tsv_gz, open=openers.open_tsv, otype="DataFrame")
    register_format([".h5ad"], load=loaders.load_h5ad, open=openers.open_h5ad, otype="AnnData")
    register_format(
        [".zarr", ".anndata.zarr"], load=loaders.load_zarr, open=openers.open_zarr, otype="AnnData"
    )
    register_format([".json"], load=loaders.load_json)
    register_format([".yaml", ".yml"], load=loaders.load_yaml)
    register_format(_TEXT_SUFFIXES, load=loaders.load_text)
    # mudata is optional: only claim .h5mu when it can actually be read
    if importlib.util.find_spec("mudata") is not None:
        register_format([".h5mu"], load=loaders.load_h5mu, otype="MuData")
