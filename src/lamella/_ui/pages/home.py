"""Home: how many records each registry holds, the latest artifacts, runs and transforms, and search."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from lamella import models

# the registries counted on the home page, in the order shown
REGISTRIES = (
    "Artifact",
    "Collection",
    "Transform",
    "Run",
    "Feature",
    "Schema",
    "Record",
    "Project",
    "ULabel",
)
LATEST = 8


def counts() -> list[tuple[str, int]]:
    # estimate_count: PostgreSQL's statistics answer at once for tables of millions (SQLite counts)
    return [(name, getattr(models, name).filter().estimate_count()) for name in REGISTRIES]


def routes(templates: Jinja2Templates) -> list[Route]:
    def home(request: Request) -> Response:
        context: dict[str, Any] = {
            "artifacts": list(models.Artifact.filter().order_by("-created_at")[:LATEST]),
            "runs": list(models.Run.filter().order_by("-started_at")[:LATEST]),
            "transforms": list(models.Transform.filter().order_by("-created_at")[:LATEST]),
        }
        return templates.TemplateResponse(request, "home.html", context)

    def registry_counts(request: Request) -> Response:
        # asked for by the home page once shown: counting a million rows (SQLite counts exactly) does
        # not hold up the page
        return templates.TemplateResponse(request, "_counts.html", {"counts": counts()})

    return [Route("/", home, name="home"), Route("/counts", registry_counts, name="counts")]
