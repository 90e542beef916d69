"""A small AnnData whose obs carry the annotations curation works with: cell type, tissue, disease."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ENSEMBL_GENE_IDS", "anndata_with_obs"]

# 100 human Ensembl gene ids, in ascending order (TSPAN6, TNMD, DPM1, ...)
ENSEMBL_GENE_IDS: tuple[str, ...] = (
    "ENSG00000000003",
    "ENSG00000000005",
    "ENSG00000000419",
    "ENSG00000000457",
    "ENSG00000000460",
    "ENSG00000000938",
    "ENSG00000000971",
    "ENSG00000001036",
    "ENSG00000001084",
    "ENSG00000001167",
    "ENSG00000001460",
    "ENSG00000001461",
    "ENSG00000001497",
    "ENSG00000001561",
    "ENSG00000001617",
    "ENSG00000001626",
    "ENSG00000001629",
    "ENSG00000001630",
    "ENSG00000001631",
    "ENSG00000002016",
    "ENSG00000002079",
    "ENSG00000002330",
    "ENSG00000002549",
    "ENSG00000002586",
    "ENSG00000002587",
    "ENSG00000002726",
    "ENSG00000002745",
    "ENSG00000002746",
    "ENSG00000002822",
    "ENSG00000002834",
    "ENSG00000002919",
    "ENSG00000002933",
    "ENSG00000003056",
    "ENSG00000003096",
    "ENSG00000003137",
    "ENSG00000003147",
    "ENSG00000003249",
    "ENSG00000003393",
    "ENSG00000003400",
    "ENSG00000003402",
    "ENSG00000003436",
    "ENSG00000003509",
    "ENSG00000003756",
    "ENSG00000003987",
    "ENSG00000003989",
    "ENSG00000004059",
    "ENSG00000004139",
    "ENSG00000004142",
    "ENSG00000004399",
    "ENSG00000004455",
    "ENSG00000004468",
    "ENSG00000004478",
    "ENSG00000004487",
    "ENSG00000004534",
    "ENSG00000004660",
    "ENSG00000004700",
    "ENSG00000004766",
    "ENSG00000004776",
    "ENSG00000004777",
    "ENSG00000004779",
    "ENSG00000004799",
    "ENSG00000004809",
    "ENSG00000004838",
    "ENSG00000004846",
    "ENSG00000004848",
    "ENSG00000004864",
    "ENSG00000004866",
    "ENSG00000004897",
    "ENSG00000004939",
    "ENSG00000004948",
    "ENSG00000004961",
    "ENSG00000004975",
    "ENSG00000005001",
    "ENSG00000005007",
    "ENSG00000005020",
    "ENSG00000005022",
    "ENSG00000005059",
    "ENSG00000005073",
    "ENSG00000005075",
    "ENSG00000005100",
    "ENSG00000005102",
    "ENSG00000005108",
    "ENSG00000005156",
    "ENSG00000005175",
    "ENSG00000005187",
    "ENSG00000005189",
    "ENSG00000005194",
    "ENSG00000005206",
    "ENSG00000005238",
    "ENSG00000005243",
    "ENSG00000005249",
    "ENSG00000005302",
    "ENSG00000005339",
    "ENSG00000005379",
    "ENSG00000005381",
    "ENSG00000005421",
    "ENSG00000005436",
    "ENSG00000005448",
    "ENSG00000005469",
    "ENSG00000005471",
)

# (cell type, its Cell Ontology id, tissue, disease); the last cell type is deliberately not in any
# ontology so that curation has a term to flag
_ANNOTATIONS = (
    ("T cell", "CL:0000084", "kidney", "chronic kidney disease"),
    ("hepatocyte", "CL:0000182", "liver", "liver lymphoma"),
    ("cardiac muscle cell", "CL:0000746", "heart", "cardiac ventricle disorder"),
    ("my new cell type", None, "brain", "Alzheimer disease"),
)
_N_OBS = 40
_SEED = 0


def anndata_with_obs() -> Any:
    """40 cells x 100 genes (Ensembl ids as var names) with obs cell_type, cell_type_id, tissue, disease.

    Counts are Poisson draws from a fixed seed, so every call returns the same object.
    """
    import anndata

    rows = [_ANNOTATIONS[i % len(_ANNOTATIONS)] for i in range(_N_OBS)]
    obs = pd.DataFrame(
        {
            name: pd.Categorical([row[position] for row in rows])
            for position, name in enumerate(("cell_type", "cell_type_id", "tissue", "disease"))
        },
        index=pd.Index([f"obs{i}" for i in range(_N_OBS)]),
    )
    counts = np.random.default_rng(_SEED).poisson(1.0, size=(_N_OBS, len(ENSEMBL_GENE_IDS)))
    var = pd.DataFrame(index=pd.Index(list(ENSEMBL_GENE_IDS)))
    return anndata.AnnData(X=counts.astype(np.float32), obs=obs, var=var)
