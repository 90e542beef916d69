"""Shipped ontologies as parquet files in the cache folder: converted once, then read in milliseconds.

The JSON of cellxgene-ontology-guide takes up to seconds to decompress and parse (UniProt: 575 k
entries); the parquet file of the same terms reads in tens of milliseconds. Each conversion writes
`<cache>/bionty/<source>-<version>.parquet` through a temp file and `os.replace`, so a process that
reads while another converts sees either no file or a whole one, never half of one.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from rich.console import Console
from rich.progress import Progress

from lamella._instance import state
from lamella.bionty.sources._catalog import SourceSpec, ontology_file
from lamella.errors import StorageError, UnreadableFile

# bump when the columns of the converted files change: older files are then converted again
FORMAT = "1"
_FORMAT_KEY = b"lamella.bionty.format"
# conversions of bigger (compressed) files show a progress bar, on a terminal: ~0.3 s and more
_PROGRESS_FROM_BYTES = 500_000

SCHEMA = pa.schema(
    [
        ("ontology_id", pa.string()),
        ("name", pa.string()),
        ("synonyms", pa.string()),
        ("description", pa.string()),
        ("parents", pa.list_(pa.string())),
    ],
    metadata={_FORMAT_KEY: FORMAT.encode()},
)


def cache_folder() -> Path:
    folder = state.cache_dir() / "bionty"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(
            f"cannot create {folder} for the converted ontologies: {e}; set ln.settings.cache_dir "
            f"(or LAMELLA_CACHE_DIR) to a folder you can write"
        ) from e
    return folder


def cached_ontology(spec: SourceSpec, version: str) -> Path:
    """The parquet file of `spec` at `version`, converted from the shipped JSON if not cached yet."""
    path = cache_folder() / f"{spec.name}-{version}.parquet"
    if path.exists() and _is_current(path):
        return path
    source = ontology_file(spec, version)
    big = source.exists() and source.stat().st_size > _PROGRESS_FROM_BYTES
    with progress_bar(f"converting {spec.name} {version} (once)", show=big) as bar:
        table = convert(read_json(source), spec.id_prefix, bar)
        write_atomically(table, path)
    return path


def _is_current(path: Path) -> bool:
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return False  # damaged (a crash of an older version, a full disk): convert again
    return metadata.get(_FORMAT_KEY) == FORMAT.encode()


def read_json(path: Path) -> dict[str, dict[str, Any]]:
    """The terms of a cellxgene-ontology-guide file (`.json.zst`, or plain `.json`)."""
    try:
        raw = path.read_bytes()
        if path.name.endswith(".zst"):
            with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)) as reader:
                raw = reader.read()
        terms = json.loads(raw)
    except OSError as e:
        raise StorageError(f"cannot read the ontology file {path}: {e}") from e
    except (zstandard.ZstdError, ValueError) as e:
        raise UnreadableFile(
            f"{path} is not a zstd-compressed JSON ontology of cellxgene-ontology-guide ({e}); "
            f"reinstall the package: pip install --force-reinstall cellxgene-ontology-guide"
        ) from e
    if not isinstance(terms, dict):
        raise UnreadableFile(
            f"{path} holds no {{ontology_id: term}} mapping; it is not a cellxgene ontology file"
        )
    return terms


def convert(terms: dict[str, dict[str, Any]], id_prefix: str = "", bar: Bar | None = None) -> pa.Table:
    """The non-deprecated terms as a table: id, name, "|"-joined synonyms, description, direct parents."""
    ids: list[str] = []
    names: list[str | None] = []
    synonyms: list[str | None] = []
    descriptions: list[str | None] = []
    parents: list[list[str]] = []
    cut = len(id_prefix)
    bar = bar or Bar()
    bar.start(len(terms))
    for count, (term_id, term) in enumerate(terms.items(), 1):
        if count % 20_000 == 0:
            bar.advance(20_000)
        if term.get("deprecated"):
            continue
        ids.append(term_id[cut:] if cut and term_id.startswith(id_prefix) else term_id)
        names.append(term.get("label"))
        synonyms.append("|".join(term["synonyms"]) if term.get("synonyms") else None)
        descriptions.append(term.get("description") or None)
        ancestors = term.get("ancestors") or {}
        # distance 1 is a direct parent; the ancestors further up are left to the registry's graph
        parents.append([a for a, distance in ancestors.items() if distance == 1])
    return pa.table([ids, names, synonyms, descriptions, parents], schema=SCHEMA)


def write_atomically(table: pa.Table, path: Path) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        pq.write_table(table, temp, compression="zstd")
        os.replace(temp, path)
    except OSError as e:
        Path(temp).unlink(missing_ok=True)
        raise StorageError(
            f"cannot write the converted ontology {path}: {e}; free space there or set "
            f"ln.settings.cache_dir (or LAMELLA_CACHE_DIR) to another folder"
        ) from e


class Bar:
    """A progress bar that shows nothing (small files, no terminal); `progress_bar` makes one that does."""

    def start(self, total: int) -> None:
        pass

    def advance(self, steps: int) -> None:
        pass


class _RichBar(Bar):
    def __init__(self, progress: Any, task: Any) -> None:
        self.progress, self.task = progress, task

    def start(self, total: int) -> None:
        self.progress.update(self.task, total=total, completed=0)

    def advance(self, steps: int) -> None:
        self.progress.advance(self.task, steps)


@contextmanager
def progress_bar(label: str, show: bool = True) -> Iterator[Bar]:
    """A rich progress bar on stderr, only when `show` and stderr is a terminal (not in logs or CI).

    It pulses while the JSON is parsed (no count is known yet), then counts the terms converted.
    """
    if not show or not sys.stderr.isatty():
        yield Bar()
        return
    with Progress(console=Console(stderr=True), transient=True) as progress:
        yield _RichBar(progress, progress.add_task(label, total=None))
