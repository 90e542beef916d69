"""The bionty registries: organisms, genes, proteins, cell markers and ontology terms, and their sources.

Every table is named `bionty_*`, which is how setup tells the module's tables from the core ones: an
instance gets them when it is created or connected with the module (`lamella init --modules bionty`).
Artifacts and schemas link to every registry (`artifact.cell_types`, `schema.genes`); the link
tables and relations are declared in `links.py`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from lamella._query.relations import ManyToMany
from lamella.bionty.registry import BioRegistry, OntologyRegistry
from lamella.models.core.columns import BigInt
from lamella.models.core.record import HasCreatedAt, InBranch, SQLRecord, TracksRun, TracksUpdates

__all__ = [
    "CellLine",
    "CellMarker",
    "CellType",
    "DevelopmentalStage",
    "Disease",
    "Ethnicity",
    "ExperimentalFactor",
    "Gene",
    "Organism",
    "Pathway",
    "Phenotype",
    "Protein",
    "Source",
    "Tissue",
]


class Source(SQLRecord, HasCreatedAt, TracksUpdates, TracksRun, InBranch):
    """Where records of a registry came from: the ontology (or gene table), its version and organism."""

    __tablename__ = "bionty_source"
    _uid_length = 8
    _repr_fields = ("uid", "entity", "organism", "name", "version", "currently_used")
    _search_fields = ("entity", "name", "version", "description")

    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    entity: Mapped[str] = mapped_column(String(64), index=True)  # "bionty.CellType"
    organism: Mapped[str] = mapped_column(String(64), default="all", index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)  # "cl", "ensembl", ...
    version: Mapped[str] = mapped_column(String(64), index=True)
    in_db: Mapped[bool] = mapped_column(Boolean, default=False)  # the whole source was imported
    currently_used: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(255))


class _WithSource:
    source_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("bionty_source.id"), index=True)

    @declared_attr
    def source(cls) -> Mapped[Source | None]:
        return relationship("Source", lazy="select")


class Organism(BioRegistry, SQLRecord, _WithSource, HasCreatedAt, TracksUpdates, TracksRun, InBranch):
    """An organism, by its common name: `bt.Organism.from_source(name="human")`."""

    __tablename__ = "bionty_organism"
    _uid_length = 8
    _name_field = "name"
    _id_field = "ontology_id"
    _repr_fields = ("uid", "name", "ontology_id", "scientific_name")
    _search_fields = ("name", "scientific_name", "synonyms", "ontology_id")

    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    ontology_id: Mapped[str | None] = mapped_column(String(32), index=True)
    scientific_name: Mapped[str | None] = mapped_column(String(128), index=True)
    synonyms: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)


class _HasOrganism:
    organism_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("bionty_organism.id"), index=True)

    @declared_attr
    def organism(cls) -> Mapped[Organism | None]:
        return relationship("Organism", lazy="select")


class Gene(
    BioRegistry, SQLRecord, _WithSource, _HasOrganism, HasCreatedAt, TracksUpdates, TracksRun, InBranch
):
    """A gene of an organism: Ensembl id, symbol, biotype (`bt.Gene.from_values(ids, field=bt.Gene.ensembl_gene_id)`)."""

    __tablename__ = "bionty_gene"
    _uid_length = 12
    _id_field = "ensembl_gene_id"
    _lookup_field: ClassVar[str] = "symbol"
    _needs_organism: ClassVar[bool] = True
    _repr_fields = ("uid", "symbol", "ensembl_gene_id", "biotype")
    _search_fields = ("symbol", "ensembl_gene_id", "synonyms", "description")

    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    symbol: Mapped[str | None] = mapped_column(String(64), index=True)
    ensembl_gene_id: Mapped[str | None] = mapped_column(String(64), index=True)
    ncbi_gene_ids: Mapped[str | None] = mapped_column(Text)  # separated by '|'
    biotype: Mapped[str | None] = mapped_column(String(64), index=True)
    length: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    synonyms: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)


class Protein(
    BioRegistry, SQLRecord, _WithSource, _HasOrganism, HasCreatedAt, TracksUpdates, TracksRun, InBranch
):
    """A protein by UniProtKB accession."""

    __tablename__ = "bionty_protein"
    _uid_length = 12
    _id_field = "uniprotkb_id"
    _lookup_field: ClassVar[str] = "name"
    _repr_fields = ("uid", "name", "uniprotkb_id", "gene_symbol")
    _search_fields = ("name", "uniprotkb_id", "gene_symbol", "synonyms")

    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(256), index=True)
    uniprotkb_id: Mapped[str | None] = mapped_column(String(16), index=True)
    synonyms: Mapped[str | None] = mapped_column(Text)
    length: Mapped[int | None] = mapped_column(Integer)
    gene_symbol: Mapped[str | None] = mapped_column(String(64), index=True)
    ensembl_gene_ids: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)


class CellMarker(
    BioRegistry, SQLRecord, _WithSource, _HasOrganism, HasCreatedAt, TracksUpdates, TracksRun, InBranch
):
    """A cell marker (a gene or protein used to tell cell types apart); no public source ships with Lamella."""

    __tablename__ = "bionty_cellmarker"
    _uid_length = 12
    _name_field = "name"
    _id_field = "name"
    _repr_fields = ("uid", "name", "gene_symbol")
    _search_fields = ("name", "gene_symbol", "synonyms")

    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    synonyms: Mapped[str | None] = mapped_column(Text)
    gene_symbol: Mapped[str | None] = mapped_column(String(64), index=True)
    ncbi_gene_id: Mapped[str | None] = mapped_column(String(32))
    protein_name: Mapped[str | None] = mapped_column(String(128))
    uniprotkb_id: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)


class _OntologyTerm(
    OntologyRegistry, SQLRecord, _WithSource, HasCreatedAt, TracksUpdates, TracksRun, InBranch
):
    """A term of a public ontology: name, ontology id, abbreviation, synonyms, description, parents."""

    __abstract__ = True
    _uid_length = 14
    _name_field = "name"
    _id_field = "ontology_id"
    _repr_fields = ("uid", "name", "ontology_id", "abbr")
    _search_fields = ("name", "ontology_id", "abbr", "synonyms", "description")

    uid: Mapped[str] = mapped_column(String(14), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(256), index=True)
    ontology_id: Mapped[str | None] = mapped_column(String(32), index=True)
    abbr: Mapped[str | None] = mapped_column(String(32), index=True)
    synonyms: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)


def _term(name: str, table: str, doc: str) -> type[_OntologyTerm]:
    """An ontology registry: the columns of `_OntologyTerm`, its parents, its source."""
    namespace: dict[str, Any] = {
        "__tablename__": table,
        "__doc__": doc,
        "__module__": __name__,
        "parents": ManyToMany(name, f"{name}Parent", "child_id", "parent_id"),
        "children": ManyToMany(name, f"{name}Parent", "parent_id", "child_id"),
    }
    return type(name, (_OntologyTerm,), namespace)


CellType = _term("CellType", "bionty_celltype", "A cell type of the Cell Ontology (CL).")
CellLine = _term("CellLine", "bionty_cellline", "A cell line of Cellosaurus (CVCL).")
Tissue = _term("Tissue", "bionty_tissue", "A tissue or anatomical entity of UBERON.")
Disease = _term("Disease", "bionty_disease", "A disease of MONDO.")
Phenotype = _term("Phenotype", "bionty_phenotype", "A phenotypic quality (PATO).")
Pathway = _term("Pathway", "bionty_pathway", "A pathway; load its ontology (e.g. Gene Ontology) from a file.")
ExperimentalFactor = _term(
    "ExperimentalFactor", "bionty_experimentalfactor", "An assay, technology or factor of EFO."
)
DevelopmentalStage = _term(
    "DevelopmentalStage", "bionty_developmentalstage", "A developmental stage (HsapDv, MmusDv)."
)
Ethnicity = _term("Ethnicity", "bionty_ethnicity", "A human ancestry category of HANCESTRO.")

ONTOLOGY_REGISTRIES: tuple[type[_OntologyTerm], ...] = (
    CellType,
    CellLine,
    Tissue,
    Disease,
    Phenotype,
    Pathway,
    ExperimentalFactor,
    DevelopmentalStage,
    Ethnicity,
)
REGISTRIES: tuple[type[SQLRecord], ...] = (Organism, Gene, Protein, CellMarker, *ONTOLOGY_REGISTRIES)
