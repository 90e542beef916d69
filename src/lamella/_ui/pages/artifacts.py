"""Artifacts: the table (filters, sorting, keyset pages, keys as folders) and each artifact's page."""

from __future__ import annotations

import mimetypes
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from lamella import models
from lamella._instance import state
from lamella._query import QuerySet
from lamella._query.relations import ManyToMany
from lamella._ui import preview
from lamella.errors import DoesNotExist, InvalidArgument

PAGE_SIZE = 50
SORTS = ("-created_at", "created_at", "-updated_at", "updated_at", "key", "-key", "-size", "size", "suffix")
KEYSET_SORTS = ("created_at", "updated_at")  # never NULL: pages follow each other by an index range
BRANCHES = {"main": 1, "archive": 0, "trash": -1}
FOLDERS_SHOWN = 40  # subfolders listed under a prefix
FOLDER_PROBES = 60  # one-row index probes to find them: one per folder, and per file on the way
_NUMERIC = ("int", "float", "num")


def _day(text: str, parameter: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time())
    except ValueError:
        raise InvalidArgument(f"{parameter}={text!r} is not a date; write it as 2026-11-30") from None


def _feature_value(name: str, text: str) -> Any:
    feature = models.Feature.filter(name=name).first()
    if feature is None:
        raise InvalidArgument(f"no feature named {name!r}; see the features page for the names")
    base = (feature.dtype or "").split("[", 1)[0]
    if base == "bool":
        # an artifact page links a feature's value as it prints: True, False
        truth = {"true": True, "1": True, "false": False, "0": False}.get(text.strip().lower())
        if truth is None:
            raise InvalidArgument(f"feature {name!r} holds true or false; {text!r} is neither")
        return truth
    if base in _NUMERIC:
        try:
            return float(text) if base != "int" else int(text)
        except ValueError:
            raise InvalidArgument(f"feature {name!r} holds numbers; {text!r} is not one") from None
    return text


def filtered(params: dict[str, str]) -> QuerySet[Any]:
    """The artifacts the table's filters select (the parameters of its URL)."""
    lookups: dict[str, Any] = {}
    branch = params.get("branch", "main")
    if branch == "all":
        lookups["branch_id"] = None
    elif branch in BRANCHES:
        if branch != "main":
            lookups["branch_id"] = BRANCHES[branch]
    else:
        raise InvalidArgument(f"branch={branch!r}: choose main, archive, trash or all")
    simple = {
        "key": "key__startswith",
        "suffix": "suffix",
        "kind": "kind",
        "created_by": "created_by__handle",
        "label": "ulabels__name",
        "project": "projects__name",
    }
    for parameter, lookup in simple.items():
        if params.get(parameter):
            lookups[lookup] = params[parameter]
    if params.get("since"):
        lookups["created_at__gte"] = _day(params["since"], "since")
    if params.get("until"):
        lookups["created_at__lt"] = _day(params["until"], "until") + timedelta(days=1)
    feature = params.get("feature")
    if feature:
        op = params.get("op", "exact")
        if op not in ("exact", "gt", "gte", "lt", "lte", "contains"):
            raise InvalidArgument(f"op={op!r}: choose exact, gt, gte, lt, lte or contains")
        value = _feature_value(feature, params.get("value", ""))
        lookups[feature if op == "exact" else f"{feature}__{op}"] = value
    return models.Artifact.filter(**lookups)


def table_page(params: dict[str, str]) -> dict[str, Any]:
    """The rows of one page of the table and what its links need.

    Orders on columns without NULLs page by key (`after=<uid>`: an index range however deep); orders
    on nullable ones (key, size, suffix) page by offset (`page=<n>`), which QuerySet.after() refuses.
    """
    sort = params.get("sort", "-created_at")
    if sort not in SORTS:
        raise InvalidArgument(f"sort={sort!r}: sort by one of {', '.join(SORTS)}")
    qs = filtered(params).order_by(sort)
    by_key = sort.lstrip("-") in KEYSET_SORTS
    after, page = params.get("after"), _page_number(params.get("page"))
    if after and by_key:
        anchor = models.Artifact.filter(uid=after, branch_id=None).first()
        if anchor is None:
            raise InvalidArgument(f"after={after!r} names no artifact; start from the first page")
        qs = qs.after(anchor)
    start = 0 if by_key else (page - 1) * PAGE_SIZE
    rows = list(qs[start : start + PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    prefix = params.get("key", "")
    first_page = not after and page == 1
    return {
        "rows": rows[:PAGE_SIZE],
        "next": ({"after": rows[PAGE_SIZE - 1].uid} if by_key else {"page": page + 1}) if more else None,
        "sort": sort,
        "sorts": SORTS,
        "first_page": first_page,
        "folders": folders(params, prefix) if first_page and (prefix == "" or prefix.endswith("/")) else [],
        "crumbs": _crumbs(prefix),
    }


def _page_number(text: str | None) -> int:
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise InvalidArgument(f"page={text!r} is not a page number; pages count from 1")
    return int(text)


def folders(params: dict[str, str], prefix: str) -> list[str]:
    """The subfolders of `prefix`, found by skipping through the key index: one one-row probe per
    folder (and per file met on the way), at most `FOLDER_PROBES`.

    Only the key prefix and the branch select them (the label or feature filters would make each
    probe read and sort every match). Past folder `f` comes the first key from `prefix + f + "0"`:
    "0" follows "/" in code-point order, SQLite's and PostgreSQL's "C" collations' order. Under a
    linguistic collation, which ignores "/", a folder may be found again (it is listed once) or
    missed; the probe limit bounds the walk either way.
    """
    base = filtered({"branch": params.get("branch", "main"), "key": prefix})
    found: list[str] = []
    # from the prefix on: PostgreSQL ranges LIKE over the pattern index but orders by the key index,
    # which a bound lets it start at the prefix rather than at the first key
    after: dict[str, str] = {"key__gte": prefix} if prefix else {}
    for _ in range(FOLDER_PROBES):
        keys = base.filter(**after).order_by("key")[:1].values_list("key")
        if not keys or keys[0] is None:
            break
        rest = keys[0][len(prefix) :]
        if "/" not in rest:
            after = {"key__gt": keys[0]}  # a file in this folder
            continue
        folder = rest.split("/", 1)[0]
        if folder not in found:
            found.append(folder)
            if len(found) >= FOLDERS_SHOWN:
                break
        after = {"key__gte": f"{prefix}{folder}0"}
    return found


def _crumbs(prefix: str) -> list[tuple[str, str]]:
    parts = [p for p in prefix.split("/") if p]
    return [(part, "/".join(parts[: i + 1]) + "/") for i, part in enumerate(parts)]


def artifact_context(uid: str) -> dict[str, Any]:
    artifact = models.Artifact.filter(uid=uid, branch_id=None).first()
    if artifact is None:
        stem = (
            models.Artifact.filter(uid__startswith=uid[:16], branch_id=None).first()
            if len(uid) >= 16
            else None
        )
        if stem is None:
            raise DoesNotExist(f"no artifact with uid {uid!r}")
        artifact = stem
    versions = list(artifact.versions.order_by("-created_at")[:50])
    run = artifact.run
    return {
        "artifact": artifact,
        "versions": versions,
        "features": artifact.features.get_values(),
        "schemas": artifact.features.slots,
        "labels": _labels(artifact),
        "collections": list(artifact.collections.all()[:50]),
        "run": run,
        "transform": run.transform if run is not None else None,
        "preview": preview.of(artifact),
    }


def _labels(artifact: Any) -> list[tuple[str, list[Any]]]:
    """Labels by relation (ulabels, projects, records, ontology terms), as LaminDB's describe() shows them."""
    found = []
    for name in ("ulabels", "projects", "records", "references"):
        related = getattr(artifact, name, None)
        if related is not None:
            records = list(related.all()[:100])
            if records:
                found.append((name, records))
    if not state.current().has_table("bionty_artifact_celltype"):
        return found  # this process may know bionty's relations; this instance has not its tables
    for name, relation in sorted(getattr(type(artifact), "_relations", {}).items()):
        if not isinstance(relation, ManyToMany) or not relation.target_model.__module__.startswith(
            "lamella.bionty"
        ):
            continue  # ontology terms (cell types, genes, ...) of the bionty module only
        records = list(getattr(artifact, name).all()[:100])
        if records:
            found.append((name, records))
    return found


def routes(templates: Jinja2Templates) -> list[Route]:
    def table(request: Request) -> Response:
        params = dict(request.query_params)
        context = {"params": params, **table_page(params)}
        name = "artifact_rows.html" if request.headers.get("HX-Request") else "artifacts.html"
        return templates.TemplateResponse(request, name, context)

    def page(request: Request) -> Response:
        context = artifact_context(request.path_params["uid"])
        return templates.TemplateResponse(request, "artifact.html", context)

    def download(request: Request) -> Response:
        artifact = models.Artifact.filter(uid=request.path_params["uid"], branch_id=None).one()
        if artifact.n_files:
            raise InvalidArgument(
                f"artifact {artifact.uid} is a folder of {artifact.n_files} files; load it in Python"
            )
        name = (artifact.key or artifact.uid).rsplit("/", 1)[-1] + (
            "" if artifact.key else artifact.suffix or ""
        )
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        inline = request.query_params.get("inline") == "1" and media.startswith("image/")
        disposition = "inline" if inline else "attachment"
        headers = {"Content-Disposition": f'{disposition}; filename="{_header_safe(name)}"'}
        local = preview.local_path(artifact)
        if local is not None:
            return FileResponse(local, media_type=media, headers=headers)
        return StreamingResponse(preview.stream(artifact), media_type=media, headers=headers)

    return [
        Route("/artifacts", table, name="artifacts"),
        Route("/artifacts/{uid}", page, name="artifact"),
        Route("/artifacts/{uid}/download", download, name="download"),
    ]


def _header_safe(name: str) -> str:
    return "".join(c if c.isprintable() and c not in '"\\' else "_" for c in name)
