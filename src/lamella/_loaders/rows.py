"""Rows of one shard's matrices placed into the joint columns: one item's row, or a batch's rows.

The var join arrives as index arrays (see `joins.py`): `col_map` (shard column -> joint column, -1
when the join drops it) for sparse rows, `take` (joint column -> shard column, -1 when the shard lacks
it) for dense ones; None when the shard's columns are the joint ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lamella._loaders.shards import MatrixSpec, ShardReader

__all__ = ["FEW_ROWS", "Output", "fill_rows", "read_row"]

# a shard contributing at most this many rows to a batch has them read one by one: the per-run
# arithmetic costs more than that for a handful of rows (collections of many shards)
FEW_ROWS = 4


@dataclass(frozen=True)
class Output:
    """One matrix of the items: its key ("X", a layer name, "obsm_<key>"), width, dtype, and whether
    it follows the var join (X and layers do, obsm entries do not)."""

    key: str
    width: int
    dtype: np.dtype[Any]
    joined: bool


def read_row(
    reader: ShardReader,
    spec: MatrixSpec,
    output: Output,
    col_map: np.ndarray | None,
    take: np.ndarray | None,
    row: int,
) -> np.ndarray:
    """Row `row` of one shard's matrix as a dense 1-D array in the joint columns."""
    if spec.sparse:
        data, columns = reader.read_csr_row(spec, row)
        out = np.zeros(output.width, dtype=output.dtype)
        if col_map is not None:
            columns = col_map[columns]
            kept = columns >= 0
            data, columns = data[kept], columns[kept]
        out[columns] = data
        return out
    values = reader.read_dense_row(spec, row)
    if take is not None:
        present = take >= 0
        if present.all():
            values = values[take]
        else:
            full = np.zeros(output.width, dtype=output.dtype)
            full[present] = values[take[present]]
            values = full
    return values.astype(output.dtype, copy=False)


def fill_rows(
    out: np.ndarray,
    reader: ShardReader,
    spec: MatrixSpec,
    output: Output,
    col_map: np.ndarray | None,
    take: np.ndarray | None,
    chosen: np.ndarray,
    unique: np.ndarray,
    inverse: np.ndarray,
) -> None:
    """Write the rows `unique` (sorted) of one shard into the batch `out`: batch position `chosen[j]`
    gets row `unique[inverse[j]]`."""
    if spec.sparse and len(unique) <= FEW_ROWS:
        for number, row in enumerate(unique.tolist()):
            out[chosen[inverse == number]] = read_row(reader, spec, output, col_map, take, row)
        return
    if spec.sparse:
        data, columns, counts = reader.read_csr_rows(spec, unique)
        row_of = np.repeat(np.arange(len(unique)), counts)
        if col_map is not None:
            columns = col_map[columns]
            kept = columns >= 0
            data, columns, row_of = data[kept], columns[kept], row_of[kept]
        if len(unique) == len(chosen):  # no repeated index: write straight into the batch
            destination = np.empty(len(unique), dtype=np.int64)
            destination[inverse] = chosen
            out[destination[row_of], columns] = data
        else:
            block = np.zeros((len(unique), output.width), dtype=output.dtype)
            block[row_of, columns] = data
            out[chosen] = block[inverse]
        return
    block = reader.read_dense_rows(spec, unique)
    if take is not None:
        present = take >= 0
        if present.all():
            block = block[:, take]
        else:
            full = np.zeros((len(unique), output.width), dtype=output.dtype)
            full[:, present] = block[:, take[present]]
            block = full
    out[chosen] = block[inverse]
