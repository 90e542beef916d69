"""Search everything: the first matches of each registry's ranked search (`Registry.search`), linked."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from lamella import models
from lamella._ui.pages import ontologies

SHOWN = 10  # matches per registry
MAX_QUERY = 200  # characters; longer text is cut, a search box is not a document

# the registries searched, in the order the page lists them
SEARCHED = (
    ("Artifacts", models.Artifact),
    ("Collections", models.Collection),
    ("Transforms", models.Transform),
    ("Records", models.Record),
    ("Labels", models.ULabel),
    ("Features", models.Feature),
    ("Projects", models.Project),
)


def matches(text: str) -> list[tuple[str, list[Any]]]:
    """(registry title, its best matches) for each registry with a match."""
    registries: list[tuple[str, Any]] = list(SEARCHED)
    if ontologies.in_use():
        registries += [(r.title, r.model) for r in ontologies.ONTOLOGIES.values()]
    found = []
    for title, model in registries:
        records = list(model.search(text, limit=SHOWN))
        if records:
            found.append((title, records))
    return found


def routes(templates: Jinja2Templates) -> list[Route]:
    def search(request: Request) -> Response:
        q = request.query_params.get("q", "").strip()[:MAX_QUERY]
        context = {
            "q": q,
            "groups": matches(q) if q else [],
            "shown": SHOWN,
            "ontologies": ontologies.in_use(),
        }
        return templates.TemplateResponse(request, "search.html", context)

    return [Route("/search", search, name="search")]
