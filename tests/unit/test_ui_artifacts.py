"""The web UI's home and artifact pages, through Starlette's test client on a real instance."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx2 as httpx
import pandas as pd
import pytest
from starlette.testclient import TestClient

from lamella._ui import app as ui_app
from lamella._ui import server
from lamella._ui.pages import artifacts as artifact_pages
from lamella.errors import InvalidArgument

ATTACK = "<script>alert(1)</script>"


@pytest.fixture
def client(ln: ModuleType, tmp_path: Path) -> TestClient:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="tissue", dtype=str).save()
    table = pd.DataFrame({"gene": ["A", "B", "C"], "count": [1, 2, 3]})
    parquet = ln.Artifact.from_dataframe(table, key="project1/table.parquet", description=ATTACK).save()
    parquet.features.add_values({"temperature": 21.5, "tissue": "lung"})
    parquet.ulabels.add(ln.ULabel(name=ATTACK).save())
    for i, (key, text) in enumerate(
        (
            ("project1/sub/notes.txt", "hello\nworld\n"),
            ("project2/readme.md", "# read me\n"),
            ("top.csv", "a,b\n1,2\n"),
        )
    ):
        path = tmp_path / f"file{i}{Path(key).suffix}"
        path.write_text(text)
        ln.Artifact(path, key=key).save()
    return TestClient(ui_app.create_app(None))


def _rows(body: str) -> list[str]:
    return re.findall(r'<a href="/artifacts/([A-Za-z0-9]{20})">', body)


def test_home_counts_registries_and_lists_the_latest(client: TestClient, ln: ModuleType) -> None:
    body = client.get("/").text
    assert "project1/table.parquet" in body and "top.csv" in body
    assert 'hx-get="/counts" hx-trigger="load"' in body  # the counts follow once the page shows
    counts = client.get("/counts").text
    assert re.search(r"<b>4</b> Artifacts", counts) and re.search(r"<b>1</b> ULabel<", counts)


def test_the_table_filters_sorts_and_pages_by_key(client: TestClient, ln: ModuleType) -> None:
    by_prefix = client.get("/artifacts", params={"key": "project1/"}).text
    keys = {ln.Artifact.get(uid=uid).key for uid in _rows(by_prefix)}
    assert keys == {"project1/table.parquet", "project1/sub/notes.txt"}
    assert ">📁 sub/</a>" in by_prefix  # the folders under the prefix
    top = client.get("/artifacts").text
    assert all(f"📁 {folder}/" in top for folder in ("project1", "project2"))
    assert [
        ln.Artifact.get(uid=u).key for u in _rows(client.get("/artifacts", params={"sort": "key"}).text)
    ] == [
        "project1/sub/notes.txt",
        "project1/table.parquet",
        "project2/readme.md",
        "top.csv",
    ]
    labelled = client.get("/artifacts", params={"label": ATTACK}).text
    assert len(_rows(labelled)) == 1
    warm = client.get("/artifacts", params={"feature": "temperature", "op": "gt", "value": "20"}).text
    assert len(_rows(warm)) == 1
    assert _rows(client.get("/artifacts", params={"suffix": ".csv"}).text) == [
        ln.Artifact.get(key="top.csv").uid
    ]


def _next_link(body: str) -> str | None:
    link = re.search(r'class="next" href="\?([^"]+)"', body)
    return None if link is None else "/artifacts?" + link.group(1).replace("&amp;", "&")


def test_pages_follow_each_other_by_key_or_by_offset(
    client: TestClient, ln: ModuleType, monkeypatch: Any
) -> None:
    monkeypatch.setattr(artifact_pages, "PAGE_SIZE", 3)
    newest_first = [a.key for a in ln.Artifact.filter().order_by("-created_at")]
    # created_at is never NULL: the next page is the rows after the last one shown (an index range)
    first = client.get("/artifacts").text
    link = _next_link(first)
    assert link is not None and "after=" in link
    second = client.get(link).text
    assert [ln.Artifact.get(uid=u).key for u in [*_rows(first), *_rows(second)]] == newest_first
    assert _next_link(second) is None and "first page" in second
    # a key can be NULL, which after() cannot page by: pages by offset
    link = _next_link(client.get("/artifacts", params={"sort": "key"}).text)
    assert link is not None and "page=2" in link
    assert [ln.Artifact.get(uid=u).key for u in _rows(client.get(link).text)] == ["top.csv"]


def test_trash_is_its_own_branch(client: TestClient, ln: ModuleType) -> None:
    ln.Artifact.get(key="top.csv").delete()
    assert len(_rows(client.get("/artifacts").text)) == 3
    trash = client.get("/artifacts", params={"branch": "trash"}).text
    assert _rows(trash) == [ln.Artifact.filter(branch_id=-1).one().uid]
    assert len(_rows(client.get("/artifacts", params={"branch": "all"}).text)) == 4


def test_bad_filters_say_what_to_write(client: TestClient) -> None:
    for params, says in (
        ({"since": "yesterday"}, "write it as 2026-11-30"),
        ({"sort": "uid"}, "sort by one of"),
        ({"branch": "side"}, "choose main, archive, trash or all"),
        ({"feature": "temperature", "value": "warm"}, "is not one"),
        ({"feature": "nope", "value": "1"}, "no feature named"),
        ({"after": "x" * 20}, "start from the first page"),
        ({"sort": "key", "page": "0"}, "pages count from 1"),
    ):
        response = client.get("/artifacts", params=params)
        assert response.status_code == 400 and says in response.text, params


def test_the_artifact_page_shows_metadata_features_labels_and_a_preview(
    client: TestClient, ln: ModuleType
) -> None:
    artifact = ln.Artifact.get(key="project1/table.parquet")
    body = client.get(f"/artifacts/{artifact.uid}").text
    assert artifact.hash in body and "temperature" in body and "21.5" in body and "lung" in body
    assert "<th>gene</th><th>count</th>" in body and "3 rows × 2 columns" in body
    # every user string is text: the description and the label
    assert ATTACK not in body and body.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2
    text = client.get(f"/artifacts/{ln.Artifact.get(key='project1/sub/notes.txt').uid}").text
    assert '<pre class="preview">hello\nworld\n</pre>' in text
    csv = client.get(f"/artifacts/{ln.Artifact.get(key='top.csv').uid}").text
    assert "<th>a</th><th>b</th>" in csv
    assert client.get("/artifacts/" + "0" * 20).status_code == 404


def test_versions_switch_between_each_other(client: TestClient, ln: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "v2.txt"
    path.write_text("hello again\n")
    newer = ln.Artifact(path, key="project1/sub/notes.txt").save()
    older = ln.Artifact.filter(key="project1/sub/notes.txt", is_latest=False).one()
    body = client.get(f"/artifacts/{older.uid}").text
    assert f'href="/artifacts/{newer.uid}"' in body and "latest" in body


def test_download_gives_the_bytes(client: TestClient, ln: ModuleType) -> None:
    artifact = ln.Artifact.get(key="project2/readme.md")
    response = client.get(f"/artifacts/{artifact.uid}/download")
    assert response.status_code == 200 and response.content == b"# read me\n"
    assert 'filename="readme.md"' in response.headers["content-disposition"]


def test_only_reading_is_served(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = client.request(method, "/artifacts")
        assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert "app;dur=" in client.get("/").headers["server-timing"]


def test_an_address_in_use_or_not_a_port_is_refused_with_the_fix() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InvalidArgument, match=f"choose another with --port, e.g. --port {port + 1}"):
            server._check_address("127.0.0.1", port)
    with pytest.raises(InvalidArgument, match="is not a TCP port"):
        server._check_address("127.0.0.1", 70000)
    assert server.url_of("0.0.0.0", 8765) == "http://127.0.0.1:8765/"


def test_ln_ui_serves_in_the_background_until_stopped(ln: ModuleType) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handle = ln.ui(port=port)
    try:
        assert httpx.get(handle.url).status_code == 200
    finally:
        handle.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(handle.url)


def test_folders_are_found_past_neighbours_whose_names_extend_them(
    client: TestClient, tmp_path: Path
) -> None:
    import lamella as ln

    for key in ("project10/deep/x.txt", "project1a.txt", "project1/zz.txt"):
        path = tmp_path / key.replace("/", "_")
        path.write_text(key)
        ln.Artifact(path, key=key).save()
    top = client.get("/artifacts").text
    shown = re.findall(r"📁 ([^<]+)/</a>", top)
    assert shown == ["project1", "project10", "project2"]  # each once, in key order
    assert re.findall(r"📁 ([^<]+)/</a>", client.get("/artifacts", params={"key": "project10/"}).text) == [
        "deep"
    ]


def test_an_anndata_preview_shows_its_shape_and_the_heads_of_obs_and_var(
    client: TestClient, tmp_path: Path
) -> None:
    import anndata as ad
    import numpy as np

    import lamella as ln

    adata = ad.AnnData(
        np.ones((30, 4), dtype=np.float32),
        obs=pd.DataFrame(
            {"cell_type": [f"type{i % 3}" for i in range(30)]}, index=[f"c{i}" for i in range(30)]
        ),
        var=pd.DataFrame({"symbol": ["CD4", "CD8A", "MS4A1", ATTACK]}, index=["g0", "g1", "g2", "g3"]),
    )
    artifact = ln.Artifact.from_anndata(adata, key="cells/small.h5ad").save()
    body = client.get(f"/artifacts/{artifact.uid}").text
    assert "AnnData 30 observations × 4 variables" in body
    assert "<th>cell_type</th>" in body and "<td>type1</td>" in body and body.count("<th>c9</th>") == 1
    assert "<td>CD8A</td>" in body and "&lt;script&gt;" in body and ATTACK not in body


def test_bytes_gone_from_storage_give_a_page_that_says_so(ln: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "gone.txt"
    path.write_text("soon gone")
    artifact = ln.Artifact(path, key="gone.txt").save()
    Path(str(artifact.path)).unlink()
    client = TestClient(ui_app.create_app(None), raise_server_exceptions=False)
    page = client.get(f"/artifacts/{artifact.uid}")
    assert (
        page.status_code == 200 and "gone.txt" in page.text
    )  # the record is shown, the preview says why not
    download = client.get(f"/artifacts/{artifact.uid}/download")
    assert (
        download.status_code == 500
        and "FileNotFoundError" in download.text
        and "Something failed" in download.text
    )
