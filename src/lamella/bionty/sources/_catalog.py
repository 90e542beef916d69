"""Which public source each bionty registry reads, and which versions of it ship.

Standard library only: the catalog is read before anything heavy is imported, and the error of a bad
argument should not cost a pandas import. The ontologies are the zstd-compressed JSON files of the
`cellxgene-ontology-guide` package; genes and organisms are tables in `lamella/bionty/data/`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from lamella.errors import InvalidArgument

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_GUIDE = "cellxgene_ontology_guide"

Kind = Literal["ontology", "genes", "organisms"]


@dataclass(frozen=True)
class SourceSpec:
    """One public source: its lowercase name, the file prefix in cellxgene-ontology-guide, its kind."""

    name: str
    kind: Kind
    prefix: str = ""  # "CL": the files are CL-ontology-<version>.json.zst
    id_prefix: str = ""  # stripped from the ids ("uniprot:Q6GZX4" -> "Q6GZX4")


@dataclass(frozen=True)
class EntitySpec:
    """A registry's public sources: the default, the alternatives, the id and name fields."""

    entity: str
    sources: tuple[str, ...]  # the first one is the default
    id_field: str = "ontology_id"
    name_field: str = "name"
    by_organism: dict[str, str] = field(default_factory=dict)  # organism -> source (developmental stages)
    needs_organism: bool = False
    unavailable: str = ""  # why no source ships, and where the data must come from

    @property
    def default_source(self) -> str | None:
        return self.sources[0] if self.sources else None


SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        SourceSpec("cl", "ontology", "CL"),
        SourceSpec("uberon", "ontology", "UBERON"),
        SourceSpec("mondo", "ontology", "MONDO"),
        SourceSpec("efo", "ontology", "EFO"),
        SourceSpec("pato", "ontology", "PATO"),
        SourceSpec("hancestro", "ontology", "HANCESTRO"),
        SourceSpec("hsapdv", "ontology", "HsapDv"),
        SourceSpec("mmusdv", "ontology", "MmusDv"),
        SourceSpec("fbdv", "ontology", "FBdv"),
        SourceSpec("wbls", "ontology", "WBls"),
        SourceSpec("fbbt", "ontology", "FBbt"),
        SourceSpec("zfa", "ontology", "ZFA"),
        SourceSpec("wbbt", "ontology", "WBbt"),
        SourceSpec("chebi", "ontology", "CHEBI"),
        SourceSpec("cvcl", "ontology", "CVCL"),
        SourceSpec("uniprot", "ontology", "UniProt", id_prefix="uniprot:"),
        SourceSpec("ncbitaxon", "organisms"),  # the organisms users name, shipped in data/
        SourceSpec("ncbitaxon_full", "ontology", "NCBITaxon"),  # every taxon (1.3 M), converted on first use
        SourceSpec("ensembl", "genes"),
        SourceSpec("gencode", "genes"),
    )
}

ENTITIES: dict[str, EntitySpec] = {
    spec.entity: spec
    for spec in (
        EntitySpec("CellType", ("cl", "fbbt", "zfa", "wbbt")),
        EntitySpec("Tissue", ("uberon", "fbbt", "zfa", "wbbt")),
        EntitySpec("Disease", ("mondo",)),
        EntitySpec("ExperimentalFactor", ("efo",)),
        EntitySpec("Phenotype", ("pato",)),
        EntitySpec("Ethnicity", ("hancestro",)),
        EntitySpec(
            "DevelopmentalStage",
            ("hsapdv", "mmusdv", "fbdv", "wbls"),
            by_organism={"human": "hsapdv", "mouse": "mmusdv", "fruit fly": "fbdv", "roundworm": "wbls"},
        ),
        EntitySpec("CellLine", ("cvcl",)),
        EntitySpec("Protein", ("uniprot",), id_field="uniprotkb_id"),
        EntitySpec("Compound", ("chebi",)),
        EntitySpec("Organism", ("ncbitaxon", "ncbitaxon_full")),
        EntitySpec(
            "Gene",
            ("ensembl", "gencode"),
            id_field="ensembl_gene_id",
            name_field="symbol",
            needs_organism=True,
        ),
        EntitySpec(
            "Pathway",
            (),
            unavailable=(
                "no pathway source ships with Lamella: download the Gene Ontology (go-basic.obo) or a "
                "PathwayCommons/Reactome OBO file and load it with `bt.Pathway.public(source=path)`"
            ),
        ),
        EntitySpec(
            "CellMarker",
            (),
            id_field="name",
            unavailable=(
                "no cell marker source ships with Lamella: import a marker table (e.g. CellMarker 2.0) "
                "with `bt.CellMarker.from_values(values, field=...)` or create records one by one"
            ),
        ),
    )
}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_ENTITY_KEYS = {_key(name): name for name in ENTITIES}


def entity_spec(entity: str) -> EntitySpec:
    """The spec of `entity` ("CellType"; "cell_type" and "bionty.CellType" work too)."""
    if not isinstance(entity, str):
        raise InvalidArgument(f"entity must be a registry name such as 'CellType', not {entity!r}")
    name = _ENTITY_KEYS.get(_key(entity.rsplit(".", 1)[-1]))
    if name is None:
        raise InvalidArgument(
            f"no public source for entity {entity!r}; entities with sources: {', '.join(ENTITIES)}"
        )
    return ENTITIES[name]


# --- the ontology files of cellxgene-ontology-guide ----------------------------------------------


def guide_data_dir() -> Path:
    try:
        folder = resources.files(_GUIDE) / "data"
    except ModuleNotFoundError as e:
        raise InvalidArgument(
            "the public ontologies come from the cellxgene-ontology-guide package, which is not "
            "installed: pip install 'lamella[bionty]' (or pip install cellxgene-ontology-guide)"
        ) from e
    return Path(str(folder))


@cache
def shipped_versions(prefix: str) -> tuple[str, ...]:
    """The versions of the ontology `prefix` ("CL") installed, oldest first."""
    suffix = ".json.zst"
    start = f"{prefix}-ontology-"
    versions = [
        path.name[len(start) : -len(suffix)]
        for path in guide_data_dir().iterdir()
        if path.name.startswith(start) and path.name.endswith(suffix)
    ]
    return tuple(sorted(versions, key=_version_key))


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    # "v2025-02-13" < "v2026-03-26", "v3.9.0" < "v3.75.0": numbers compare as numbers
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.\-]", version))


@cache
def _latest_info() -> dict[str, str]:
    path = guide_data_dir() / "latest_ontology_info.json"
    try:
        info = json.loads(path.read_text())["ontologies"]
    except (OSError, ValueError, KeyError):
        return {}
    return {prefix: entry.get("version", "") for prefix, entry in info.items()}


def default_version(spec: SourceSpec) -> str:
    """The version cellxgene-ontology-guide calls current, else the newest file."""
    versions = shipped_versions(spec.prefix)
    if not versions:
        raise InvalidArgument(
            f"no {spec.prefix} ontology file in the installed cellxgene-ontology-guide; "
            f"reinstall it: pip install --force-reinstall cellxgene-ontology-guide"
        )
    latest = _latest_info().get(spec.prefix)
    return latest if latest in versions else versions[-1]


def ontology_file(spec: SourceSpec, version: str) -> Path:
    return guide_data_dir() / f"{spec.prefix}-ontology-{version}.json.zst"


# --- the tables in lamella/bionty/data -----------------------------------------------------------


@cache
def gene_sources() -> dict[str, dict[str, str]]:
    """organism -> {scientific_name, ontology_id, source, version} of the shipped gene table."""
    return dict(json.loads((DATA_DIR / "gene_sources.json").read_text()))


@cache
def organism_source() -> dict[str, str]:
    return dict(json.loads((DATA_DIR / "organism_source.json").read_text()))
