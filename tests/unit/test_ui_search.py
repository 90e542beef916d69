"""The web UI's search page and ontology pages, rendered by Starlette's test client from real instances."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pandas as pd
from starlette.testclient import TestClient

from lamella._ui.app import create_app

EVIL = "<script>alert(1)</script>"


def test_search_finds_each_registry_by_name_and_escapes(ln: ModuleType) -> None:
    label = ln.ULabel(name="heat shock").save()
    evil = ln.ULabel(name=EVIL).save()
    transform = ln.Transform(key="heat_pipeline.py", description=EVIL).save()
    feature = ln.Feature(name="heat_level", dtype=int).save()
    project = ln.Project(name="Heat atlas").save()
    record = ln.Record(name="heat sample").save()
    artifact = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key="heat/table.parquet").save()
    collection = ln.Collection([artifact], key="heat bundle").save()
    ln.ULabel(name="cold").save()
    client = TestClient(create_app(None))

    body = client.get("/search", params={"q": "heat shock"}).text
    assert f'href="/ulabels/{label.uid}">heat shock</a>' in body

    body = client.get("/search", params={"q": "heat"}).text
    for record_ in (label, transform, feature, project, record, artifact, collection):
        assert f"{record_.uid}" in body, record_
    assert "cold" not in body.split("<main>")[1]

    body = client.get("/search", params={"q": "alert"}).text
    assert f"/ulabels/{evil.uid}" in body and f"/transforms/{transform.uid}" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    assert 'value="alert"' in body  # the query stays in the search box

    empty = client.get("/search", params={"q": "  "})
    assert empty.status_code == 200 and "Type a name" in empty.text
    assert "nothing matches" in client.get("/search", params={"q": "zzzz-none"}).text


def test_ontology_pages_without_the_module_say_how_to_add_it(ln: ModuleType) -> None:
    client = TestClient(create_app(None))
    assert "lamella migrate --modules bionty" in client.get("/ontologies").text
    response = client.get("/ontologies/celltype")
    assert response.status_code == 404 and "lamella migrate --modules bionty" in response.text


def test_ontology_pages(storage_root: Path, tmp_path: Path) -> None:
    import lamella as ln
    import lamella.bionty as bt

    ln.setup.init(storage=storage_root, modules="bionty")
    t_cell = bt.CellType(name="T cell", ontology_id="CL:0000084").save()
    gd = bt.CellType(name="gamma-delta T cell", ontology_id="CL:0000798", synonyms="gd T cell|gdT").save()
    gd.parents.add(t_cell)
    evil = bt.Tissue(name=EVIL, ontology_id="UBERON:9999999").save()
    artifact = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key="cells.parquet").save()
    artifact.cell_types.add(gd)
    client = TestClient(create_app(None))

    body = client.get("/ontologies").text
    assert '<a class="count" href="/ontologies/celltype"><b>2</b> CellType</a>' in body

    body = client.get("/ontologies/celltype").text
    assert f"/ontologies/celltype/{gd.uid}" in body and "CL:0000798" in body and "T cell" in body

    body = client.get(f"/ontologies/celltype/{gd.uid}").text
    assert "gamma-delta T cell" in body and "CL:0000798" in body and "gd T cell, gdT" in body
    assert f"/ontologies/celltype/{t_cell.uid}" in body  # its parent
    assert f"/artifacts/{artifact.uid}" in body  # annotated with it
    assert f"/ontologies/celltype/{gd.uid}" in client.get(f"/ontologies/celltype/{t_cell.uid}").text  # child

    for path in ("/ontologies/tissue", f"/ontologies/tissue/{evil.uid}", "/search?q=alert"):
        body = client.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body, path
    assert f"/ontologies/celltype/{gd.uid}" in client.get("/search", params={"q": "gamma-delta"}).text
    assert client.get("/ontologies/celltype/nope").status_code == 404
    assert client.get("/ontologies/nosuch").status_code == 404
