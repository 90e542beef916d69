"""What an artifact's page shows of its content: the first rows of a table, an AnnData's shape and
heads, an image, the start of a text. Read from local storage or streamed (S3): never the whole
file, so a preview of a large artifact costs what its first rows do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lamella import _storage
from lamella._instance import state

ROWS = 10
TEXT_BYTES = 4096
_CHUNK = 1 << 20
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
TEXTS = (
    ".txt",
    ".md",
    ".json",
    ".yaml",
    ".yml",
    ".py",
    ".r",
    ".log",
    ".fasta",
    ".fa",
    ".sh",
    ".toml",
    ".ipynb",
)


def local_path(artifact: Any) -> Path | None:
    """The artifact's file on this machine: in local storage, or a cached copy of a cloud artifact
    (`artifact.cache()`) of its size; else None (stream it from the cloud)."""
    path = artifact.path
    if getattr(path, "protocol", "") in ("", "file", "local"):
        local = Path(str(path).removeprefix("file://"))
        return local if local.is_file() else None
    # an artifact's bytes never change under its uid: a cached copy of the right size is them
    cached = _storage.cache_path_for(str(path), state.cache_dir())
    return cached if cached.is_file() and cached.stat().st_size == artifact.size else None


def _open(artifact: Any) -> Any:
    local = local_path(artifact)
    return local.open("rb") if local is not None else artifact.path.open("rb")


def stream(artifact: Any) -> Iterator[bytes]:
    """The artifact's bytes in chunks; opened now, so a file gone fails before a response starts."""
    return _chunks(_open(artifact))


def _chunks(handle: Any) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def of(artifact: Any) -> dict[str, Any] | None:
    """{"table" | "anndata" | "image" | "text" | "note": ...} for the artifact's page, or None."""
    suffix = (artifact.suffix or "").lower()
    if artifact.n_files:
        return {"note": f"a folder of {artifact.n_files} files"}
    try:
        if suffix == ".parquet":
            return {"table": _parquet(artifact)}
        if suffix in (".csv", ".tsv"):
            return {"table": _csv(artifact, "\t" if suffix == ".tsv" else ",")}
        if suffix == ".h5ad":
            return {"anndata": _h5ad(artifact)}
        if suffix in IMAGES:
            return {"image": f"/artifacts/{artifact.uid}/download?inline=1"}
        if suffix in TEXTS:
            with _open(artifact) as handle:
                data = handle.read(TEXT_BYTES + 1)
            text = data[:TEXT_BYTES].decode("utf-8", errors="replace")
            return {"text": text, "truncated": len(data) > TEXT_BYTES}
    except Exception as e:  # a preview that fails says why; the rest of the page stays
        return {"note": f"no preview: {type(e).__name__}: {e}"}
    return None


def _frame(df: Any) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in df.columns],
        "index": [str(i) for i in df.index],
        "rows": [[_cell(v) for v in row] for row in df.itertuples(index=False, name=None)],
    }


def _cell(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _parquet(artifact: Any) -> dict[str, Any]:
    import pyarrow.parquet as pq

    with _open(artifact) as handle:
        parquet = pq.ParquetFile(handle)
        batch = next(parquet.iter_batches(batch_size=ROWS), None)
        frame = batch.to_pandas() if batch is not None else parquet.schema_arrow.empty_table().to_pandas()
        shape = (parquet.metadata.num_rows, parquet.metadata.num_columns)
    return {**_frame(frame.head(ROWS)), "shape": shape}


def _csv(artifact: Any, separator: str) -> dict[str, Any]:
    import pandas as pd

    with _open(artifact) as handle:
        frame = pd.read_csv(handle, sep=separator, nrows=ROWS)
    return {**_frame(frame), "shape": None}


def _h5ad(artifact: Any) -> dict[str, Any]:
    import h5py
    from anndata.io import read_elem

    with _open(artifact) as handle, h5py.File(handle, "r") as file:
        x = file["X"]
        shape = tuple(x.attrs["shape"]) if "shape" in x.attrs else tuple(x.shape)
        # obs and var whole (their columns are arrays of one value per cell or gene), X never
        obs, var = read_elem(file["obs"]).head(ROWS), read_elem(file["var"]).head(ROWS)
    return {"shape": shape, "obs": _frame(obs), "var": _frame(var)}
