"""The web UI's pages of transforms, runs, collections, features, schemas, records, projects and labels,
rendered by Starlette's test client from a real instance: their content, keyset pages, 404s, and every
user string escaped."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from starlette.testclient import TestClient

from lamella._ui.app import create_app
from lamella._ui.pages import registries

# the module, not the `context` object the package exports under that name
tracking_context = importlib.import_module("lamella._tracking.context")

EVIL = "<script>alert(1)</script>"
SOURCE = f"import lamella as ln\nprint('{EVIL}')\n"


@dataclass
class Instance:
    client: TestClient
    transform: Any
    newer: Any
    run: Any
    raw: Any
    made: Any
    collection: Any
    feature: Any
    schema: Any
    sample_type: Any
    sample: Any
    project: Any
    label: Any
    parent: Any


@pytest.fixture
def instance(ln: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Instance:
    """An instance with a run that read one artifact and made another, and one of each record kind."""
    # the run captures its output as a script's does, also in a pytest-xdist worker (no script there)
    monkeypatch.setattr(tracking_context, "_running_a_script", lambda: True)
    path = tmp_path / "notes.txt"
    path.write_text("some notes\n")
    raw = ln.Artifact(path, key="raw/notes.txt").save()
    transform = ln.Transform(key="pipeline.py", kind="script", description=EVIL, source_code=SOURCE).save()
    run = ln.track(transform, params={"alpha": 3, "mode": "fast"})
    raw.cache()
    print("tracked output line")
    made = ln.Artifact.from_dataframe(pd.DataFrame({"g": [1, 2]}), key="out/table.parquet").save()
    ln.finish()
    newer = ln.Transform(revises=transform, version="2", source_code="print('two')\n").save()
    collection = ln.Collection([made, raw], key="bundle", description="made then raw").save()
    feature = ln.Feature(name="temperature", dtype=float, unit="celsius", description="of the room").save()
    schema = ln.Schema(features=[feature], name="room schema").save()
    sample_type = ln.Record(name="Sample", is_type=True).save()
    sample = ln.Record(name=EVIL, type=sample_type).save()
    sample.features.add_values({"temperature": 21.5})
    project = ln.Project(name="Atlas").save()
    made.projects.add(project)
    transform.projects.add(project)
    parent = ln.ULabel(name="treatment").save()
    label = ln.ULabel(name=EVIL).save()
    label.parents.add(parent)
    made.ulabels.add(label)
    return Instance(
        TestClient(create_app(None)),
        transform,
        newer,
        run,
        raw,
        made,
        collection,
        feature,
        schema,
        sample_type,
        sample,
        project,
        label,
        parent,
    )


def page(instance: Instance, path: str) -> str:
    response = instance.client.get(path)
    assert response.status_code == 200, (path, response.text)
    return response.text


def assert_escaped(body: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert" not in body


def test_transform_pages(instance: Instance) -> None:
    body = page(instance, "/transforms")
    assert "pipeline.py" in body and "script" in body
    assert f"/transforms/{instance.transform.uid}" in body and f"/transforms/{instance.newer.uid}" in body

    body = page(instance, f"/transforms/{instance.transform.uid}")
    assert_escaped(body)  # the description and the source code
    assert '<div class="highlight">' in body and '<span class="kn">import</span>' in body
    assert f"/transforms/{instance.newer.uid}" in body  # the other version
    assert f"/runs/{instance.run.uid}" in body and "completed" in body
    assert f"/lineage/transform/{instance.transform.uid}" in body
    assert "/highlight.css" in body and "Atlas" in body
    css = instance.client.get("/highlight.css")
    assert css.headers["content-type"].startswith("text/css") and ".highlight .kn" in css.text


def test_run_pages(instance: Instance) -> None:
    run = instance.run
    body = page(instance, "/runs")
    assert f"/runs/{run.uid}" in body and "pipeline.py" in body and "completed" in body
    assert page(instance, f"/runs?transform={instance.newer.uid}").count("/runs/") == 0
    assert f"/runs/{run.uid}" in page(instance, f"/runs?transform={instance.transform.uid}")

    body = page(instance, f"/runs/{run.uid}")
    assert f"/transforms/{instance.transform.uid}" in body and "completed" in body
    assert "<th>alpha</th><td>3</td>" in body and "<th>mode</th><td>fast</td>" in body
    assert f"/artifacts/{instance.raw.uid}" in body  # input
    assert f"/artifacts/{instance.made.uid}" in body  # output
    assert "tracked output line" in body  # the report
    assert "python" in body.lower() and "Environment" in body
    assert f"/lineage/run/{run.uid}" in body


def test_collection_feature_and_schema_pages(instance: Instance) -> None:
    assert "bundle" in page(instance, "/collections")
    body = page(instance, f"/collections/{instance.collection.uid}")
    assert body.index("out/table.parquet") < body.index("raw/notes.txt")  # in the collection's order
    assert "made then raw" in body and f"/lineage/collection/{instance.collection.uid}" in body

    assert "temperature" in page(instance, "/features") and "celsius" in page(instance, "/features")
    body = page(instance, f"/features/{instance.feature.uid}")
    assert "float" in body and "celsius" in body and "of the room" in body
    assert "/artifacts?feature=temperature" in body and f"/schemas/{instance.schema.uid}" in body

    assert "room schema" in page(instance, "/schemas")
    body = page(instance, f"/schemas/{instance.schema.uid}")
    assert f"/features/{instance.feature.uid}" in body and "Feature" in body


def test_record_project_and_label_pages_escape_names(instance: Instance) -> None:
    for path in ("/records", f"/records/{instance.sample.uid}", "/ulabels", f"/ulabels/{instance.label.uid}"):
        assert_escaped(page(instance, path))
    body = page(instance, f"/records/{instance.sample.uid}")
    assert "<th>temperature</th><td>21.5</td>" in body and f"/records/{instance.sample_type.uid}" in body
    body = page(instance, f"/records?type={instance.sample_type.uid}")
    rows = body.split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 1 and f"/records/{instance.sample.uid}" in rows  # the type's members

    body = page(instance, f"/ulabels/{instance.label.uid}")
    assert f"/ulabels/{instance.parent.uid}" in body and f"/artifacts/{instance.made.uid}" in body
    assert "/artifacts?label=%3Cscript%3Ealert%281%29%3C%2Fscript%3E" in body
    assert f"/ulabels/{instance.label.uid}" in page(instance, f"/ulabels/{instance.parent.uid}")  # child

    body = page(instance, f"/projects/{instance.project.uid}")
    assert f"/artifacts/{instance.made.uid}" in body and f"/transforms/{instance.transform.uid}" in body
    assert "/artifacts?project=Atlas" in body and "Atlas" in page(instance, "/projects")


def test_keyset_pages(instance: Instance, ln: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    ln.save([ln.ULabel(name=f"label {i:02d}") for i in range(5)])
    monkeypatch.setattr(registries, "PAGE_SIZE", 3)
    seen: list[str] = []
    path = "/ulabels"
    while path:
        body = page(instance, path)
        rows = body.split("<tbody>")[1].split("</tbody>")[0]
        seen += [part.split('"')[0] for part in rows.split('href="/ulabels/')[1:]]
        after = body.split('class="next" href="')
        link = after[1].split('"')[0].replace("&amp;", "&") if len(after) > 1 else ""
        assert not link or link.startswith("?after=")  # relative to the page: the same table
        path = "/ulabels" + link if link else ""
    assert len(seen) == 7 and len(set(seen)) == 7  # every label once: 5 + treatment + EVIL
    assert instance.client.get("/ulabels?after=nope").status_code == 400


def test_unknown_uids_are_404(instance: Instance) -> None:
    for registry in (
        "transforms",
        "runs",
        "collections",
        "features",
        "schemas",
        "records",
        "projects",
        "ulabels",
    ):
        response = instance.client.get(f"/{registry}/nope0000")
        assert response.status_code == 404, registry
        assert "uid &#39;nope0000&#39;" in response.text  # the page names the uid it did not find
