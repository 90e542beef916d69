"""Write an in-memory object to a local file in its canonical format and describe the result."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamella._formats.otype import otype_of
from lamella.errors import InvalidArgument, StorageError, ValidationError

__all__ = ["SerializedData", "serialize", "suffix_for"]


@dataclass(frozen=True)
class SerializedData:
    """What `serialize` wrote."""

    path: Path
    """The written file, or folder for zarr."""
    suffix: str
    """E.g. `".parquet"`."""
    otype: str | None
    """`"DataFrame"`, `"AnnData"`, `"MuData"` or None."""
    n_observations: int | None
    """Rows of a DataFrame, `n_obs` of an AnnData or MuData; None otherwise."""


Writer = Callable[[Any, Path], None]


def _write_parquet(df: Any, path: Path) -> None:
    bad = [column for column in df.columns if not isinstance(column, str)]
    if bad:
        raise InvalidArgument(
            f"parquet needs string column names, got {bad[:5]!r}; rename them first, "
            "e.g. df.columns = df.columns.astype(str)"
        )
    import pyarrow as pa

    _refuse_deep_nesting(df)
    try:
        # index=None: a RangeIndex is stored as metadata, any other index as columns, so both come back
        df.to_parquet(path, engine="pyarrow", index=None)
    except (pa.ArrowException, OverflowError, ValueError) as error:  # ValueError: duplicate column names
        path.unlink(missing_ok=True)  # pyarrow converts before it opens the file; this is in case
        raise _unwritable_column(df, error) from error


def _refuse_deep_nesting(df: Any) -> None:
    """pyarrow builds one nested type per level: a dict nested 2,000 deep exhausts memory and aborts."""
    from pandas.api.types import infer_dtype

    from lamella._limits import MAX_JSON_DEPTH

    for column in df.columns:
        series = df[column]
        if series.dtype != object or not infer_dtype(series, skipna=True).startswith(("mixed", "unknown")):
            continue  # strings, numbers, dates: no containers, nothing nested
        for value in series:
            if _nested_deeper_than(value, MAX_JSON_DEPTH):
                raise ValidationError(
                    f"column {column!r} holds values nested more than {MAX_JSON_DEPTH} levels deep, which "
                    f"parquet cannot store; flatten them, or store them as text: df[{column!r}].astype(str)"
                )


def _nested_deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 0)]
    while stack:  # iterative: the nesting may be deeper than Python's recursion limit
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple | set | frozenset):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _unwritable_column(df: Any, error: BaseException) -> ValidationError:
    """Name the column parquet cannot hold: pyarrow's message names it only sometimes."""
    import pyarrow as pa

    for column in [*df.columns, *(df.index.names if not _has_range_index(df) else [])]:
        try:
            values = df[column] if column in df.columns else df.index.get_level_values(column)
            pa.Array.from_pandas(values)
        except (pa.ArrowException, OverflowError) as e:
            kinds = sorted({type(v).__name__ for v in values.dropna()[:1000]})
            return ValidationError(
                f"column {column!r} cannot be written as parquet: {e}; its values are of type "
                f"{', '.join(kinds)}. Give it one type, e.g. df[{column!r}] = df[{column!r}].astype(str), "
                "or save with format='csv'"
            )
        except Exception:  # only looking for the column pyarrow refuses; others are not the cause
            continue
    return ValidationError(
        f"the DataFrame cannot be written as parquet: {error}; fix that, or save with format='csv'"
    )


def _has_range_index(df: Any) -> bool:
    import pandas as pd

    return isinstance(df.index, pd.RangeIndex)


def _write_delimited(sep: str) -> Writer:
    def write(df: Any, path: Path) -> None:
        import pandas as pd

        # a default RangeIndex carries no information; writing it would add a column on reload
        keep_index = not isinstance(df.index, pd.RangeIndex)
        df.to_csv(path, sep=sep, index=keep_index)

    return write


def _write_h5ad(adata: Any, path: Path) -> None:
    adata.write_h5ad(path)


def _write_zarr(adata: Any, path: Path) -> None:
    adata.write_zarr(path)


def _write_h5mu(mdata: Any, path: Path) -> None:
    mdata.write(path)


def _write_json(obj: Any, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as file:
        json.dump(obj, file, indent=2, ensure_ascii=False)


def _write_yaml(obj: Any, path: Path) -> None:
    import yaml

    with open(path, "w", encoding="utf-8") as file:
        yaml.safe_dump(obj, file, allow_unicode=True, sort_keys=False)


def _write_text(text: Any, path: Path) -> None:
    path.write_text(text, encoding="utf-8")


# kind of object -> {format: (suffix, writer)}; the first format listed is the default
_WRITERS: dict[str, dict[str, tuple[str, Writer]]] = {
    "DataFrame": {
        "parquet": (".parquet", _write_parquet),
        "csv": (".csv", _write_delimited(",")),
        "tsv": (".tsv", _write_delimited("\t")),
    },
    "AnnData": {
        "h5ad": (".h5ad", _write_h5ad),
        "zarr": (".zarr", _write_zarr),
        "anndata.zarr": (".anndata.zarr", _write_zarr),
    },
    "MuData": {"h5mu": (".h5mu", _write_h5mu)},
    "dict": {"json": (".json", _write_json), "yaml": (".yaml", _write_yaml), "yml": (".yml", _write_yaml)},
    "str": {
        "txt": (".txt", _write_text),
        "md": (".md", _write_text),
        "html": (".html", _write_text),
        "log": (".log", _write_text),
    },
}
# lists are JSON/YAML documents too
_WRITERS["list"] = {name: entry for name, entry in _WRITERS["dict"].items()}


def _kind_of(obj: Any) -> str | None:
    otype = otype_of(obj)
    if otype is not None:
        return otype
    if isinstance(obj, str):
        return "str"
    if isinstance(obj, dict):
        return "dict"
    if isinstance(obj, list):
        return "list"
    return None


def _n_observations(obj: Any, otype: str | None) -> int | None:
    if otype == "DataFrame":
        return len(obj)
    if otype in ("AnnData", "MuData"):
        return int(obj.n_obs)
    return None


def serialize(obj: Any, directory: Path, stem: str, *, format: str | None = None) -> SerializedData:
    """Write `obj` to `directory/<stem><suffix>` and describe what was written.

    DataFrame -> `.parquet` (or format "csv", "tsv"); AnnData -> `.h5ad` (or "zarr"); MuData ->
    `.h5mu`; dict or list -> `.json` (or "yaml"); str -> `.txt` (or "md", "html", "log").
    """
    kind, suffix, writer = _writer_for(obj, format)
    directory = Path(directory)
    path = directory / f"{stem}{suffix}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            # zarr stores are folders; a stale one would mix old and new arrays
            shutil.rmtree(path)
        writer(obj, path)
    except OSError as error:
        raise StorageError(f"could not write {kind} to {path}: {error}") from error
    otype = otype_of(obj)
    return SerializedData(path=path, suffix=suffix, otype=otype, n_observations=_n_observations(obj, otype))


def suffix_for(obj: Any, *, format: str | None = None) -> str:
    """The suffix `serialize` would write `obj` with, checked without writing anything."""
    return _writer_for(obj, format)[1]


def _writer_for(obj: Any, format: str | None) -> tuple[str, str, Writer]:
    """(kind of object, suffix, writer) for writing `obj` as `format`; raises for what cannot be written."""
    kind = _kind_of(obj)
    if kind is None:
        supported = "pandas.DataFrame, anndata.AnnData, mudata.MuData, dict, list, str"
        raise InvalidArgument(
            f"cannot serialize an object of type {type(obj).__module__}.{type(obj).__qualname__}; "
            f"supported are {supported}: convert it, or write it to a file yourself and pass the path"
        )
    writers = _WRITERS[kind]
    name = next(iter(writers)) if format is None else format.strip().lower().lstrip(".")
    if name not in writers:
        raise InvalidArgument(f"cannot write a {kind} as format={format!r}; choose one of {sorted(writers)}")
    suffix, writer = writers[name]
    return kind, suffix, writer
