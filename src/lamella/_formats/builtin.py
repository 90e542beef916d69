"""The formats Lamella reads and writes out of the box.

Called once, by the package's `__init__`, before anything can look a format up: a user's
`register_format` therefore always comes later and wins.
"""

from __future__ import annotations

import importlib.util

from lamella._formats import loaders, openers, writers
from lamella._formats.registry import register_format

__all__ = ["register_builtins"]

_TEXT_SUFFIXES = [".txt", ".md", ".log", ".html"]
# sequences, alignments and annotations, plain or gzipped: opened as text handles
_SEQUENCE_SUFFIXES = [
    f"{suffix}{gz}"
    for suffix in (
        ".fasta",
        ".fa",
        ".fna",
        ".faa",
        ".fastq",
        ".fq",
        ".sam",
        ".vcf",
        ".bed",
        ".gtf",
        ".gff",
        ".gff3",
    )
    for gz in ("", ".gz")
]
_DATAFRAME = ["pandas.DataFrame"]
_ANNDATA = ["anndata.AnnData"]
_DOCUMENT = ["builtins.dict", "builtins.list"]  # lists are JSON/YAML documents too


def register_builtins() -> None:
    # the order of registration is the order types are listed in when an object cannot be written
    register_format(
        [".parquet"],
        load=loaders.load_parquet,
        open=openers.open_parquet,
        otype="DataFrame",
        write=writers.write_parquet,
        stream=writers.stream_parquet,
        types=_DATAFRAME,
        default=True,
    )
    register_format(
        [".csv"],
        load=loaders.load_csv,
        open=openers.open_csv,
        otype="DataFrame",
        write=writers.write_csv,
        stream=writers.stream_csv,
        types=_DATAFRAME,
    )
    register_format(
        [".tsv"],
        load=loaders.load_tsv,
        open=openers.open_tsv,
        otype="DataFrame",
        write=writers.write_tsv,
        stream=writers.stream_tsv,
        types=_DATAFRAME,
    )
    register_format([".csv.gz"], load=loaders.load_csv_gz, open=openers.open_csv, otype="DataFrame")
    register_format([".tsv.gz"], load=loaders.load_tsv_gz, open=openers.open_tsv, otype="DataFrame")
    register_format(
        [".h5ad"],
        load=loaders.load_h5ad,
        open=openers.open_h5ad,
        otype="AnnData",
        write=writers.write_h5ad,
        types=_ANNDATA,
        default=True,
    )
    register_format(
        [".zarr", ".anndata.zarr"],
        load=loaders.load_zarr,
        open=openers.open_zarr,
        otype="AnnData",
        write=writers.write_zarr,
        types=_ANNDATA,
    )
    # mudata is optional: only claim .h5mu when it can actually be read (without it, no MuData
    # object can exist to be written either)
    if importlib.util.find_spec("mudata") is not None:
        register_format(
            [".h5mu"],
            load=loaders.load_h5mu,
            otype="MuData",
            write=writers.write_h5mu,
            types=["mudata.MuData"],
            default=True,
        )
    register_format(
        [".json"],
        load=loaders.load_json,
        write=writers.write_json,
        stream=writers.stream_json,
        types=_DOCUMENT,
        default=True,
    )
    register_format(
        [".yaml", ".yml"],
        load=loaders.load_yaml,
        write=writers.write_yaml,
        stream=writers.stream_yaml,
        types=_DOCUMENT,
    )
    register_format(
        _TEXT_SUFFIXES,
        load=loaders.load_text,
        write=writers.write_text,
        stream=writers.stream_text,
        types=["builtins.str"],
        default=True,
    )
    # text files are opened as file handles (documents and plain text load as objects too)
    register_format([*_TEXT_SUFFIXES, ".json", ".yaml", ".yml", *_SEQUENCE_SUFFIXES], open=openers.open_text)
