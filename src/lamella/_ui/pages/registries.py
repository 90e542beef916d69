"""The pages every registry shares: a table in keyset pages and a record's page, from a small description.

A `Registry` names its model, its table's columns and a function that lays out one record's page as
fields and sections; `routes_for` turns descriptions into routes. The modules that describe registries
(lineage_records, catalog, ontologies) hold only what differs between them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from lamella._ui import format as fmt
from lamella.errors import DoesNotExist, InvalidArgument

PAGE_SIZE = 50
RELATED_SHOWN = 50  # records listed in a section of a record's page; a link leads to the rest

Pair = tuple[str, Any, str | None]  # (label, value, the page the value links to or None)


@dataclass(frozen=True)
class Column:
    """A column of a table: its header, the value of a row, and where the value links (if anywhere)."""

    header: str
    value: Callable[[Any], Any]
    href: Callable[[Any], str | None] | None = None

    def cell(self, record: Any) -> tuple[str, str | None]:
        value = self.value(record)
        text = fmt.when(value) if isinstance(value, datetime) else ("" if value is None else str(value))
        return text, self.href(record) if self.href is not None else None


@dataclass
class Section:
    """A part of a record's page. `kind` says which of the other fields it fills:
    links (records), table (columns, records), values (pairs), text, code (highlighted HTML)."""

    title: str
    kind: str
    records: list[Any] = field(default_factory=list)
    columns: tuple[Column, ...] = ()
    pairs: Sequence[Pair] = ()
    text: str = ""
    html: str = ""
    truncated: bool = False
    more: tuple[str, str] | None = None  # (label, href) of the rest
    empty: str = ""


@dataclass
class Detail:
    """One record's page: its heading, fields, buttons, versions and sections."""

    record: Any
    fields: Sequence[Pair]
    sections: list[Section]
    actions: list[tuple[str, str]] = field(default_factory=list)
    versions: list[Any] | None = None
    description: str | None = None
    heading: str | None = None  # else what the record is called (format.name_of)


@dataclass(frozen=True)
class Registry:
    """How a registry's pages look: `/<path>` (its table) and `/<path>/<uid>` (a record's page)."""

    path: str
    title: str
    model: Any
    columns: tuple[Column, ...]
    detail: Callable[[Any], Detail]
    order: str = "-created_at"  # a NOT NULL column: pages continue with QuerySet.after()
    filters: Mapping[str, str] = field(default_factory=dict)  # URL parameter -> lookup


def attr(name: str) -> Callable[[Any], Any]:
    return lambda record: getattr(record, name, None)


def linked(name: str) -> Callable[[Any], str | None]:
    """The page of the record in attribute `name` (a type, a transform), if there is one."""

    def target(record: Any) -> str | None:
        related = getattr(record, name, None)
        return fmt.href(related) if related is not None else None

    return target


def named(name: str) -> Callable[[Any], str]:
    """What the record in attribute `name` is called, or nothing."""

    def text(record: Any) -> str:
        related = getattr(record, name, None)
        return fmt.name_of(related) if related is not None else ""

    return text


def duration(run: Any) -> str:
    """How long a run took, or nothing while it has not finished."""
    if run.finished_at is None or run.started_at is None:
        return ""
    seconds = (run.finished_at - run.started_at).total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def find(model: Any, uid: str) -> Any:
    """The record with this uid in any branch; DoesNotExist (a 404 page) names the uid otherwise."""
    record = model.filter(uid=uid, branch_id=None).first()
    if record is None:
        raise DoesNotExist(f"no {model.__name__} with uid {uid!r}; its table lists the uids there are")
    return record


def _first(records: Any, n: int) -> list[Any]:
    """The first n of a relation manager, a QuerySet or a list."""
    if not isinstance(records, list) and hasattr(records, "all"):
        records = records.all()
    return list(records[:n])


def related(records: Any, title: str, *, more: tuple[str, str] | None = None, empty: str = "none") -> Section:
    """A section of chips: the first records of a relation, and a link to the rest if given."""
    shown = _first(records, RELATED_SHOWN + 1)
    return Section(
        title,
        "links",
        records=shown[:RELATED_SHOWN],
        truncated=len(shown) > RELATED_SHOWN,
        more=more,
        empty=empty,
    )


def table(
    records: Any,
    title: str,
    columns: tuple[Column, ...],
    *,
    more: tuple[str, str] | None = None,
    empty: str = "none",
) -> Section:
    shown = _first(records, RELATED_SHOWN + 1)
    return Section(
        title,
        "table",
        records=shown[:RELATED_SHOWN],
        columns=columns,
        truncated=len(shown) > RELATED_SHOWN,
        more=more,
        empty=empty,
    )


def values(mapping: Mapping[str, Any], title: str, *, empty: str = "none") -> Section:
    pairs = [(str(k), _shown(v), None) for k, v in mapping.items()]
    return Section(title, "values", pairs=pairs, empty=empty)


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def versions_of(record: Any) -> list[Any]:
    return list(record.versions.order_by("-created_at")[:RELATED_SHOWN])


def page(registry: Registry, params: Mapping[str, str]) -> dict[str, Any]:
    """One page of the registry's table: its rows and the uid the next page starts after."""
    lookups = {registry.filters[p]: params[p] for p in registry.filters if params.get(p)}
    qs = registry.model.filter(**lookups).order_by(registry.order)
    after = params.get("after")
    if after:
        anchor = registry.model.filter(uid=after, branch_id=None).first()
        if anchor is None:
            raise InvalidArgument(
                f"after={after!r} names no {registry.model.__name__}; start from the first page"
            )
        qs = qs.after(anchor)
    rows = list(qs[: PAGE_SIZE + 1])
    return {
        "registry": registry,
        "rows": rows[:PAGE_SIZE],
        "next_after": rows[PAGE_SIZE - 1].uid if len(rows) > PAGE_SIZE else None,
        "params": dict(params),
        "filtered": {p: params[p] for p in registry.filters if params.get(p)},
    }


def detail_context(registry: Registry, record: Any) -> dict[str, Any]:
    detail = registry.detail(record)
    detail.fields = [f for f in detail.fields if f[1] not in ("", None)]  # a field not set is not shown
    return {
        "registry": registry,
        "detail": detail,
        "has_code": any(s.kind == "code" for s in detail.sections),
    }


def list_response(templates: Jinja2Templates, request: Request, registry: Registry) -> Response:
    return templates.TemplateResponse(request, "registry.html", page(registry, request.query_params))


def detail_response(templates: Jinja2Templates, request: Request, registry: Registry, uid: str) -> Response:
    context = detail_context(registry, find(registry.model, uid))
    return templates.TemplateResponse(request, "record.html", context)


def routes_for(registries: tuple[Registry, ...], templates: Jinja2Templates) -> list[Route]:
    """`/<path>` and `/<path>/<uid>` of each registry."""
    found: list[Route] = []
    for registry in registries:

        def table_page(request: Request, registry: Registry = registry) -> Response:
            return list_response(templates, request, registry)

        def record_page(request: Request, registry: Registry = registry) -> Response:
            return detail_response(templates, request, registry, request.path_params["uid"])

        found.append(Route(f"/{registry.path}", table_page, name=registry.path))
        found.append(Route(f"/{registry.path}/{{uid}}", record_page, name=registry.path + "_record"))
    return found
