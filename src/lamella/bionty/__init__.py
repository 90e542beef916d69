"""Biological registries backed by public ontologies, read offline: `import lamella.bionty as bt`.

    >>> bt.CellType.public().search("gamma-delta T cell").head()
    >>> neuron = bt.CellType.from_source(name="neuron").save()   # with its parents
    >>> bt.settings.organism = "human"
    >>> genes = bt.Gene.from_values(["ENSG00000153563"], field=bt.Gene.ensembl_gene_id).save()

An instance gets the module's tables when it is created with `lamella init --modules bionty` (or
later, with `lamella migrate --modules bionty`). The public sources ship with Lamella: CL, UBERON,
MONDO, EFO, PATO, HANCESTRO, HsapDv/MmusDv, Cellosaurus and UniProt through the
`cellxgene-ontology-guide` package (`pip install 'lamella[bionty]'`), and GENCODE/Ensembl gene tables
and an NCBITaxon organism table in the package itself.
"""

from __future__ import annotations

from lamella.bionty import links
from lamella.bionty.models import (
    REGISTRIES,
    CellLine,
    CellMarker,
    CellType,
    DevelopmentalStage,
    Disease,
    Ethnicity,
    ExperimentalFactor,
    Gene,
    Organism,
    Pathway,
    Phenotype,
    Protein,
    Source,
    Tissue,
)
from lamella.bionty.settings import settings

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
    "links",
    "settings",
]

# public as `lamella.bionty.CellType`, ...: the name reprs, errors and pickles use, and the one feature
# dtypes are spelled with (`cat[bionty.CellType]`)
for _public in (*REGISTRIES, Source):
    _public.__module__ = "lamella.bionty"
