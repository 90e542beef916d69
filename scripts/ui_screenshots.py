"""Regenerate the README's screenshots of `lamella ui` (docs/screenshots/*.png).

    PYTHONPATH=src .venv/bin/python scripts/ui_screenshots.py [--out docs/screenshots]

Builds the browser tests' demo instance in a temporary folder (tests/integration/ui_browser.py), serves
it with `lamella ui` and photographs each page in Debian's chromium at 1280x800, as the tests do.
The folders of the artifacts table are drawn with an emoji: install `fonts-noto-color-emoji` first.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the instance and browser setup are the browser tests': one definition of the demo content
sys.path.insert(0, str(REPO / "tests" / "integration"))

from ui_browser import VIEWPORT, build_instance, launch_chromium, start_ui  # noqa: E402


def pages(uids: dict[str, str]) -> list[tuple[str, str, bool]]:
    """(file name, path, whole page?) of each screenshot."""
    return [
        ("home", "/", False),
        ("artifacts", "/artifacts", False),
        ("artifact", f"/artifacts/{uids['table']}", True),
        ("lineage", f"/lineage/artifact/{uids['table']}", False),
        ("run", f"/runs/{uids['run']}", False),
        ("transform", f"/transforms/{uids['transform']}", True),
        ("search", "/search?q=T+cell+study", False),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="lamella-ui-shots-") as base:
        content = build_instance(Path(base))
        server = start_ui(content)
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(base_url=server.url, viewport=VIEWPORT)
                for name, path, whole in pages(content.uids):
                    page.goto(path)
                    page.wait_for_load_state("networkidle")
                    if path.startswith("/lineage/"):
                        page.wait_for_selector('body[data-lineage-ready="1"]')
                    target = out / f"{name}.png"
                    page.screenshot(path=str(target), full_page=whole)
                    print(target.relative_to(REPO) if target.is_relative_to(REPO) else target)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
