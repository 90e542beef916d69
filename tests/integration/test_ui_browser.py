"""The web UI in chromium, as a user clicks through it: home, the artifacts table, an artifact's page,
previews, downloads, and that nothing an instance holds or a URL carries runs as script.

One `lamella ui` server per module (child process), serving an instance built by ui_browser.build_instance.
Each step leaves a full-page screenshot in $LAMELLA_TEST_ARTIFACTS (default test-artifacts/ui/).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import expect
from ui_browser import SCRIPT_LABEL, STUDY_LABEL, Steps

pytestmark = pytest.mark.integration


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def table_keys(page: Any) -> list[str]:
    """The first column of the artifacts table as shown (key, else description, else uid)."""
    return [
        text.strip() for text in page.locator("table.records tbody tr td:first-child a").all_inner_texts()
    ]


def test_home_to_an_artifact_and_its_versions(page: Any, shot: Steps, ui_site: Any, watched: Any) -> None:
    uids = ui_site.content.uids
    page.goto("/")
    expect(page.locator("h1")).to_have_text(re.compile(rf"/{ui_site.content.name}$"))
    expect(page.locator(".counts a", has_text="Artifacts")).to_contain_text("60")
    shot("home")

    latest = page.locator("section", has=page.get_by_role("heading", name="Latest artifacts"))
    row = latest.locator("tbody tr", has_text="results/scores.parquet").filter(has_not_text="(older)")
    row.get_by_role("link").click()
    page.wait_for_url(f"**/artifacts/{uids['table']}")
    expect(page.locator("h1")).to_have_text("results/scores.parquet")
    features = page.locator("section", has=page.get_by_role("heading", name="Features")).locator("tr")
    expect(features.filter(has_text="tissue")).to_contain_text("lung")
    expect(features.filter(has_text="n_samples")).to_contain_text("4")
    expect(features.filter(has_text="mean_score")).to_contain_text("0.39")
    versions = page.locator("ul.versions li")
    expect(versions).to_have_count(2)
    expect(versions.filter(has_text="(this)")).to_contain_text("latest")
    expect(page.locator("section", has_text="Metadata")).to_contain_text(uids["run"])
    shot("artifact")

    versions.get_by_role("link").click()
    page.wait_for_url(f"**/artifacts/{uids['table_v1']}")
    expect(page.locator("ul.versions li").filter(has_text="(this)")).not_to_contain_text("latest")
    shot("older-version")
    assert watched.errors == [] and watched.failed == []


def test_filter_the_artifacts_table_by_key_prefix_and_suffix(page: Any, shot: Steps) -> None:
    page.goto("/artifacts")
    expect(page.locator("ul.folders")).to_contain_text("results/")
    shot("all")

    page.get_by_label("key prefix", exact=True).fill("results/")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"key=results%2F"))
    expect(page.locator("table.records tbody tr")).to_have_count(3)
    assert sorted(table_keys(page)) == [
        "results/notes.txt",
        "results/scores.parquet",
        "results/scores.parquet",
    ]
    shot("key-prefix")

    page.get_by_label("suffix", exact=True).fill(".parquet")
    page.get_by_label("suffix", exact=True).press("Enter")
    page.wait_for_url(re.compile(r"suffix=\.parquet"))
    expect(page.locator("table.records tbody tr")).to_have_count(2)
    assert table_keys(page) == ["results/scores.parquet"] * 2
    assert query_of(page)["key"] == ["results/"]
    shot("suffix")

    # the URL alone carries the filter: loading it shows the same rows and the form filled in
    page.goto(page.url)
    expect(page.locator("table.records tbody tr")).to_have_count(2)
    expect(page.get_by_label("key prefix", exact=True)).to_have_value("results/")
    expect(page.get_by_label("suffix", exact=True)).to_have_value(".parquet")
    shot("reloaded")


def test_a_folder_then_the_next_page(page: Any, shot: Steps, ui_site: Any) -> None:
    page.goto("/artifacts")
    page.locator("ul.folders a", has_text="batch/").click()
    page.wait_for_url(re.compile(r"key=batch%2F"))
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(50)
    first = table_keys(page)
    shot("first-page")

    page.locator(".pager a.next").click()
    page.wait_for_url(re.compile(r"after="))
    expect(rows).to_have_count(len(ui_site.content.batch_keys) - 50)
    second = table_keys(page)
    assert query_of(page)["key"] == ["batch/"]
    assert sorted(first + second) == sorted(ui_site.content.batch_keys)
    expect(page.locator(".pager a.next")).to_have_count(0)
    shot("next-page")

    page.get_by_role("link", name="first page").click()
    expect(rows).to_have_count(50)
    assert table_keys(page) == first

    # keys can be NULL, so a table sorted by key pages by row number rather than after a row
    page.locator("select[name=sort]").select_option("key")
    page.wait_for_url(re.compile(r"sort=key"))
    expect(rows.first).to_contain_text("batch/sample_00.txt")
    page.locator(".pager a.next").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert table_keys(page) == ui_site.content.batch_keys[50:]
    shot("sorted-by-key-next-page")


def test_previews_of_a_table_an_image_and_a_text(page: Any, shot: Steps, ui_site: Any) -> None:
    uids = ui_site.content.uids
    page.goto(f"/artifacts/{uids['table']}")
    frame = page.locator("table.frame")
    expect(frame.locator("thead th")).to_have_text(["", "sample", "tissue", "n_cells", "score"])
    expect(frame.locator("tbody tr")).to_have_count(4)
    expect(frame.locator("tbody tr").nth(2)).to_contain_text("blood")
    expect(page.get_by_text("4 rows × 4 columns")).to_be_visible()
    shot("parquet")

    page.goto(f"/artifacts/{uids['raw']}")
    expect(page.locator("table.frame tbody tr")).to_have_count(4)
    expect(page.locator("table.frame thead th")).to_have_text(["", "sample", "tissue", "n_cells"])
    shot("csv")

    page.goto(f"/artifacts/{uids['image']}")
    image = page.locator("img.preview")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('img.preview').complete")
    assert image.evaluate("img => img.naturalWidth") == 48
    assert image.evaluate("img => img.naturalHeight") == 32
    shot("image")

    page.goto(f"/artifacts/{uids['notes']}")
    expect(page.locator("pre.preview")).to_have_text(ui_site.content.files["notes"].decode().rstrip("\n"))
    shot("text")


def test_html_in_records_and_urls_shows_as_text(page: Any, shot: Steps, ui_site: Any, watched: Any) -> None:
    uids = ui_site.content.uids
    page.goto(f"/artifacts/{uids['table']}")
    labels = page.locator("section", has=page.get_by_role("heading", name="Labels"))
    expect(labels.locator("a.chip", has_text="alert(1)")).to_have_text(SCRIPT_LABEL)
    expect(labels.locator("a.chip", has_text=STUDY_LABEL)).to_have_count(1)
    shot("label")

    page.goto(f"/artifacts/{uids['notes']}")
    expect(page.locator("p.description")).to_have_text("<b>bold</b> notes from QC")
    expect(page.locator("p.description b")).to_have_count(0)
    shot("description")

    # a filter's value comes back in the form: a quote must not close the attribute
    injected = '"><script>alert(2)</script>'
    page.goto(f"/artifacts?label={quote(SCRIPT_LABEL)}&project={quote(injected)}")
    expect(page.get_by_label("label", exact=True)).to_have_value(SCRIPT_LABEL)
    expect(page.get_by_label("project", exact=True)).to_have_value(injected)
    page.goto(f"/artifacts?label={quote(SCRIPT_LABEL)}")
    assert table_keys(page) == ["results/scores.parquet"]
    shot("label-filter")

    # and an error page repeats what it could not use
    page.goto(f"/artifacts?sort={quote(SCRIPT_LABEL)}")
    expect(page.locator("p.error")).to_contain_text(SCRIPT_LABEL)
    shot("error")

    page.goto("/")
    sources = page.evaluate("[...document.scripts].map(s => s.getAttribute('src'))")
    assert sources == ["/static/htmx.min.js"]
    assert watched.dialogs == []
    assert watched.errors == []


@pytest.mark.parametrize(("name", "filename"), [("notes", "notes.txt"), ("parquet", "scores.parquet")])
def test_the_download_link_returns_the_bytes(
    page: Any, shot: Steps, ui_site: Any, name: str, filename: str
) -> None:
    uid = ui_site.content.uids["table" if name == "parquet" else name]
    page.goto(f"/artifacts/{uid}")
    shot("artifact")
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download").click()
    download = caught.value
    assert download.suggested_filename == filename
    assert Path(download.path()).read_bytes() == ui_site.content.files[name]
