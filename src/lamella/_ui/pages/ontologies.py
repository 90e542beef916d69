"""Ontology terms and the other bionty registries (genes, proteins, organisms...), when the instance
uses the bionty module: the registries with their counts, each one's table, and a term's page with its
place in the hierarchy (parents, children) and the artifacts annotated with it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from lamella._instance import state
from lamella._ui import format as fmt
from lamella._ui.pages.registries import (
    Column,
    Detail,
    Registry,
    attr,
    detail_response,
    list_response,
    related,
)
from lamella.bionty import REGISTRIES as BIONTY_REGISTRIES
from lamella.errors import DoesNotExist

MODULE = "bionty"


def in_use() -> bool:
    """Whether the instance has the bionty module's tables (`lamella init --modules bionty`)."""
    return MODULE in state.current().config.modules


def term_page(term: Any) -> Detail:
    fields: list[tuple[str, Any, str | None]] = [("uid", term.uid, None)]
    fields += [(f, str(getattr(term, f) or ""), None) for f in type(term)._repr_fields if f != "uid"]
    if getattr(term, "synonyms", None):
        fields.append(("synonyms", term.synonyms.replace("|", ", "), None))
    for relation in ("organism", "source"):
        linked = getattr(term, relation, None)
        if linked is not None:
            fields.append((relation, fmt.name_of(linked), None))
    fields.append(("created", fmt.when(term.created_at), None))
    sections = []
    if hasattr(type(term), "parents"):  # the ontologies are hierarchies; genes and proteins are not
        sections += [related(term.parents, "Parents"), related(term.children, "Children")]
    sections += [related(term.artifacts, "Artifacts annotated with it"), related(term.records, "Records")]
    return Detail(term, fields, sections, description=getattr(term, "description", None))


def _registry(model: Any) -> Registry:
    """The pages of one bionty registry: the fields of its repr as columns (its name first)."""
    fields = [f for f in model._repr_fields if f != "uid"]
    return Registry(
        path=f"ontologies/{model.__name__.lower()}",
        title=model.__name__,
        model=model,
        columns=(Column(fields[0], fmt.name_of), *(Column(f, attr(f)) for f in fields[1:])),
        detail=term_page,
    )


ONTOLOGIES = {model.__name__.lower(): _registry(model) for model in BIONTY_REGISTRIES}


def registry_named(name: str) -> Registry:
    if not in_use():
        raise DoesNotExist(
            f"this instance does not use the bionty module, so it has no {name!r} registry; "
            f"add it with `lamella migrate --modules bionty`"
        )
    registry = ONTOLOGIES.get(name)
    if registry is None:
        raise DoesNotExist(f"no ontology registry {name!r}; choose one of {', '.join(ONTOLOGIES)}")
    return registry


def counts() -> list[tuple[Registry, int]]:
    return [(r, r.model.filter().estimate_count()) for r in ONTOLOGIES.values()] if in_use() else []


def routes(templates: Jinja2Templates) -> list[Route]:
    def overview(request: Request) -> Response:
        context = {"registries": counts(), "in_use": in_use()}
        return templates.TemplateResponse(request, "ontologies.html", context)

    def table_page(request: Request) -> Response:
        return list_response(templates, request, registry_named(request.path_params["registry"]))

    def term(request: Request) -> Response:
        registry = registry_named(request.path_params["registry"])
        return detail_response(templates, request, registry, request.path_params["uid"])

    return [
        Route("/ontologies", overview, name="ontologies"),
        Route("/ontologies/{registry}", table_page, name="ontology"),
        Route("/ontologies/{registry}/{uid}", term, name="ontology_term"),
    ]
