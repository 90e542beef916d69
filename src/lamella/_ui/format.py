"""How values show on a page: sizes, times, record names and links (Jinja2 filters and globals)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")

# registry class name -> the path of its pages
PATHS = {
    "Artifact": "artifacts",
    "Collection": "collections",
    "Transform": "transforms",
    "Run": "runs",
    "Feature": "features",
    "Schema": "schemas",
    "Record": "records",
    "Project": "projects",
    "ULabel": "ulabels",
}


def size(value: int | None) -> str:
    if value is None:
        return ""
    number = float(value)
    for unit in _UNITS:
        if abs(number) < 1000 or unit == _UNITS[-1]:
            return f"{int(number)} {unit}" if unit == "B" else f"{number:.1f} {unit}"
        number /= 1000
    return str(value)


def when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def name_of(record: Any) -> str:
    """What a record is called on a page: its key, name (a gene's symbol) or description, else its uid."""
    for field in ("key", "name", "handle", "symbol", "description"):
        value = getattr(record, field, None)
        if value:
            return str(value)
    return str(getattr(record, "uid", "") or getattr(record, "id", ""))


def href(record: Any) -> str:
    """The page of a record (its registry's path and uid); registries without pages link to search."""
    kind = type(record).__name__
    path = PATHS.get(kind)
    if path is None:
        module = type(record).__module__
        if module.startswith("lamella.bionty"):
            return f"/ontologies/{kind.lower()}/{record.uid}"
        return "/search?" + urlencode({"q": name_of(record)})
    return f"/{path}/{record.uid}"


def query(params: dict[str, Any], **changes: Any) -> str:
    """The query string of `params` with `changes` (None removes a parameter)."""
    merged = {**params, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


FILTERS = {"size": size, "when": when, "name_of": name_of, "href": href}
GLOBALS = {"query": query, "href": href, "name_of": name_of}
