"""The web UI in chromium across pages: from an artifact to its lineage graph (cytoscape.js) and from a
node of the graph to the run that made the artifact; from the header's search box to a label.

The graph page's contract: the cytoscape instance is `window.lamellaLineage`, its nodes have ids
"<kind>:<uid>" ("run:<uid>", "artifact:<uid>"), `document.body.dataset.lineageReady` is "1" once laid
out, and a plain list of the nodes' links follows the graph.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from ui_browser import STUDY_LABEL, Steps

pytestmark = pytest.mark.integration


def click_node(page: Any, node_id: str) -> None:
    """Clicks a node of the lineage graph where chromium draws it, as a user would."""
    where = page.evaluate(
        """async id => {
            const cy = window.lamellaLineage;
            const node = cy.$id(id);
            if (node.empty()) return null;
            const at = node.renderedPosition();  // within the graph's container
            const y = cy.container().getBoundingClientRect().top + at.y;
            if (y < 0 || y > window.innerHeight) {
                // a mouse clicks only what the window shows; cytoscape learns that its canvas moved
                // from the scroll event, so the click waits for it (and two frames)
                const scrolled = new Promise(done => window.addEventListener(
                    "scroll", () => requestAnimationFrame(() => requestAnimationFrame(done)), {once: true}));
                window.scrollBy(0, y - window.innerHeight / 2);
                await scrolled;
            }
            const box = cy.container().getBoundingClientRect();
            return {x: box.left + at.x, y: box.top + at.y};
        }""",
        node_id,
    )
    assert where is not None, f"the graph has no node {node_id!r}"
    page.mouse.click(where["x"], where["y"])


def test_from_an_artifact_to_its_lineage_and_the_run_that_made_it(
    page: Any, shot: Steps, ui_site: Any, watched: Any
) -> None:
    uids = ui_site.content.uids
    page.goto(f"/artifacts/{uids['table']}")
    with page.expect_navigation() as opened:
        page.get_by_role("link", name="Lineage").click()
    assert opened.value.status == 200, f"{opened.value.url} answered {opened.value.status}"
    page.wait_for_url(f"**/lineage/artifact/{uids['table']}")
    page.wait_for_selector('body[data-lineage-ready="1"]')
    shot("graph")

    nodes = page.evaluate("window.lamellaLineage.nodes().map(n => n.id())")
    # the artifact, the run that made it, and what that run read
    assert {f"artifact:{uids['table']}", f"run:{uids['run']}", f"artifact:{uids['raw']}"} <= set(nodes)
    expect(page.locator(f'a[href="/runs/{uids["run"]}"]').first).to_be_attached()
    expect(page.locator(f'a[href="/artifacts/{uids["raw"]}"]').first).to_be_attached()

    click_node(page, f"run:{uids['run']}")
    page.wait_for_url(re.compile(rf"/runs/{uids['run']}$"))
    expect(page.locator("main")).to_contain_text(uids["run"])
    shot("run")
    assert watched.errors == [] and watched.dialogs == []


def test_search_from_the_header_to_a_label(page: Any, shot: Steps, ui_site: Any, watched: Any) -> None:
    uids = ui_site.content.uids
    page.goto("/")
    search = page.get_by_role("searchbox", name="Search")
    search.fill(STUDY_LABEL)
    with page.expect_navigation() as searched:
        search.press("Enter")
    assert searched.value.status == 200, f"{searched.value.url} answered {searched.value.status}"
    page.wait_for_url(re.compile(r"/search\?q=T\+cell\+study"))
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(STUDY_LABEL)
    shot("results")

    page.locator("main").get_by_role("link", name=STUDY_LABEL, exact=True).first.click()
    page.wait_for_url(re.compile(rf"/ulabels/{uids['study']}$"))
    expect(page.locator("h1")).to_contain_text(STUDY_LABEL)
    shot("label")
    assert watched.errors == [] and watched.dialogs == []
