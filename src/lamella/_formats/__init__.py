"""One registry of file formats: read by suffix, write by Python type.

    >>> from lamella import _formats
    >>> written = _formats.serialize(df, directory, "my_table")   # -> my_table.parquet
    >>> _formats.load(written.path, written.suffix)               # -> DataFrame
    >>> _formats.open_dataset(written.path, ".parquet")           # -> pyarrow.dataset.Dataset

A new format is one call to `register_format`. Importing this package imports no heavy library;
pandas, pyarrow, anndata, zarr and yaml are imported by the function that needs them.
"""

from __future__ import annotations

from lamella._formats import builtin
from lamella._formats.access import (
    load,
    open_dataset,
    otype_for_suffix,
    supported_load_suffixes,
    supported_open_suffixes,
)
from lamella._formats.otype import otype_of
from lamella._formats.registry import register_format
from lamella._formats.serialize import (
    SerializedData,
    n_observations_of,
    serialize,
    stream_writer_for,
    suffix_for,
)

__all__ = [
    "SerializedData",
    "load",
    "n_observations_of",
    "open_dataset",
    "otype_for_suffix",
    "otype_of",
    "register_format",
    "serialize",
    "stream_writer_for",
    "suffix_for",
    "supported_load_suffixes",
    "supported_open_suffixes",
]

# here, and only here: every lookup goes through this package, so the built-ins are in the table
# before the first lookup and before any user registration, which therefore wins over them
builtin.register_builtins()
