"""`public()` and `available_sources()`: from a registry name to its public table, offline.

One `PublicOntology` per (source, version, organism) and cache file is kept for the process, so the
second `bt.CellType.public()` costs a dict look-up and keeps the first one's search indexes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from lamella.bionty.sources import _catalog as catalog
from lamella.bionty.sources._cache import cache_folder, cached_ontology
from lamella.bionty.sources._public import PublicOntology
from lamella.bionty.sources._tables import read_genes, read_organisms, resolve_gene_organism
from lamella.bionty.sources._user_files import looks_like_path, read_file
from lamella.errors import InvalidArgument, UnreadableFile

_lock = threading.Lock()
_memory: dict[tuple[Any, ...], PublicOntology] = {}


def clear_memory() -> None:
    """Forget the tables read in this process (the cache files on disk stay)."""
    with _lock:
        _memory.clear()


def public(
    entity: str,
    *,
    organism: str | None = None,
    source: str | None = None,
    version: str | None = None,
) -> PublicOntology:
    """The public source of `entity` ("CellType", "Gene", ...), read offline.

    `source` picks another shipped source ("fbbt" for fly cell types) or is the path of an ontology
    file (.obo, .owl, cellxgene .json.zst); `version` picks a shipped version. Genes need `organism`.
    """
    spec = catalog.entity_spec(entity)
    if source is not None and not isinstance(source, str | Path):
        raise InvalidArgument(f"source must be a source name such as 'cl' or a file path, not {source!r}")
    if version is not None and not isinstance(version, str):
        raise InvalidArgument(f"version must be a str such as 'v2026-03-26', not {version!r}")
    if isinstance(source, Path) or (source is not None and _is_user_file(source)):
        return _user_file(spec, Path(source), organism)
    if not spec.sources:
        raise InvalidArgument(f"{spec.entity}: {spec.unavailable}")
    name = _source_name(spec, source, organism)
    kind = catalog.SOURCES[name].kind
    if kind == "genes":
        return _genes(spec, name, organism, version)
    if kind == "organisms":
        return _organisms(spec, version)
    return _ontology(spec, catalog.SOURCES[name], version, organism if spec.by_organism else None)


def _is_user_file(source: str) -> bool:
    return source.lower() not in catalog.SOURCES and (looks_like_path(source) or Path(source).is_file())


def _source_name(spec: catalog.EntitySpec, source: str | None, organism: str | None) -> str:
    if source is None:
        if spec.by_organism and organism is not None:
            chosen = spec.by_organism.get(str(organism).strip().lower())
            if chosen is None:
                options = ", ".join(f"{o} ({s})" for o, s in spec.by_organism.items())
                raise InvalidArgument(
                    f"no {spec.entity} source ships for organism {organism!r}; organisms with one: {options}; "
                    f"or pass source= the path of an ontology file"
                )
            return chosen
        return spec.sources[0]
    name = source.strip().lower()
    if name not in spec.sources:
        raise InvalidArgument(
            f"no source {source!r} for {spec.entity}; sources: {', '.join(spec.sources)} "
            f"(or the path of an .obo/.json.zst ontology file)"
        )
    return name


def _check_version(spec: catalog.EntitySpec, source: str, version: str | None, shipped: list[str]) -> str:
    if version is None:
        return shipped[-1]
    if version not in shipped:
        raise InvalidArgument(
            f"no version {version!r} of {source} for {spec.entity}; versions shipped: {', '.join(shipped)}"
        )
    return version


def _ontology(
    spec: catalog.EntitySpec, source: catalog.SourceSpec, version: str | None, organism: str | None
) -> PublicOntology:
    shipped = list(catalog.shipped_versions(source.prefix))
    chosen = (
        catalog.default_version(source)
        if version is None
        else _check_version(spec, source.name, version, shipped)
    )
    # keyed by the cache folder too: another cache folder (ln.settings.cache_dir) is another file
    key = ("ontology", spec.entity, source.name, chosen, str(cache_folder()), organism)
    with _lock:
        found = _memory.get(key)
        if found is None:
            frame = _read_parquet(cached_ontology(source, chosen)).set_index("ontology_id")
            frame.index.name = spec.id_field
            found = _memory[key] = PublicOntology(
                frame, entity=spec.entity, source=source.name, version=chosen, organism=organism
            )
    return found


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        # no deduplication of strings (ids are unique anyway): a third of the time for UniProt
        return pq.read_table(path).to_pandas(deduplicate_objects=False, split_blocks=True)
    except OSError as e:
        raise UnreadableFile(
            f"cannot read the cached ontology {path}: {e}; delete it and it is converted again"
        ) from e


def _genes(
    spec: catalog.EntitySpec, source: str, organism: str | None, version: str | None
) -> PublicOntology:
    name = resolve_gene_organism(organism)
    info = catalog.gene_sources()[name]
    chosen = _check_version(spec, info["source"], version, [info["version"]])
    key = ("genes", name, chosen)
    with _lock:
        found = _memory.get(key)
        if found is None:
            found = _memory[key] = PublicOntology(
                read_genes(name),
                entity=spec.entity,
                source=info["source"],  # GENCODE for human and mouse, whatever name was asked for
                version=chosen,
                organism=name,
                name_field=spec.name_field,
            )
    return found


def _organisms(spec: catalog.EntitySpec, version: str | None) -> PublicOntology:
    info = catalog.organism_source()
    chosen = _check_version(spec, info["source"], version, [info["version"]])
    key = ("organisms", chosen)
    with _lock:
        found = _memory.get(key)
        if found is None:
            found = _memory[key] = PublicOntology(
                read_organisms(), entity=spec.entity, source=info["source"], version=chosen
            )
    return found


def _user_file(spec: catalog.EntitySpec, path: Path, organism: str | None) -> PublicOntology:
    path = path.expanduser().resolve()
    try:
        stat = path.stat()
    except OSError:
        stat = None
    key = ("file", spec.entity, str(path), stat and (stat.st_mtime_ns, stat.st_size), organism)
    with _lock:
        found = _memory.get(key)
    if found is not None:
        return found
    table, version = read_file(path)
    frame = table.to_pandas().set_index("ontology_id")
    frame.index.name = spec.id_field if spec.id_field != "name" else "ontology_id"
    source = path.name.lower().split(".", 1)[0]  # go-basic.obo -> "go-basic"
    found = PublicOntology(frame, entity=spec.entity, source=source, version=version, organism=organism)
    with _lock:
        _memory[key] = found
    return found


def available_sources(entity: str | None = None) -> pd.DataFrame:
    """The sources `public()` can read offline: entity, source, version, organism, default, shipped."""
    specs = [catalog.entity_spec(entity)] if entity is not None else list(catalog.ENTITIES.values())
    rows: list[dict[str, Any]] = []
    for spec in specs:
        if not spec.sources:
            rows.append(
                {
                    "entity": spec.entity,
                    "source": None,
                    "version": None,
                    "organism": None,
                    "default": False,
                    "shipped": False,
                }
            )
            continue
        organism_of = {s: o for o, s in spec.by_organism.items()}
        for name in spec.sources:
            source = catalog.SOURCES[name]
            if source.kind == "genes":
                for organism, info in catalog.gene_sources().items():
                    if info["source"] == name:
                        rows.append(_row(spec, name, info["version"], organism, True))
            elif source.kind == "organisms":
                rows.append(_row(spec, name, catalog.organism_source()["version"], None, True))
            else:
                default = catalog.default_version(source) if catalog.shipped_versions(source.prefix) else None
                for version in catalog.shipped_versions(source.prefix):
                    is_default = version == default and (name == spec.sources[0] or name in organism_of)
                    rows.append(_row(spec, name, version, organism_of.get(name), is_default))
    return pd.DataFrame(rows, columns=["entity", "source", "version", "organism", "default", "shipped"])


def _row(
    spec: catalog.EntitySpec, source: str, version: str, organism: str | None, default: bool
) -> dict[str, Any]:
    return {
        "entity": spec.entity,
        "source": source,
        "version": version,
        "organism": organism,
        "default": default,
        "shipped": True,
    }
