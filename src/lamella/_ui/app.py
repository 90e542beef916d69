"""The Starlette app: templates, static files, the pages' routes, errors as pages; GET and HEAD only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from lamella._instance import state
from lamella._setup.connect import connect
from lamella._ui import format as fmt
from lamella._ui.pages import artifacts, catalog, home, lineage, lineage_records, ontologies, search
from lamella.errors import DoesNotExist, LamellaError

HERE = Path(__file__).parent
# the page modules; each gives its routes
PAGES = (home, artifacts, lineage, lineage_records, catalog, ontologies, search)


def templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value a page shows is escaped, whatever the file's suffix
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(fmt.FILTERS)
    environment.globals.update(fmt.GLOBALS)
    return Jinja2Templates(env=environment)


class ReadOnly(BaseHTTPMiddleware):
    """Refuse every method but GET and HEAD (the UI changes nothing); time each page (Server-Timing)."""

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse(
                "the Lamella UI is read-only", status_code=405, headers={"Allow": "GET, HEAD"}
            )
        started = time.perf_counter()
        response: Response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response


def create_app(instance: str | None) -> Starlette:
    """The UI of instance `instance` (connected read-only), or of the instance this process uses."""
    connected = connect(instance, read_only=True) if instance is not None else state.current()
    pages = templates()

    async def not_found(request: Request, exc: Exception) -> Response:
        return pages.TemplateResponse(request, "error.html", {"title": "Not found", "message": str(exc)}, 404)

    async def bad_request(request: Request, exc: Exception) -> Response:
        return pages.TemplateResponse(
            request, "error.html", {"title": "Cannot show this", "message": str(exc)}, 400
        )

    async def failed(request: Request, exc: Exception) -> Response:
        # a local tool: the page says what went wrong (escaped, as everything), the log has the rest
        message = f"{type(exc).__name__}: {exc}"
        return pages.TemplateResponse(
            request, "error.html", {"title": "Something failed", "message": message}, 500
        )

    routes: list[Any] = [route for page in PAGES for route in page.routes(pages)]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    app = Starlette(
        routes=routes,
        middleware=[Middleware(ReadOnly)],
        exception_handlers={DoesNotExist: not_found, LamellaError: bad_request, 404: not_found, 500: failed},
    )
    app.state.instance_name = connected.slug
    pages.env.globals["instance_name"] = connected.slug
    return app
