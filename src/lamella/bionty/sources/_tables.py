"""The gene and organism tables that ship in `lamella/bionty/data/` (made by scripts/build_bionty_tables.py)."""

from __future__ import annotations

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lamella.bionty.sources._catalog import DATA_DIR, gene_sources
from lamella.errors import InvalidArgument, StorageError


def organism_names() -> list[str]:
    return list(gene_sources())


def resolve_gene_organism(organism: str | None) -> str:
    """The gene table's name of `organism`: "human", also "Homo sapiens" or "NCBITaxon:9606"."""
    known = gene_sources()
    if organism is None:
        raise InvalidArgument(
            f"genes need an organism: pass organism= (one of {', '.join(known)}) or set it once "
            f"with bt.settings.organism = 'human'"
        )
    wanted = str(organism).strip().lower()
    for name, info in known.items():
        if wanted in (name, info["scientific_name"].lower(), info["ontology_id"].lower()):
            return name
    raise InvalidArgument(
        f"no shipped gene table for organism {organism!r}; organisms with genes: {', '.join(known)}"
    )


def read_genes(organism: str) -> pd.DataFrame:
    """The genes of one organism, indexed by ensembl_gene_id (one row group of the shared file)."""
    path = DATA_DIR / "genes.parquet"
    try:
        # one row group per organism: the filter reads only that one
        table = pq.read_table(
            path,
            filters=pc.field("organism") == organism,
            columns=["ensembl_gene_id", "symbol", "biotype", "length", "synonyms", "ncbi_gene_ids"],
        )
    except OSError as e:
        raise StorageError(f"cannot read the shipped gene table {path}: {e}; reinstall lamella") from e
    frame = table.to_pandas(split_blocks=True)
    frame["biotype"] = frame["biotype"].astype(object)  # plain strings, as every other text column
    frame["description"] = None
    return frame.set_index("ensembl_gene_id")


def gene_organism_of(ensembl_gene_ids: list[str]) -> str | None:
    """The organism whose shipped genes hold most of these Ensembl gene ids (ENSG... is human,
    ENSMUSG... mouse), as bionty infers it; None when the table holds none of them."""
    wanted = list(dict.fromkeys(v for v in ensembl_gene_ids if isinstance(v, str)))[:1000]
    if not wanted:
        return None
    path = DATA_DIR / "genes.parquet"
    try:
        table = pq.read_table(path, filters=pc.field("ensembl_gene_id").isin(wanted), columns=["organism"])
    except OSError as e:
        raise StorageError(f"cannot read the shipped gene table {path}: {e}; reinstall lamella") from e
    counts = pd.Series(table.column("organism").to_pylist(), dtype=object).value_counts()
    return str(counts.index[0]) if len(counts) else None


def read_organisms() -> pd.DataFrame:
    """The organism table: name ("human"), scientific_name, synonyms, indexed by ontology_id."""
    path = DATA_DIR / "organisms.parquet"
    try:
        frame = pq.read_table(path).to_pandas()
    except OSError as e:
        raise StorageError(f"cannot read the shipped organism table {path}: {e}; reinstall lamella") from e
    frame["description"] = None
    return frame.set_index("ontology_id")[["name", "scientific_name", "synonyms", "description"]]
