"""Benchmark: bionty registries over the public sources that ship with Lamella.

    .venv/bin/python benchmarks/bench_bionty.py [--scale small|full]

In one process on an instance with the bionty module: `bt.Gene.from_values` of 20,000 human Ensembl
ids then `ln.save` (target < 1.5 s), `bt.CellType.import_source()` (all of CL with parents, < 3 s),
and curating an AnnData whose `var` holds 30,000 Ensembl ids against the saved genes (< 0.3 s). Small
scale uses 2,000 genes and a 3,000-column `var`. The public sources' own timings (first conversion,
search) are in bench_bionty_sources.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Results, finish, now, parse, parser, temp_folder


def main() -> None:
    args = parse(parser(__doc__))
    full = args.scale == "full"
    n_genes = 20_000 if full else 2_000
    n_var = 30_000 if full else 3_000
    results = Results("bionty", args.scale)
    print(f"bionty (scale {args.scale}, genes N={n_genes}, var N={n_var})")
    with temp_folder("bionty", args.tmp, args.keep) as tmp:
        import os

        os.environ["LAMELLA_HOME"] = str(tmp / "home")
        import anndata as ad
        import numpy as np
        import pandas as pd

        import lamella as ln
        import lamella.bionty as bt

        ln.setup.init(storage=tmp / "data", modules="bionty")
        bt.settings.organism = "human"
        table = bt.Gene.public().to_dataframe()
        ids = [i for i in table.index[: max(n_genes, n_var)]]

        start = now()
        genes = bt.Gene.from_values(ids[:n_genes], field=bt.Gene.ensembl_gene_id)
        built = now() - start
        start = now()
        ln.save(genes)
        saved = now() - start
        results.add(
            "bt.Gene.from_values(Ensembl ids) + ln.save",
            built + saved,
            "s",
            n=n_genes,
            target=1.5 * n_genes / 20_000,
            note=f"from_values {built:.2f} s, save {saved:.2f} s",
        )

        start = now()
        terms = bt.CellType.import_source()
        results.add(
            "bt.CellType.import_source() (CL, with parents)", now() - start, "s", n=len(terms), target=3.0
        )

        ln.save(bt.Gene.from_values(ids[n_genes:n_var], field=bt.Gene.ensembl_gene_id))
        var_schema = ln.Schema(name="var", itype=bt.Gene.ensembl_gene_id, dtype=float).save()
        schema = ln.Schema(name="adata", otype="AnnData", components={"var": var_schema}).save()
        adata = ad.AnnData(pd.DataFrame(np.zeros((2, n_var)), columns=ids[:n_var], index=["a", "b"]))
        curator = ln.curators.AnnDataCurator(adata, schema)
        start = now()
        curator.validate()
        results.add(
            "AnnDataCurator(var of Ensembl ids).validate()",
            now() - start,
            "s",
            n=n_var,
            target=0.3 * n_var / 30_000,
        )
    finish(results, args)


if __name__ == "__main__":
    main()
