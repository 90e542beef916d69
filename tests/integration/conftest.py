"""Fixtures of the web UI's browser tests: one instance and one `lamella ui` server per test module,
one chromium per module, a fresh page (1280x800) per test, and its screenshots (tests/integration/ui_browser.py)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from ui_browser import VIEWPORT, Content, Steps, build_instance, launch_chromium, start_ui


@dataclass
class Site:
    """The served instance: its address and what it holds."""

    url: str
    content: Content


@dataclass
class Watched:
    """A page and what it did that a test may forbid: JS dialogs, uncaught errors, failed requests."""

    page: Any
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def ui_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    content = build_instance(tmp_path_factory.mktemp("ui"))
    server = start_ui(content)
    try:
        yield Site(server.url, content)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def watched(chromium: Any, ui_site: Site) -> Iterator[Watched]:
    context = chromium.new_context(base_url=ui_site.url, viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    seen = Watched(page)

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            seen.failed.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    try:
        yield seen
    finally:
        context.close()


@pytest.fixture
def page(watched: Watched) -> Any:
    """A fresh page on the module's UI server; relative URLs (page.goto("/")) go to it."""
    return watched.page


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


@pytest.fixture
def shot(page: Any, request: pytest.FixtureRequest) -> Iterator[Steps]:
    """`shot("step")`: a full-page screenshot into $LAMELLA_TEST_ARTIFACTS (test-artifacts/ui/); a test
    that fails leaves one more, of the page as it failed on."""
    steps = Steps(page, request.node.name)
    yield steps
    if request.node.stash.get(FAILED, False):
        steps("failed")
