"""Functions that write an in-memory object to a local file, one per format.

Each imports its library inside the function: only the format actually used pays for the import.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from lamella._limits import MAX_JSON_DEPTH
from lamella.errors import InvalidArgument, ValidationError

__all__ = [
    "stream_csv",
    "stream_json",
    "stream_parquet",
    "stream_text",
    "stream_tsv",
    "stream_yaml",
    "write_csv",
    "write_h5ad",
    "write_h5mu",
    "write_json",
    "write_parquet",
    "write_text",
    "write_tsv",
    "write_yaml",
    "write_zarr",
]


def write_parquet(df: Any, path: Path) -> None:
    try:
        _to_parquet(df, path)
    except BaseException:
        path.unlink(missing_ok=True)  # pyarrow converts before it opens the file; this is in case
        raise


def stream_parquet(df: Any, file: BinaryIO) -> None:
    # pyarrow writes a parquet file front to back: column pages, then the footer
    _to_parquet(df, file)


def _to_parquet(df: Any, target: Path | BinaryIO) -> None:
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
        df.to_parquet(target, engine="pyarrow", index=None)
    except (pa.ArrowException, OverflowError, ValueError) as error:  # ValueError: duplicate column names
        raise _unwritable_column(df, error) from error


def _refuse_deep_nesting(df: Any) -> None:
    """pyarrow builds one nested type per level: a dict nested 2,000 deep exhausts memory and aborts."""
    from pandas.api.types import infer_dtype

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


def _write_delimited(sep: str) -> Callable[[Any, Path], None]:
    stream = _stream_delimited(sep)

    def write(df: Any, path: Path) -> None:
        with open(path, "wb") as file:
            stream(df, file)

    return write


def _stream_delimited(sep: str) -> Callable[[Any, BinaryIO], None]:
    def stream(df: Any, file: BinaryIO) -> None:
        # a default RangeIndex carries no information; writing it would add a column on reload
        keep_index = not _has_range_index(df)
        # newline="": the same bytes as to_csv(path), which opens its file that way
        with _text(file, newline="") as text:
            df.to_csv(text, sep=sep, index=keep_index)

    return stream


@contextmanager
def _text(file: BinaryIO, newline: str | None = None) -> Iterator[io.TextIOWrapper]:
    """A UTF-8 text layer over `file` that leaves `file` open when done."""
    text = io.TextIOWrapper(file, encoding="utf-8", newline=newline)
    try:
        yield text
        text.flush()
    finally:
        text.detach()


def write_h5ad(adata: Any, path: Path) -> None:
    adata.write_h5ad(path)


def write_zarr(adata: Any, path: Path) -> None:
    adata.write_zarr(path)


def write_h5mu(mdata: Any, path: Path) -> None:
    mdata.write(path)


def write_json(obj: Any, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as file:
        json.dump(obj, file, indent=2, ensure_ascii=False)


def stream_json(obj: Any, file: BinaryIO) -> None:
    with _text(file) as text:
        json.dump(obj, text, indent=2, ensure_ascii=False)


def write_yaml(obj: Any, path: Path) -> None:
    with open(path, "wb") as file:
        stream_yaml(obj, file)


def stream_yaml(obj: Any, file: BinaryIO) -> None:
    import yaml

    with _text(file) as text:
        yaml.safe_dump(obj, text, allow_unicode=True, sort_keys=False)


def write_text(text: Any, path: Path) -> None:
    path.write_text(text, encoding="utf-8")


def stream_text(value: Any, file: BinaryIO) -> None:
    with _text(file) as text:
        text.write(value)


write_csv = _write_delimited(",")
write_tsv = _write_delimited("\t")
stream_csv = _stream_delimited(",")
stream_tsv = _stream_delimited("\t")
