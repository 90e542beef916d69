"""Transforms and runs: their tables and pages (source code highlighted, runs over time, a run's
parameters, inputs, outputs, report and environment); the lineage graph has pages of its own."""

from __future__ import annotations

from functools import cache
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import PythonLexer, get_lexer_for_filename
from pygments.util import ClassNotFound
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from lamella import models
from lamella._ui import format as fmt
from lamella._ui import preview
from lamella._ui.pages.registries import (
    Column,
    Detail,
    Registry,
    Section,
    attr,
    duration,
    linked,
    named,
    related,
    routes_for,
    table,
    values,
    versions_of,
)

REPORT_BYTES = 64 * 1024  # of a run's report or environment; the whole file is a download away
CODE_CLASS = "highlight"


def _version(record: Any) -> str:
    return record.version + ("" if record.is_latest else " (older)")


RUN_COLUMNS = (
    Column("run", attr("uid")),
    Column("status", attr("status")),
    Column("started", attr("started_at")),
    Column("duration", duration),
    Column("by", lambda run: run.created_by.handle),
)


def _lexer(transform: Any) -> Lexer:
    """The language of a transform's file by its key's suffix; Python (most transforms) otherwise."""
    try:
        lexer: Lexer = get_lexer_for_filename(transform.key or "", stripnl=False)
    except ClassNotFound:
        lexer = PythonLexer(stripnl=False)
    return lexer


def highlighted(transform: Any) -> str:
    """The transform's source as Pygments' HTML (every character of the source escaped), or ''."""
    if not transform.source_code:
        return ""
    formatter = HtmlFormatter(cssclass=CODE_CLASS, linenos="table")
    return str(highlight(transform.source_code, _lexer(transform), formatter))


# the box around the code and its line numbers, then Pygments' colours of the tokens
_CODE_BOX = f"""
.source .{CODE_CLASS} {{ border: 1px solid #dfe3ea; overflow: auto; max-height: 640px; }}
.source .{CODE_CLASS} pre {{ margin: 0; padding: 8px 10px; }}
.source td.linenos {{ color: #6b7585; background: #eef1f5; user-select: none; text-align: right; }}
.source table.highlighttable {{ border-collapse: collapse; }}
"""


@cache
def highlight_css() -> str:
    formatter = HtmlFormatter(cssclass=CODE_CLASS)
    selector = f".{CODE_CLASS}"
    rules = [*formatter.get_background_style_defs(selector), *formatter.get_token_style_defs(selector)]
    return _CODE_BOX + "\n".join(rules) + "\n"


def transform_page(transform: Any) -> Detail:
    runs = models.Run.filter(transform=transform).order_by("-started_at")
    latest = transform.latest_run
    fields = [
        ("uid", transform.uid, None),
        ("kind", transform.kind, None),
        ("version", _version(transform), None),
        ("hash", transform.hash or "", None),
        (
            "reference",
            transform.reference or "",
            transform.reference if _is_url(transform.reference) else None,
        ),
        ("created", f"{fmt.when(transform.created_at)} by {transform.created_by.handle}", None),
        ("latest run", fmt.when(latest.started_at) if latest else "", fmt.href(latest) if latest else None),
    ]
    sections = [
        Section("Source code", "code", html=highlighted(transform), empty="no source code saved"),
        table(
            runs,
            "Runs",
            RUN_COLUMNS,
            more=("all runs of this transform →", "/runs" + fmt.query({}, transform=transform.uid)),
            empty="no runs",
        ),
        related(transform.projects, "Projects"),
        related(transform.ulabels, "Labels"),
    ]
    return Detail(
        transform,
        fields,
        sections,
        actions=[("Lineage", f"/lineage/transform/{transform.uid}")],
        versions=versions_of(transform),
        description=transform.description if transform.key else None,
    )


def _is_url(text: str | None) -> bool:
    return bool(text) and str(text).startswith(("https://", "http://"))


def _file_text(artifact: Any | None, title: str) -> Section:
    """The start of a run's report or environment file as text, with a link to the whole file."""
    if artifact is None:
        return Section(title, "text", empty="none saved")
    data = b""
    try:
        for chunk in preview.stream(artifact):
            data += chunk
            if len(data) > REPORT_BYTES:
                break
    except OSError as e:  # a file gone from storage: the page says so and shows the rest
        return Section(title, "text", empty=f"cannot read {artifact.uid}: {e}")
    return Section(
        title,
        "text",
        text=data[:REPORT_BYTES].decode("utf-8", errors="replace"),
        truncated=len(data) > REPORT_BYTES,
        more=("download", f"/artifacts/{artifact.uid}/download"),
        empty="empty",
    )


def run_page(run: Any) -> Detail:
    transform = run.transform
    fields = [
        ("uid", run.uid, None),
        ("transform", fmt.name_of(transform), fmt.href(transform)),
        ("name", run.name or "", None),
        ("status", run.status or "", None),
        ("started", fmt.when(run.started_at), None),
        ("finished", fmt.when(run.finished_at), None),
        ("duration", duration(run), None),
        ("by", run.created_by.handle, None),
        ("reference", run.reference or "", run.reference if _is_url(run.reference) else None),
    ]
    if run.initiated_by_run is not None:
        fields.append(("initiated by", run.initiated_by_run.uid, fmt.href(run.initiated_by_run)))
    sections = [
        values(run.params or {}, "Parameters", empty="no parameters"),
        values(run.features.get_values(), "Features", empty="no feature values"),
        related(run.input_artifacts, "Input artifacts"),
        related(run.input_collections, "Input collections"),
        related(run.output_artifacts, "Output artifacts"),
        related(run.output_collections, "Output collections"),
        related(run.projects, "Projects"),
        _file_text(run.report, "Report"),
        _file_text(run.environment, "Environment"),
    ]
    return Detail(
        run,
        fields,
        sections,
        actions=[("Lineage", f"/lineage/run/{run.uid}")],
        heading=f"Run {run.uid} of {fmt.name_of(transform)}",
    )


TRANSFORMS = Registry(
    path="transforms",
    title="Transforms",
    model=models.Transform,
    columns=(
        Column("key", attr("key")),
        Column("kind", attr("kind")),
        Column("version", _version),
        Column("created", attr("created_at")),
    ),
    detail=transform_page,
)
RUNS = Registry(
    path="runs",
    title="Runs",
    model=models.Run,
    columns=(
        Column("run", attr("uid")),
        Column("transform", named("transform"), linked("transform")),
        Column("status", attr("status")),
        Column("started", attr("started_at")),
        Column("duration", duration),
    ),
    detail=run_page,
    order="-started_at",
    filters={"transform": "transform__uid", "status": "status"},
)


def routes(templates: Jinja2Templates) -> list[Route]:
    def css(request: Request) -> Response:
        return Response(highlight_css(), media_type="text/css")

    return [*routes_for((TRANSFORMS, RUNS), templates), Route("/highlight.css", css, name="highlight_css")]
