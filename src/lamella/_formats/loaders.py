"""Functions that read a local file into memory, one per kind of file.

Each imports its library inside the function: only the format actually used pays for the import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = [
    "load_csv",
    "load_csv_gz",
    "load_h5ad",
    "load_h5mu",
    "load_json",
    "load_parquet",
    "load_text",
    "load_tsv",
    "load_tsv_gz",
    "load_yaml",
    "load_zarr",
]

# the header pandas writes for an unnamed index; reading it back as a column would turn every
# `df.to_csv()` round trip into a frame with an extra column
_UNNAMED_INDEX = "Unnamed: 0"


def load_parquet(path: Path, **kwargs: Any) -> Any:
    import pandas as pd

    return pd.read_parquet(path, engine="pyarrow", **kwargs)


def _read_delimited(path: Path, sep: str, kwargs: dict[str, Any], gzipped: bool = False) -> Any:
    import pandas as pd

    options: dict[str, Any] = {"sep": sep}
    if gzipped:
        # explicit because a cached copy need not keep the .gz ending pandas would infer it from
        options["compression"] = "gzip"
    options.update(kwargs)
    df = pd.read_csv(path, **options)
    if "index_col" not in kwargs and len(df.columns) > 0 and df.columns[0] == _UNNAMED_INDEX:
        df = df.set_index(_UNNAMED_INDEX)
        df.index.name = None
    return df


def load_csv(path: Path, **kwargs: Any) -> Any:
    return _read_delimited(path, ",", kwargs)


def load_tsv(path: Path, **kwargs: Any) -> Any:
    return _read_delimited(path, "\t", kwargs)


def load_csv_gz(path: Path, **kwargs: Any) -> Any:
    return _read_delimited(path, ",", kwargs, gzipped=True)


def load_tsv_gz(path: Path, **kwargs: Any) -> Any:
    return _read_delimited(path, "\t", kwargs, gzipped=True)


def load_h5ad(path: Path, **kwargs: Any) -> Any:
    import anndata

    return anndata.read_h5ad(path, **kwargs)


def load_zarr(path: Path, **kwargs: Any) -> Any:
    import anndata

    return anndata.read_zarr(path, **kwargs)


def load_h5mu(path: Path, **kwargs: Any) -> Any:
    import mudata

    return mudata.read_h5mu(path, **kwargs)


def load_json(path: Path, **kwargs: Any) -> Any:
    with open(path, encoding="utf-8") as file:
        return json.load(file, **kwargs)


def load_yaml(path: Path, **kwargs: Any) -> Any:
    import yaml

    with open(path, encoding="utf-8") as file:
        # safe_load: a data file must never be able to construct arbitrary Python objects
        return yaml.safe_load(file, **kwargs)


def load_text(path: Path, **kwargs: Any) -> str:
    encoding = kwargs.pop("encoding", "utf-8")
    return Path(path).read_text(encoding=encoding, **kwargs)
