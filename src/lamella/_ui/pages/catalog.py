"""Collections and what annotates data: features, schemas, records, projects and labels (ULabels)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route
from starlette.templating import Jinja2Templates

from lamella import models
from lamella._ui import format as fmt
from lamella._ui.pages.registries import (
    Column,
    Detail,
    Registry,
    Section,
    attr,
    linked,
    named,
    related,
    routes_for,
    values,
    versions_of,
)

COLLECTION_SHOWN = 500  # of a collection's artifacts, in order
BY_TYPE = {"type": "type__uid"}  # `/records?type=<uid>`: the members of a type


def _created(record: Any) -> tuple[str, str, None]:
    return ("created", f"{fmt.when(record.created_at)} by {record.created_by.handle}", None)


def _typed(record: Any) -> list[tuple[str, Any, str | None]]:
    """The fields of a record that may have a type, or be one."""
    fields: list[tuple[str, Any, str | None]] = [("uid", record.uid, None)]
    if record.type is not None:
        fields.append(("type", fmt.name_of(record.type), fmt.href(record.type)))
    if record.is_type:
        fields.append(("is a type", "yes: its members are listed below", None))
    if getattr(record, "synonyms", None):
        fields.append(("synonyms", record.synonyms.replace("|", ", "), None))
    return fields


def _made_by(record: Any) -> list[tuple[str, Any, str | None]]:
    run = record.run
    if run is None:
        return []
    return [
        ("transform", fmt.name_of(run.transform), fmt.href(run.transform)),
        ("run", f"{run.uid} {fmt.when(run.started_at)}", fmt.href(run)),
    ]


def collection_page(collection: Any) -> Detail:
    members = collection.ordered_artifacts
    fields = [
        ("uid", collection.uid, None),
        ("version", collection.version + ("" if collection.is_latest else " (older)"), None),
        ("artifacts", str(len(members)), None),
        ("hash", collection.hash or "", None),
        _created(collection),
        *_made_by(collection),
    ]
    shown = Section(
        "Artifacts, in order",
        "links",
        records=members[:COLLECTION_SHOWN],
        truncated=len(members) > COLLECTION_SHOWN,
        empty="no artifacts",
    )
    sections = [
        shown,
        related(collection.ulabels, "Labels"),
        related(collection.projects, "Projects"),
        related(collection.input_of_runs, "Read by runs"),
    ]
    return Detail(
        collection,
        fields,
        sections,
        actions=[("Lineage", f"/lineage/collection/{collection.uid}")],
        versions=versions_of(collection),
        description=collection.description if collection.key else None,
    )


def feature_page(feature: Any) -> Detail:
    fields = [
        *_typed(feature),
        ("dtype", feature.dtype or "", None),
        ("unit", feature.unit or "", None),
        ("nullable", "yes" if feature.nullable else "no", None),
        _created(feature),
    ]
    if feature.default_value is not None:
        fields.append(("default", str(feature.default_value), None))
    with_feature = "/artifacts" + fmt.query({}, feature=feature.name)
    found = models.FeatureValue.filter(feature=feature).order_by("id")[:50]
    pairs = [
        (
            str(v.value),
            "artifacts with this value →",
            "/artifacts" + fmt.query({}, feature=feature.name, value=v.value),
        )
        for v in found
    ]
    sections = [
        Section("Values", "values", pairs=pairs, empty="no values stored for this feature"),
        related(feature.schemas, "In schemas"),
    ]
    if feature.is_type:
        sections.append(related(feature.features, "Members of this type"))
    return Detail(
        feature,
        fields,
        sections,
        actions=[("Artifacts with this feature", with_feature)],
        description=feature.description,
    )


def schema_page(schema: Any) -> Detail:
    fields = [
        *_typed(schema),
        ("itype", schema.itype or "", None),
        ("otype", schema.otype or "", None),
        ("dtype", schema.dtype or "", None),
        ("members", str(schema.n), None),
        ("ordered", "yes" if schema.ordered_set else "no", None),
        ("all required", "yes" if schema.minimal_set else "no", None),
        ("no others allowed", "yes" if schema.maximal_set else "no", None),
        _created(schema),
    ]
    if schema.index is not None:
        fields.append(("index", fmt.name_of(schema.index), fmt.href(schema.index)))
    slots = schema.slots
    sections = [
        related(schema.members, "Members, in order", empty="no members"),
        Section(
            "Components",
            "values",
            pairs=[(slot, fmt.name_of(s), fmt.href(s)) for slot, s in slots.items()],
            empty="not a composite schema",
        ),
        related(schema.validated_artifacts, "Artifacts validated with it"),
    ]
    return Detail(schema, fields, sections, description=schema.description)


def record_page(record: Any) -> Detail:
    fields = [*_typed(record), _created(record), *_made_by(record)]
    if record.schema_id is not None:
        schema = models.Schema.filter(id=record.schema_id, branch_id=None).first()
        if schema is not None:
            fields.append(("schema", fmt.name_of(schema), fmt.href(schema)))
    sections = [
        values(record.features.get_values(), "Values", empty="no feature values"),
        related(record.parents, "Parents"),
        related(record.children, "Children"),
        related(record.artifacts, "Artifacts"),
        related(record.projects, "Projects"),
    ]
    if record.is_type:
        members = ("all its members →", "/records" + fmt.query({}, type=record.uid))
        sections.insert(1, related(record.records, "Members of this type", more=members))
    return Detail(record, fields, sections, description=record.description)


def project_page(project: Any) -> Detail:
    fields = [*_typed(project), ("abbreviation", project.abbr or "", None)]
    if project.url:
        fields.append(
            ("url", project.url, project.url if project.url.startswith(("http://", "https://")) else None)
        )
    if project.start_date or project.end_date:
        fields.append(("dates", f"{project.start_date or '…'} – {project.end_date or '…'}", None))
    fields.append(_created(project))
    in_project = "/artifacts" + fmt.query({}, project=project.name)
    sections = [
        related(project.artifacts, "Artifacts", more=("all its artifacts →", in_project)),
        related(project.collections, "Collections"),
        related(project.transforms, "Transforms"),
        related(project.runs, "Runs"),
        related(project.records, "Records"),
        related(project.ulabels, "Labels"),
        related(project.children, "Subprojects"),
    ]
    return Detail(project, fields, sections, description=project.description)


def ulabel_page(label: Any) -> Detail:
    fields = [*_typed(label), _created(label)]
    with_label = "/artifacts" + fmt.query({}, label=label.name)
    sections = [
        related(label.parents, "Parents"),
        related(label.children, "Children"),
        related(label.artifacts, "Artifacts", more=("all its artifacts →", with_label)),
        related(label.collections, "Collections"),
        related(label.transforms, "Transforms"),
        related(label.runs, "Runs"),
    ]
    if label.is_type:
        members = ("all its members →", "/ulabels" + fmt.query({}, type=label.uid))
        sections.insert(0, related(label.ulabels, "Members of this type", more=members))
    return Detail(
        label,
        fields,
        sections,
        actions=[("Artifacts with this label", with_label)],
        description=label.description,
    )


def _typed_columns(first: str) -> tuple[Column, ...]:
    return (
        Column(first, attr(first)),
        Column("type", named("type"), linked("type")),
        Column("description", attr("description")),
        Column("created", attr("created_at")),
    )


REGISTRIES = (
    Registry(
        "collections",
        "Collections",
        models.Collection,
        (
            Column("key", attr("key")),
            Column("version", lambda c: c.version),
            Column("description", attr("description")),
            Column("created", attr("created_at")),
        ),
        collection_page,
    ),
    Registry(
        "features",
        "Features",
        models.Feature,
        (
            Column("name", attr("name")),
            Column("dtype", attr("dtype")),
            Column("unit", attr("unit")),
            Column("description", attr("description")),
        ),
        feature_page,
    ),
    Registry(
        "schemas",
        "Schemas",
        models.Schema,
        (
            Column("name", attr("name")),
            Column("itype", attr("itype")),
            Column("members", attr("n")),
            Column("otype", attr("otype")),
            Column("created", attr("created_at")),
        ),
        schema_page,
    ),
    Registry("records", "Records", models.Record, _typed_columns("name"), record_page, filters=BY_TYPE),
    Registry("projects", "Projects", models.Project, _typed_columns("name"), project_page, filters=BY_TYPE),
    Registry("ulabels", "Labels", models.ULabel, _typed_columns("name"), ulabel_page, filters=BY_TYPE),
)


def routes(templates: Jinja2Templates) -> list[Route]:
    return routes_for(REGISTRIES, templates)
