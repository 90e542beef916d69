"""The UI's lineage page and its JSON: `/lineage/<kind>/<uid>` and `/lineage/<kind>/<uid>.json`."""

from __future__ import annotations

import html
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from starlette.testclient import TestClient

from lamella._ui.app import create_app

EVIL = "<script>alert(1)</script>.txt"


@pytest.fixture
def client(ln: ModuleType) -> TestClient:
    return TestClient(create_app(None))


@pytest.fixture
def flow(ln: ModuleType, tmp_path: Path) -> dict[str, Any]:
    """raw.txt -> clean.py -> <script>…</script>.txt -> report.py -> report.txt"""
    ln.settings.creation.artifact_silence_missing_run_warning = True

    def file(key: str, run: Any = None) -> Any:
        path = tmp_path / f"file{len(list(tmp_path.iterdir()))}.txt"
        path.write_text(key)
        return ln.Artifact(path, key=key, run=run).save()

    raw = file("raw.txt")
    clean = ln.Run(ln.Transform(key="clean.py", kind="script").save()).save()
    clean.input_artifacts.add(raw)
    evil = file(EVIL, clean)
    report = ln.Run(ln.Transform(key="report.py", kind="script").save()).save()
    report.input_artifacts.add(evil)
    out = file("report.txt", report)
    return {"raw": raw, "clean": clean, "evil": evil, "report": report, "out": out}


def test_the_json_gives_nodes_and_edges_in_data_flow_direction(
    client: TestClient, flow: dict[str, Any]
) -> None:
    f = flow
    response = client.get(f"/lineage/artifact/{f['evil'].uid}.json?up=1&down=1")
    assert response.status_code == 200
    data = response.json()
    nodes = {node["id"]: node for node in data["nodes"]}
    evil, clean, report = f"artifact:{f['evil'].uid}", f"run:{f['clean'].uid}", f"run:{f['report'].uid}"
    expected = {
        evil,
        f"artifact:{f['raw'].uid}",
        clean,
        f"transform:{f['clean'].transform.uid}",
        report,
        f"transform:{f['report'].transform.uid}",
        f"artifact:{f['out'].uid}",
    }
    assert set(nodes) == expected
    # the JSON carries the label as it is; the page's script shows it as text
    assert nodes[evil] == {
        "id": evil,
        "kind": "artifact",
        "label": EVIL,
        "detail": f"Artifact {f['evil'].uid[:8]}…",
        "href": f"/artifacts/{f['evil'].uid}",
        "focus": True,
    }
    assert nodes[clean]["href"] == f"/runs/{f['clean'].uid}" and not nodes[clean]["focus"]
    assert nodes[f"transform:{f['clean'].transform.uid}"]["href"] == f"/transforms/{f['clean'].transform.uid}"
    pairs = {(e["source"], e["target"]) for e in data["edges"]}
    assert {
        (f"artifact:{f['raw'].uid}", clean),
        (clean, evil),
        (evil, report),
        (report, f"artifact:{f['out'].uid}"),
    } <= pairs
    assert data["truncated"] is False


def test_the_steps_in_the_url_limit_the_graph(client: TestClient, flow: dict[str, Any]) -> None:
    f = flow
    data = client.get(f"/lineage/artifact/{f['evil'].uid}.json?up=0&down=0").json()
    assert [node["id"] for node in data["nodes"]] == [f"artifact:{f['evil'].uid}"]
    default = client.get(f"/lineage/run/{f['report'].uid}.json").json()  # up=3, down=1
    assert f"artifact:{f['raw'].uid}" in {node["id"] for node in default["nodes"]}


def test_the_page_lists_the_records_escaped_and_points_the_script_at_the_json(
    client: TestClient, flow: dict[str, Any]
) -> None:
    f = flow
    response = client.get(f"/lineage/run/{f['clean'].uid}?up=2&down=0")
    assert response.status_code == 200
    page = response.text
    assert "<script>alert(1)</script>" not in page
    assert html.escape(EVIL, quote=False) in page
    assert f'href="/artifacts/{f["evil"].uid}"' in page and f'href="/artifacts/{f["raw"].uid}"' in page
    assert f'href="/transforms/{f["clean"].transform.uid}"' in page
    assert f'data-src="/lineage/run/{f["clean"].uid}.json?up=2&amp;down=0"' in page
    for script in ("cytoscape.min.js", "dagre.min.js", "cytoscape-dagre.js", "lineage.js"):
        assert f'src="/static/{script}"' in page
    assert '<option value="2" selected>' in page  # the step selectors show the steps shown


@pytest.mark.parametrize("script", ["cytoscape.min.js", "dagre.min.js", "cytoscape-dagre.js", "lineage.js"])
def test_the_graph_scripts_are_served_with_their_licenses(client: TestClient, script: str) -> None:
    response = client.get(f"/static/{script}")
    assert response.status_code == 200 and len(response.content) > 1000
    if script != "lineage.js":  # ours; the vendored ones keep their license beside them
        stem = script.removesuffix(".js").removesuffix(".min")
        assert "Permission is hereby granted" in client.get(f"/static/{stem}.LICENSE").text


def test_unknown_records_and_kinds_are_not_found(client: TestClient, flow: dict[str, Any]) -> None:
    missing = client.get("/lineage/artifact/nosuchuid0000000.json")
    assert missing.status_code == 404
    assert missing.json() == {"error": "no artifact with uid 'nosuchuid0000000'"}
    page = client.get("/lineage/run/nosuchuid0000000")
    assert page.status_code == 404 and "no run with uid &#39;nosuchuid0000000&#39;" in page.text
    wrong = client.get(f"/lineage/ulabel/{flow['evil'].uid}")
    assert wrong.status_code == 404
    assert (
        "no lineage of &#39;ulabel&#39; records" in wrong.text and "artifact, collection, run" in wrong.text
    )


def test_bad_steps_say_what_to_give(client: TestClient, flow: dict[str, Any]) -> None:
    response = client.get(f"/lineage/artifact/{flow['evil'].uid}?up=many")
    assert response.status_code == 400
    assert "up=&#39;many&#39;: give a whole number of steps from 0 to 10" in response.text
    data = client.get(f"/lineage/artifact/{flow['evil'].uid}.json?down=11")
    assert data.status_code == 400 and "down='11'" in data.json()["error"]


def test_the_artifact_page_links_to_its_lineage(client: TestClient, flow: dict[str, Any]) -> None:
    uid = flow["evil"].uid
    assert f'href="/lineage/artifact/{uid}"' in client.get(f"/artifacts/{uid}").text
    assert client.get(f"/lineage/artifact/{uid}").status_code == 200
