"""The artifacts table of the web UI, without a browser: its pages (following "next" from the first page
lists every artifact once, whatever the sort, including sorts on columns that can be NULL, which cannot
page by key) and its filters by feature value, as an artifact's page links them."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

from starlette.testclient import TestClient

from lamella._ui.app import create_app
from lamella._ui.pages.artifacts import PAGE_SIZE, SORTS


def client() -> TestClient:
    """The UI of the instance the `ln` fixture connected."""
    return TestClient(create_app(None))


def walk(http: TestClient, sort: str) -> tuple[list[str], int]:
    """The uids of every page from the first, following the "next" link; and how many pages."""
    url, pages = f"/artifacts?sort={sort}", 0
    uids: list[str] = []
    while url:
        response = http.get(url)
        assert response.status_code == 200, (url, re.findall(r'class="error">([^<]*)', response.text))
        uids += re.findall(r'<td><a href="/artifacts/(\w+)">', response.text)
        pages += 1
        following = re.search(r'class="next" href="([^"]*)"', response.text)
        url = "/artifacts" + following.group(1).replace("&amp;", "&") if following else ""
        assert pages <= 3, f"more pages than {PAGE_SIZE + 10} artifacts fill, at {url}"
    return uids, pages


def test_every_sort_pages_through_all_artifacts_once(ln: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for i in range(PAGE_SIZE + 10):
        path = tmp_path / "in" / f"{i}.txt"
        path.write_text(f"{i:03d}")  # one size for all: ties the order must still place
        # every fifth without a key, so sorting by key meets NULLs
        ln.Artifact(path, key=None if i % 5 == 0 else f"f/{i:02d}.txt", description=f"file {i}").save()
    every = set(ln.Artifact.filter().to_list("uid"))
    http = client()
    for sort in SORTS:
        uids, pages = walk(http, sort)
        assert pages == 2, sort
        assert len(uids) == len(every) and set(uids) == every, sort


def test_a_boolean_feature_filters_by_the_value_its_artifact_page_links(
    ln: ModuleType, tmp_path: Path
) -> None:
    ln.Feature(name="passed_qc", dtype="bool").save()
    (tmp_path / "good.txt").write_text("good")
    (tmp_path / "bad.txt").write_text("bad")
    good = ln.Artifact(tmp_path / "good.txt", key="good.txt").save()
    bad = ln.Artifact(tmp_path / "bad.txt", key="bad.txt").save()
    good.features.add_values({"passed_qc": True})
    bad.features.add_values({"passed_qc": False})
    http = client()
    page = http.get(f"/artifacts/{good.uid}").text
    link = re.search(r'href="(/artifacts\?feature=passed_qc[^"]*)"', page)
    assert link is not None and "value=True" in link.group(1)
    listed = http.get(link.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200
    assert re.findall(r'<td><a href="/artifacts/(\w+)">', listed.text) == [good.uid]
    assert re.findall(
        r'<td><a href="/artifacts/(\w+)">', http.get("/artifacts?feature=passed_qc&value=false").text
    ) == [bad.uid]
    refused = http.get("/artifacts?feature=passed_qc&value=maybe")
    assert refused.status_code == 400
    assert "holds true or false; &#39;maybe&#39; is neither" in refused.text
