"""The lineage page of an artifact, collection, run or transform: a graph drawn in the browser from
the page's JSON (`/lineage/<kind>/<uid>.json`), and the same nodes as a list of links under it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from lamella._query.relations import model
from lamella.errors import DoesNotExist, InvalidArgument
from lamella.models.core.lineage_graph import KINDS, REGISTRIES, Lineage, lineage

MAX_STEPS = 10  # further than this a graph is too wide to read; the focus moves by clicking a node
STEPS_SHOWN = tuple(range(MAX_STEPS + 1))
DEFAULT_UP, DEFAULT_DOWN = 3, 1
# kind -> the path of its pages
PATHS = {"artifact": "artifacts", "collection": "collections", "run": "runs", "transform": "transforms"}


class UnknownKind(DoesNotExist):
    """A lineage URL names a kind of record that has no lineage (a 404: no such page)."""


def _steps(params: Any, name: str, default: int) -> int:
    text = params.get(name)
    if text in (None, ""):
        return default
    try:
        steps = int(text)
    except ValueError:
        steps = -1
    if not 0 <= steps <= MAX_STEPS:
        raise InvalidArgument(f"{name}={text!r}: give a whole number of steps from 0 to {MAX_STEPS}")
    return steps


def find(kind: str, uid: str) -> Any:
    """The record a lineage URL names (in any branch)."""
    if kind not in KINDS:
        raise UnknownKind(f"no lineage of {kind!r} records; lineage pages show {', '.join(KINDS)}")
    record = model(REGISTRIES[kind]).filter(uid=uid, branch_id=None).first()
    if record is None:
        raise DoesNotExist(f"no {kind} with uid {uid!r}")
    return record


def href(kind: str, uid: str) -> str:
    return f"/{PATHS[kind]}/{uid}"


def graph_of(request: Request) -> tuple[Lineage, int, int]:
    record = find(request.path_params["kind"], request.path_params["uid"])
    up = _steps(request.query_params, "up", DEFAULT_UP)
    down = _steps(request.query_params, "down", DEFAULT_DOWN)
    return lineage(record, upstream=up, downstream=down), up, down


def as_json(found: Lineage) -> dict[str, Any]:
    return {
        "nodes": [
            {
                "id": node.id,
                "kind": node.kind,
                "label": node.label,
                "detail": node.detail,
                "href": href(node.kind, node.uid),
                "focus": node.id == found.focus,
            }
            for node in found.nodes
        ],
        "edges": [{"source": e.source, "target": e.target, "kind": e.kind} for e in found.edges],
        "truncated": found.truncated,
    }


def _neighbours(found: Lineage) -> dict[str, dict[str, list[str]]]:
    """For the list under the graph: each node's inputs ("from") and outputs ("to"), by node id."""
    near: dict[str, dict[str, list[str]]] = {n.id: {"from": [], "to": []} for n in found.nodes}
    for edge in found.edges:
        near[edge.target]["from"].append(edge.source)
        near[edge.source]["to"].append(edge.target)
    return near


def routes(templates: Jinja2Templates) -> list[Route]:
    def data(request: Request) -> Response:
        # errors as JSON too: the page's script reads them
        try:
            found, _, _ = graph_of(request)
        except DoesNotExist as e:
            return JSONResponse({"error": str(e)}, status_code=404)
        except InvalidArgument as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        return JSONResponse(as_json(found))

    def page(request: Request) -> Response:
        found, up, down = graph_of(request)
        kind, uid = request.path_params["kind"], request.path_params["uid"]
        nodes = {node.id: node for node in found.nodes}
        focus = nodes[found.focus]
        context = {
            "kind": kind,
            "focus": focus,
            "focus_href": href(kind, uid),
            "nodes": found.nodes,
            "by_id": nodes,
            "near": _neighbours(found),
            "hrefs": {node.id: href(node.kind, node.uid) for node in found.nodes},
            "n_edges": len(found.edges),
            "truncated": found.truncated,
            "up": up,
            "down": down,
            "steps": STEPS_SHOWN,
            "json_url": f"/lineage/{kind}/{uid}.json?up={up}&down={down}",
        }
        return templates.TemplateResponse(request, "lineage.html", context)

    return [
        # the .json route first: `{uid}` alone would match "<uid>.json"
        Route("/lineage/{kind}/{uid}.json", data, name="lineage_json"),
        Route("/lineage/{kind}/{uid}", page, name="lineage"),
    ]
