"""The public sources of the bionty registries (`lamella.bionty.sources`): shipped, offline, cached.

Every test reads from its own cache folder (tmp_path) with the network blocked, so nothing here can
pass by downloading. The ontologies come from the installed cellxgene-ontology-guide; genes and
organisms from the tables in lamella/bionty/data/.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lamella._instance import state
from lamella.bionty import sources
from lamella.bionty.sources import _cache
from lamella.errors import DoesNotExist, InvalidArgument

HAS_OBO_PARSER = any(importlib.util.find_spec(name) for name in ("pronto", "obonet"))


@pytest.fixture(autouse=True)
def offline_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh cache folder, no tables remembered from other tests, and no network."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    cache = tmp_path / "cache"
    monkeypatch.setattr(state.process, "cache_dir", cache)
    sources.clear_memory()
    yield cache
    sources.clear_memory()


# --- ontologies ------------------------------------------------------------------------------------


def test_cell_ontology_table() -> None:
    cl = sources.public("CellType")
    assert (cl.entity, cl.source, cl.organism) == ("CellType", "cl", None)
    assert cl.version.startswith("v")
    frame = cl.to_dataframe()
    assert len(frame) > 2000
    assert frame.index.name == "ontology_id"
    assert {"name", "synonyms", "description", "parents"} <= set(frame.columns)
    assert set(frame.loc["CL:0000540", "parents"]) == {"CL:0002319", "CL:0000404", "CL:0000393"}
    assert "nerve cell" in frame.loc["CL:0000540", "synonyms"].split("|")
    frame.loc["CL:0000540", "name"] = "changed"  # a copy: the source's table stays as it was
    assert cl.get("CL:0000540")["name"] == "neuron"


def test_deprecated_terms_are_left_out() -> None:
    from lamella.bionty.sources._catalog import SOURCES, ontology_file

    cl = sources.public("CellType")
    terms = _cache.read_json(ontology_file(SOURCES["cl"], cl.version))
    deprecated = {term_id for term_id, term in terms.items() if term.get("deprecated")}
    assert deprecated
    assert not deprecated & set(cl.to_dataframe().index)


def test_search_ranks_exact_name_first() -> None:
    found = sources.public("CellType").search("gamma-delta T cell")
    assert found.index[0] == "CL:0000798"
    assert found.iloc[0]["name"] == "gamma-delta T cell"
    assert list(found.columns) == list(sources.public("CellType").to_dataframe().columns)
    assert len(found) <= 20


def _rank(name: str, synonyms: str | None, query: str) -> int:
    name, parts = name.lower(), (synonyms or "").lower().split("|")
    if name == query:
        return 0
    if name.startswith(query):
        return 1
    if query in parts:
        return 2
    if any(p.startswith(query) for p in parts):
        return 3
    return 4 if query in name else 5


def test_search_ranking_order() -> None:
    cl = sources.public("CellType")
    found = cl.search("T cell", limit=None)
    ranks = [_rank(n, s, "t cell") for n, s in zip(found["name"], found["synonyms"], strict=True)]
    assert ranks[0] == 0
    assert ranks == sorted(ranks)
    assert {1, 4, 5} <= set(ranks)
    # within a rank, shorter names first
    prefix = [len(n) for n, r in zip(found["name"], ranks, strict=True) if r == 1]
    assert prefix == sorted(prefix)
    # an exact synonym ranks above names that merely contain the text
    assert cl.search("nerve cell").index[0] == "CL:0000540"


def test_search_by_field_and_limit() -> None:
    cl = sources.public("CellType")
    assert len(cl.search("cell", limit=3)) == 3
    assert cl.search("nerve cell", field="synonyms").index[0] == "CL:0000540"
    with pytest.raises(InvalidArgument, match="no field"):
        cl.search("neuron", field="color")
    with pytest.raises(InvalidArgument):
        cl.search("")


def test_validate_standardize_inspect() -> None:
    cl = sources.public("CellType")
    assert cl.validate(["T cell", "not a cell"]).tolist() == [True, False]
    assert isinstance(cl.validate(pd.Series(["neuron"])), np.ndarray)
    assert cl.validate(pd.Index(["CL:0000540"]), field="ontology_id").tolist() == [True]
    assert cl.standardize(["nerve cell"]) == ["neuron"]
    assert cl.standardize("nerve cell") == "neuron"
    assert cl.standardize(["Neuron", "unknown thing"]) == ["Neuron", "unknown thing"]
    assert cl.standardize(["Neuron"], case_sensitive=False) == ["neuron"]
    assert cl.standardize(["nerve cell"], return_field="ontology_id") == ["CL:0000540"]
    result = cl.inspect(["neuron", "nerve cell", "not a cell", "neuron"])
    assert result.validated == ["neuron"]
    assert result.non_validated == ["nerve cell", "not a cell"]
    assert result.synonyms_mapper == {"nerve cell": "neuron"}


def test_lookup_and_get() -> None:
    cl = sources.public("CellType")
    lookup = cl.lookup()
    term = lookup.gamma_delta_t_cell
    assert term.ontology_id == "CL:0000798"
    assert term.name == "gamma-delta T cell"
    assert lookup["gamma-delta T cell"].ontology_id == "CL:0000798"
    assert "neuron" in lookup
    assert len(dict(lookup)) == len(lookup) > 2000
    assert sources.public("CellType").lookup(field="ontology_id").cl_0000540.name == "neuron"
    assert cl.get("neuron")["ontology_id"] == "CL:0000540"
    assert isinstance(cl.get("CL:0000540")["parents"], list)
    with pytest.raises(DoesNotExist, match="not a cell"):
        cl.get("not a cell")
    with pytest.raises(AttributeError):
        _ = lookup.not_a_cell_at_all


def test_other_ontologies() -> None:
    assert sources.public("Tissue").get("UBERON:0002048")["name"] == "lung"
    assert sources.public("Disease").search("type 2 diabetes").iloc[0]["name"].startswith("type 2 diabetes")
    assert sources.public("ExperimentalFactor").get("EFO:0008913")["name"]
    assert sources.public("Phenotype").source == "pato"
    assert sources.public("Ethnicity").source == "hancestro"
    assert sources.public("DevelopmentalStage").source == "hsapdv"
    mouse = sources.public("DevelopmentalStage", organism="mouse")
    assert (mouse.source, mouse.organism) == ("mmusdv", "mouse")
    with pytest.raises(InvalidArgument, match="hsapdv"):
        sources.public("DevelopmentalStage", organism="zebrafish")


def test_entity_catalog() -> None:
    expected = {
        "CellType": "cl",
        "Tissue": "uberon",
        "Disease": "mondo",
        "ExperimentalFactor": "efo",
        "Phenotype": "pato",
        "Ethnicity": "hancestro",
        "DevelopmentalStage": "hsapdv",
        "CellLine": "cvcl",
        "Protein": "uniprot",
        "Organism": "ncbitaxon",
        "Gene": "ensembl",
    }
    for entity, source in expected.items():
        assert sources.ENTITIES[entity].default_source == source
    table = sources.available_sources()
    assert list(table.columns) == ["entity", "source", "version", "organism", "default", "shipped"]
    assert {"CellType", "Gene", "Pathway", "CellMarker"} <= set(table["entity"])
    genes = sources.available_sources("Gene")
    assert "human" in set(genes["organism"])
    cl = sources.available_sources("CellType")
    assert cl[cl["default"]]["version"].tolist() == [sources.public("CellType").version]


def test_versions_and_sources() -> None:
    versions = sources.available_sources("CellType").query("source == 'cl'")["version"].tolist()
    oldest = sources.public("CellType", version=versions[0])
    assert oldest.version == versions[0]
    assert sources.public("CellType", source="CL").source == "cl"
    with pytest.raises(InvalidArgument, match="versions shipped") as error:
        sources.public("CellType", version="v1999-01-01")
    assert versions[-1] in str(error.value)
    with pytest.raises(InvalidArgument, match="sources: cl"):
        sources.public("CellType", source="nope")
    with pytest.raises(InvalidArgument, match="entities with sources"):
        sources.public("Spaceship")


def test_sources_without_shipped_data() -> None:
    with pytest.raises(InvalidArgument, match=r"Gene Ontology.*Pathway\.public\(source=path\)"):
        sources.public("Pathway")
    with pytest.raises(InvalidArgument, match="from_values"):
        sources.public("CellMarker")


def test_cell_lines_and_proteins() -> None:
    lines = sources.public("CellLine")
    assert lines.search("HeLa").iloc[0]["name"] == "HeLa"
    proteins = sources.public("Protein")
    frame = proteins.to_dataframe()
    assert frame.index.name == "uniprotkb_id"
    assert not frame.index[0].startswith("uniprot:")
    assert proteins.validate([frame.index[0]], field="ontology_id").tolist() == [True]


# --- organisms and genes ---------------------------------------------------------------------------


def test_organisms() -> None:
    organisms = sources.public("Organism")
    assert organisms.source == "ncbitaxon"
    assert organisms.get("human")["ontology_id"] == "NCBITaxon:9606"
    assert organisms.get("mouse")["ontology_id"] == "NCBITaxon:10090"
    frame = organisms.to_dataframe()
    assert {"name", "scientific_name", "synonyms"} <= set(frame.columns)
    assert {"zebrafish", "fruit fly", "yeast", "sars-cov-2", "rhesus macaque"} <= set(frame["name"])
    assert organisms.standardize(["Homo sapiens", "house mouse"]) == ["human", "mouse"]
    for name in sources.available_sources("Gene")["organism"]:
        assert organisms.validate([name]).all(), name
    # every taxon is a second source, converted on first use (1.3 M terms: ~15 s, so not run here)
    listed = sources.available_sources("Organism")
    full = listed[listed["source"] == "ncbitaxon_full"]
    assert len(full) >= 1 and full["shipped"].all() and not full["default"].any()


def test_human_genes() -> None:
    genes = sources.public("Gene", organism="human")
    assert genes.organism == "human"
    assert genes.source in ("gencode", "ensembl")
    frame = genes.to_dataframe()
    assert frame.index.name == "ensembl_gene_id"
    assert {"symbol", "biotype", "length", "synonyms", "ncbi_gene_ids"} <= set(frame.columns)
    assert frame.loc["ENSG00000153563", "symbol"] == "CD8A"
    assert frame.loc["ENSG00000010610", "symbol"] == "CD4"
    assert frame.loc["ENSG00000170458", "symbol"] == "CD14"
    assert genes.standardize(["cd8a"], field="symbol", case_sensitive=False) == ["CD8A"]
    assert genes.standardize(["CD8A", "CD4"], field="symbol", return_field="ensembl_gene_id") == [
        "ENSG00000153563",
        "ENSG00000010610",
    ]
    assert genes.validate(["ENSG00000153563", "ENSG0000000000X"], field="ensembl_gene_id").tolist() == [
        True,
        False,
    ]
    assert genes.validate(["CD8A"]).tolist() == [True]  # the default field of genes is the symbol
    assert genes.search("CD8").iloc[0]["symbol"].startswith("CD8")
    assert genes.get("ENSG00000153563")["symbol"] == "CD8A"
    # genes without a symbol have a null symbol, not their id
    assert not (frame["symbol"] == frame.index).any()
    assert frame["symbol"].isna().any()
    # synonyms and NCBI ids come from NCBI Gene: a current symbol is never its own synonym
    assert frame.loc["ENSG00000219438", "ncbi_gene_ids"] == "25817"
    assert "FAM19A5" in frame.loc["ENSG00000219438", "synonyms"].split("|")
    annotated = frame.dropna(subset=["synonyms"])
    assert len(annotated) > 20_000
    assert not any(
        s in syn.split("|") for s, syn in zip(annotated["symbol"], annotated["synonyms"], strict=True)
    )
    assert genes.standardize(["FAM19A5"], field="symbol") == ["TAFA5"]
    assert genes.search("FAM19A5").iloc[0]["symbol"] == "TAFA5"


def test_genes_need_a_known_organism() -> None:
    with pytest.raises(InvalidArgument, match=r"human.*bt\.settings\.organism"):
        sources.public("Gene")
    with pytest.raises(InvalidArgument, match="organisms with genes"):
        sources.public("Gene", organism="unicorn")
    assert sources.public("Gene", organism="Mus musculus").organism == "mouse"
    assert sources.public("Gene", organism="NCBITaxon:9606").organism == "human"
    with pytest.raises(InvalidArgument, match="versions shipped"):
        sources.public("Gene", organism="human", version="v1")


# --- the parquet cache -----------------------------------------------------------------------------


def test_conversion_is_cached_on_disk(offline_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[Path] = []
    read_json = _cache.read_json

    def counting(path: Path) -> dict[str, dict[str, object]]:
        parsed.append(path)
        return read_json(path)

    monkeypatch.setattr(_cache, "read_json", counting)
    first = sources.public("CellType")
    assert len(parsed) == 1
    path = offline_cache / "bionty" / f"cl-{first.version}.parquet"
    assert path.is_file()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    written = path.stat().st_mtime_ns

    # in the process: the same object, no file read
    assert sources.public("CellType") is first
    # a new process (memory forgotten): the parquet file is read, the JSON is not parsed again
    sources.clear_memory()

    def refuse(path: Path) -> None:
        raise AssertionError(f"{path} parsed again")

    monkeypatch.setattr(_cache, "read_json", refuse)
    again = sources.public("CellType")
    assert again is not first
    assert again.to_dataframe().equals(first.to_dataframe())
    assert path.stat().st_mtime_ns == written


def test_damaged_cache_file_is_converted_again(offline_cache: Path) -> None:
    version = sources.public("CellType").version
    path = offline_cache / "bionty" / f"cl-{version}.parquet"
    path.write_bytes(b"not parquet")
    sources.clear_memory()
    assert len(sources.public("CellType").to_dataframe()) > 2000


def test_a_new_cache_folder_converts_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources.public("CellType")
    other = tmp_path / "other-cache"
    monkeypatch.setattr(state.process, "cache_dir", other)
    cl = sources.public("CellType")
    assert (other / "bionty" / f"cl-{cl.version}.parquet").is_file()


# --- files users bring -----------------------------------------------------------------------------

OBO = """format-version: 1.2
data-version: test/2026-01-01
ontology: tiny

[Term]
id: TINY:0000001
name: biological process
def: "Anything a cell does." []

[Term]
id: TINY:0000002
name: cell division
def: "A cell splits in two." []
synonym: "cytokinesis" EXACT []
is_a: TINY:0000001 ! biological process

[Term]
id: TINY:0000003
name: old term
is_obsolete: true
"""


def test_user_obo_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.obo"
    path.write_text(OBO)
    assert HAS_OBO_PARSER  # obonet is part of the bionty and test extras
    tiny = sources.public("Pathway", source=str(path))
    assert (tiny.source, tiny.version) == ("tiny", "test/2026-01-01")
    frame = tiny.to_dataframe()
    assert set(frame.index) == {"TINY:0000001", "TINY:0000002"}  # the obsolete term is left out
    assert list(frame.loc["TINY:0000002", "parents"]) == ["TINY:0000001"]
    assert tiny.standardize(["cytokinesis"]) == ["cell division"]
    assert tiny.get("TINY:0000002")["description"] == "A cell splits in two."
    assert tiny.search("division").index[0] == "TINY:0000002"


def test_an_obo_file_without_a_parser_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella.bionty.sources import _user_files

    monkeypatch.setattr(_user_files, "_optional", lambda module: None)
    path = tmp_path / "tiny2.obo"
    path.write_text(OBO)
    with pytest.raises(InvalidArgument, match="pip install pronto"):
        sources.public("Pathway", source=str(path))


def test_user_cellxgene_json_file(tmp_path: Path) -> None:
    import json

    path = tmp_path / "mine.json"
    path.write_text(
        json.dumps(
            {
                "X:1": {"label": "root", "ancestors": {}, "deprecated": False},
                "X:2": {"label": "leaf", "synonyms": ["tip"], "ancestors": {"X:1": 1}, "deprecated": False},
                "X:3": {"label": "gone", "ancestors": {}, "deprecated": True},
            }
        )
    )
    mine = sources.public("CellType", source=path)
    assert mine.source == "mine"
    assert list(mine.to_dataframe().index) == ["X:1", "X:2"]
    assert mine.standardize("tip") == "leaf"


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no ontology file"):
        sources.public("Pathway", source=str(tmp_path / "absent.obo"))


# --- import cost -----------------------------------------------------------------------------------


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, lamella.bionty.sources as s; "
        "assert s.ENTITIES['CellType'].default_source == 'cl'; "
        "mine = ('zstandard', 'lamella.bionty.sources._api', 'lamella.bionty.sources._cache'); "
        "heavy = [m for m in mine if m in sys.modules]; "
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
