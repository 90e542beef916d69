"""Many artifacts read as one: concatenated in memory, opened as one dataset, or mapped for training.

Collections and artifact queries (`ln.Artifact.filter(...).load()`) both read through here. Every
artifact read is recorded as an input of the current run, as a single `artifact.load()` would be.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lamella import _loaders, _storage
from lamella.errors import InvalidArgument
from lamella.models.artifact.access import load_artifact, local_copy, verified_location
from lamella.models.core.run_links import link_input

if TYPE_CHECKING:
    from lamella.models.artifact.artifact import Artifact

_TABLE_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".tsv": "csv"}
_KIND_BY_SUFFIX = {
    ".parquet": "DataFrame",
    ".csv": "DataFrame",
    ".tsv": "DataFrame",
    ".h5ad": "AnnData",
    ".zarr": "AnnData",
    ".h5mu": "MuData",
}


def kind_of(artifact: Artifact) -> str:
    """What the artifact loads as: its `otype` ("DataFrame", "AnnData", "MuData"), else by suffix."""
    if artifact.otype in ("DataFrame", "AnnData", "MuData"):
        return artifact.otype
    suffix = (artifact.suffix or "").lower()
    return _KIND_BY_SUFFIX.get(suffix, f"'{suffix or 'folder'}' file")


def _name(artifact: Artifact) -> str:
    return repr(artifact.key) if artifact.key else artifact.uid


def common_kind(artifacts: Sequence[Artifact], what: str) -> str:
    """The one kind all `artifacts` share; an error naming each kind and its artifacts otherwise."""
    if not artifacts:
        raise InvalidArgument(f"{what} holds no artifacts")
    by_kind: dict[str, list[Artifact]] = {}
    for artifact in artifacts:
        by_kind.setdefault(kind_of(artifact), []).append(artifact)
    if len(by_kind) == 1:
        return next(iter(by_kind))
    kinds = "; ".join(
        f"{len(group)} {kind} ({', '.join(_name(a) for a in group[:3])}{' …' if len(group) > 3 else ''})"
        for kind, group in by_kind.items()
    )
    raise InvalidArgument(
        f"{what} mixes artifacts of different kinds: {kinds}. They cannot be read as one; load them "
        f"one by one with artifact.load(), or make one collection per kind"
    )


def _check_join(join: Any) -> Literal["inner", "outer"]:
    if join not in ("inner", "outer"):
        raise InvalidArgument(f"join={join!r} is not a join: pass join='outer' (the default) or 'inner'")
    return join


def load_many(
    artifacts: Sequence[Artifact],
    *,
    join: str = "outer",
    what: str = "the query",
    is_run_input: bool | None = None,
    **kwargs: Any,
) -> Any:
    """One object for all `artifacts`: DataFrames concatenated by pandas, AnnData and MuData by their
    own `concat` (with an `artifact_uid` column naming where each observation came from)."""
    how = _check_join(join)
    kind = common_kind(artifacts, what)
    if kind not in ("DataFrame", "AnnData", "MuData"):
        raise InvalidArgument(
            f"{what} holds {kind}s, which have no concatenation; load them one by one with artifact.load()"
        )
    objects = [load_artifact(a, is_run_input=is_run_input, **kwargs) for a in artifacts]
    if kind == "DataFrame":
        import pandas as pd

        return pd.concat(objects, join=how)
    keys = [a.uid for a in artifacts]
    index_unique = "-" if _obs_names_repeat(objects) else None  # keep cell ids when they are unique
    if kind == "AnnData":
        import anndata

        return anndata.concat(objects, join=how, label="artifact_uid", keys=keys, index_unique=index_unique)
    import mudata

    return mudata.concat(objects, join=how, label="artifact_uid", keys=keys, index_unique=index_unique)


def _obs_names_repeat(objects: list[Any]) -> bool:
    seen: set[Any] = set()
    total = 0
    for data in objects:
        seen.update(data.obs_names)
        total += data.n_obs
    return len(seen) != total


def open_many(
    artifacts: Sequence[Artifact],
    *,
    engine: str = "pyarrow",
    what: str = "the query",
    is_run_input: bool | None = None,
    **kwargs: Any,
) -> Any:
    """A `pyarrow.dataset.Dataset` (or, with engine="polars", a polars `LazyFrame`) over table shards."""
    if engine not in ("pyarrow", "polars"):
        raise InvalidArgument(f"engine={engine!r} is not an engine: pass engine='pyarrow' or 'polars'")
    common_kind(artifacts, what)
    suffixes = {(a.suffix or "").lower() for a in artifacts}
    formats = {_TABLE_SUFFIXES.get(s) for s in suffixes}
    if None in formats or len(formats) != 1:
        shown = ", ".join(sorted(s or "folder" for s in suffixes))
        raise InvalidArgument(
            f"{what} holds {shown} files; open() reads parquet, csv or tsv shards of one format. For "
            f"AnnData shards use .mapped() to train on them, or artifact.open() for one shard, backed"
        )
    file_format = formats.pop()
    assert file_format is not None
    locations = [verified_location(a) for a in artifacts]
    filesystem = _one_filesystem(locations) if engine == "pyarrow" else None
    if filesystem is None:  # local shards, or cloud shards polars reads from the cache
        paths = [str(local_copy(a)) for a in artifacts]
    else:
        paths = [location.split("://", 1)[1] for location in locations]
    for artifact in artifacts:
        link_input(artifact, is_run_input)
    if engine == "polars":
        return _scan_polars(paths, file_format, suffixes, **kwargs)
    import pyarrow.dataset as ds

    source_format: Any = file_format
    if suffixes == {".tsv"}:
        import pyarrow.csv as pacsv

        source_format = ds.CsvFileFormat(parse_options=pacsv.ParseOptions(delimiter="\t"))
    return ds.dataset(paths, format=source_format, filesystem=filesystem, **kwargs)


def _one_filesystem(locations: list[str]) -> Any:
    """The fsspec filesystem of cloud shards that all live in one store; None for local ones."""
    clouds = [_storage.is_cloud(location) for location in locations]
    if not any(clouds):
        return None
    protocols = {location.split("://", 1)[0] for location in locations}
    if not all(clouds) or len(protocols) != 1:
        return None  # mixed places: read every shard from the local cache
    return _storage.filesystem(locations[0])


def _scan_polars(paths: list[str], file_format: str, suffixes: set[str], **kwargs: Any) -> Any:
    try:
        import polars as pl
    except ImportError as e:
        raise InvalidArgument(
            "engine='polars' needs polars, which is not installed: pip install 'lamella[polars]'"
        ) from e
    if file_format == "parquet":
        return pl.scan_parquet(paths, **kwargs)
    separator = "\t" if suffixes == {".tsv"} else ","
    return pl.concat([pl.scan_csv(path, separator=separator, **kwargs) for path in paths])


def cache_many(artifacts: Sequence[Artifact], *, is_run_input: bool | None = None) -> list[Path]:
    """Local paths of all shards; cloud ones are downloaded once into the cache."""
    paths = [local_copy(a) for a in artifacts]
    for artifact in artifacts:
        link_input(artifact, is_run_input)
    return paths


def mapped_many(
    artifacts: Sequence[Artifact],
    *,
    what: str = "the query",
    stream: bool = False,
    is_run_input: bool | None = None,
    **kwargs: Any,
) -> Any:
    """A map-style dataset over AnnData shards (h5ad files, zarr folders) for PyTorch data loaders.

    Cloud shards are cached locally first, unless `stream=True`, which reads them remotely.
    """
    kind = common_kind(artifacts, what)
    suffixes = {(a.suffix or "").lower() for a in artifacts}
    if kind != "AnnData" or not suffixes <= {".h5ad", ".zarr"}:
        raise InvalidArgument(
            f"{what} holds {kind} artifacts ({', '.join(sorted(suffixes))}); mapped() reads AnnData "
            f"shards stored as .h5ad or .zarr. Tables open with .open(), other kinds load one by one"
        )
    shards: list[Any] = []
    for artifact in artifacts:
        location = verified_location(artifact)
        if stream and _storage.is_cloud(location):
            shards.append(_storage.to_path(location))
        else:
            shards.append(local_copy(artifact))
        link_input(artifact, is_run_input)
    return _loaders.MappedCollection(shards, label_names=[a.key or a.uid for a in artifacts], **kwargs)
