"""Building schemas: the constructor's checks, the content hash, and where a schema's members are linked.

A schema's members are records of its `itype` registry (features for the usual `itype="Feature"`). They
are kept in a link table between `schema` and that registry: `schema_feature` for features, and for any
other registry the link model with a foreign key to `schema` and one to the registry (a module such as
bionty brings its own, e.g. for genes). The content hash covers everything that defines what a dataset
must look like, so the same definition saved twice is the same record.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from lamella._instance import state
from lamella._query.queryset import QuerySet
from lamella._query.relations import every_model, model
from lamella.errors import InvalidArgument
from lamella.models.core.record import SQLRecord
from lamella.models.features.dtypes import CatTarget, _registry_name, normalize, parse
from lamella.models.features.feature import Feature

# the registry as a module: it imports this module back (registry and behaviour call each other)
from lamella.models.schema import schema as registry

if TYPE_CHECKING:
    from lamella.models.schema.schema import Schema

_ITYPE = re.compile(r"^(?:[A-Za-z_]\w*\.)?[A-Z]\w*(?:\.[a-z_]\w*)?$")
_OPTIONS = {"optional"}


@dataclass
class SchemaSpec:
    """What `ln.Schema(...)` was asked for, checked, with the content hash."""

    fields: dict[str, Any]
    members: list[tuple[Any, bool]] = field(default_factory=list)  # (record, is_optional), in order
    components: dict[str, Any] = field(default_factory=dict)  # slot -> saved Schema
    index: Any = None


@dataclass(frozen=True)
class MemberLink:
    """The link table that holds the members of schemas of one registry."""

    model: Any  # the link model
    schema_key: str  # its column pointing at the schema
    target_key: str  # its column pointing at the member

    def has(self, column: str) -> bool:
        return column in self.model.__table__.c


# --- itype -----------------------------------------------------------------------------------------


def normalize_itype(itype: Any) -> str | None:
    """`ln.Feature` -> "Feature", `ln.ULabel.name` -> "ULabel.name", `bt.Gene.ensembl_gene_id` -> "bionty.Gene.ensembl_gene_id"."""

    if itype is None:
        return None
    if isinstance(itype, str):
        text = itype.strip()
        if not _ITYPE.match(text):
            raise InvalidArgument(
                f"itype={itype!r} is not a registry or registry field; use e.g. ln.Feature, "
                "ln.ULabel.name or 'bionty.Gene.ensembl_gene_id'"
            )
        return text
    if isinstance(itype, type) and issubclass(itype, SQLRecord):
        return _registry_name(itype)
    owner = getattr(itype, "class_", None)  # a column attribute such as ln.ULabel.name
    if isinstance(owner, type) and issubclass(owner, SQLRecord) and hasattr(itype, "key"):
        return f"{_registry_name(owner)}.{itype.key}"
    raise InvalidArgument(
        f"itype={itype!r} is not a registry or registry field; use e.g. ln.Feature, ln.ULabel.name "
        "or 'bionty.Gene.ensembl_gene_id'"
    )


def itype_target(itype: str | None) -> Any:
    """The CatTarget (registry, field) an itype names; "Feature" when there is none."""

    if not itype:
        return CatTarget("Feature")
    return parse(f"cat[{itype}]").targets[0]


def itype_registry(itype: str | None) -> Any:
    return itype_target(itype).model()


def member_link(registry: Any) -> MemberLink | None:
    """The link table between `schema` and `registry`, or None when the instance has none."""

    if registry.__name__ == "Feature":
        return MemberLink(model("SchemaFeature"), "schema_id", "feature_id")
    target_table = registry.__table__.name
    for candidate in list(every_model().values()):
        table = getattr(candidate, "__table__", None)
        if table is None or candidate.__dict__.get(
            "__abstract__", False
        ):  # its own flag: link tables inherit LinkTable's
            continue
        schema_key = target_key = None
        for column in table.c:
            for foreign_key in column.foreign_keys:
                referred = foreign_key.column.table.name
                if referred == "schema" and column.key == "schema_id":
                    schema_key = column.key
                elif referred == target_table and column.key != "schema_id":
                    target_key = column.key
        if schema_key and target_key and table.name not in ("artifact_schema", "schema"):
            return MemberLink(candidate, schema_key, target_key)
    return None


# --- the constructor -----------------------------------------------------------------------------


def build_spec(features: Any, kwargs: dict[str, Any]) -> SchemaSpec:
    """Check the arguments of `ln.Schema(...)` and compute the fields, members and hash."""
    kwargs = dict(kwargs)
    optionals = kwargs.pop("optionals", None)
    slots = kwargs.pop("slots", None)
    components = kwargs.pop("components", None)
    index = kwargs.pop("index", None)
    if slots is not None and components is not None:
        raise InvalidArgument("pass slots= or its old name components=, not both")
    slots = slots if slots is not None else components
    if "features" in kwargs:
        if features is not None:
            raise InvalidArgument("features given twice")
        features = kwargs.pop("features")
    itype = normalize_itype(kwargs.pop("itype", None))
    dtype = kwargs.pop("dtype", None)
    if dtype is not None:
        dtype = normalize(dtype)
    members = _members(features, optionals)
    if members and itype is None:
        itype = _registry_of(members[0][0])
    registry = itype_registry(itype) if members else None  # the module of the registry may come later
    if registry is not None:
        wrong = [m for m, _ in members if not isinstance(m, registry)]
        if wrong:
            raise InvalidArgument(
                f"itype {itype!r} takes {registry.__name__} records as features, not "
                f"{', '.join(sorted({type(w).__name__ for w in wrong}))}"
            )
    unsaved = [m for m, _ in members if m.__dict__.get("id") is None]
    if unsaved:
        shown = ", ".join(repr(_label(m)) for m in unsaved[:10])
        raise InvalidArgument(
            f"save the features before building a schema with them ({shown} not saved): "
            "ln.save(features) or feature.save()"
        )
    uids = [m.uid for m, _ in members]
    if len(set(uids)) != len(uids):
        raise InvalidArgument("a schema lists each feature once; remove the duplicates")
    if members and registry is not None and member_link(registry) is None:
        raise InvalidArgument(
            f"this instance cannot store {registry.__name__} records as schema members; "
            "use itype=... without features= to validate against the registry"
        )
    component_map = _components(slots)
    index_feature = _index(index)
    schema_type = kwargs.get("type")
    if schema_type is not None and (
        not getattr(schema_type, "is_type", False) or schema_type.__dict__.get("id") is None
    ):
        raise InvalidArgument(
            f"type={schema_type!r} must be a saved schema type: ln.Schema(name=..., is_type=True).save()"
        )
    flexible = kwargs.pop("flexible", None)
    if flexible is None:
        flexible = not members and itype is not None and not component_map
    fields: dict[str, Any] = {
        "n": len(members),
        "itype": itype,
        "dtype": dtype,
        "flexible": bool(flexible),
        **kwargs,
    }
    for name, default in (
        ("minimal_set", True),
        ("maximal_set", False),
        ("ordered_set", False),
        ("coerce", False),
        ("is_type", False),
    ):
        value = fields.get(name)
        fields[name] = default if value is None else bool(value)
    if index_feature is not None:
        fields["index_feature_id"] = index_feature.id
    fields["hash"] = content_hash(fields, members, component_map, index_feature)
    return SchemaSpec(fields, members, component_map, index_feature)


def _label(record: Any) -> Any:
    name_field = getattr(type(record), "_name_field", None) or "name"
    return record.__dict__.get(name_field) or record.__dict__.get("uid")


def _registry_of(record: Any) -> str:

    return _registry_name(type(record))


def _as_list(value: Any, argument: str) -> list[Any]:
    if isinstance(value, str | bytes):
        items = None
    else:
        try:
            items = list(value)
        except TypeError:
            items = None
    if items is None:
        raise InvalidArgument(
            f"{argument}= takes a list of feature records, not {value!r} ({type(value).__name__}); "
            f"pass e.g. {argument}=[ln.Feature.get(name='...')]"
        )
    return items


def _members(features: Any, optionals: Any) -> list[tuple[Any, bool]]:

    if features is None:
        items: list[Any] = []
    elif isinstance(features, SQLRecord) or (
        isinstance(features, tuple) and len(features) == 2 and isinstance(features[1], dict)
    ):
        items = [features]
    else:
        items = _as_list(features, "features")
    optional_ids: set[Any] = set()
    for item in _as_list(optionals or [], "optionals"):
        if not isinstance(item, SQLRecord):
            raise InvalidArgument(f"optionals= takes feature records, not {item!r}")
        optional_ids.add(id(item))
        optional_ids.add(item.__dict__.get("uid"))
    members: list[tuple[Any, bool]] = []
    for item in items:
        optional = False
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[1], dict):
                raise InvalidArgument(
                    f"a schema member is a record or (record, {{'optional': True}}), not {item!r}"
                )
            record, config = item
            unknown = set(config) - _OPTIONS
            if unknown:
                raise InvalidArgument(
                    f"unknown member option(s) {sorted(unknown)} for {record!r}; valid: {sorted(_OPTIONS)}"
                )
            optional = bool(config.get("optional", False))
            item = record
        if isinstance(item, str):
            raise InvalidArgument(
                f"features= takes Feature records, not the name {item!r}: use ln.Feature.get(name={item!r})"
            )
        if not isinstance(item, SQLRecord):
            raise InvalidArgument(f"features= takes records, not {type(item).__name__}: {item!r}")
        if id(item) in optional_ids or item.__dict__.get("uid") in optional_ids:
            optional = True
        members.append((item, optional))
    return members


def _components(slots: Any) -> dict[str, Any]:

    if slots is None:
        return {}
    if not isinstance(slots, dict):
        raise InvalidArgument(f"slots= takes a dict {{slot: schema}}, not {type(slots).__name__}")
    result = {}
    for slot, component in slots.items():
        if not isinstance(slot, str) or not slot:
            raise InvalidArgument(f"slot names are non-empty strings, not {slot!r}")
        if not isinstance(component, registry.Schema):
            raise InvalidArgument(f"slot {slot!r} takes a Schema, not {type(component).__name__}")
        if component.__dict__.get("id") is None:
            raise InvalidArgument(f"save the schema of slot {slot!r} first: {component!r}.save()")
        result[slot] = component
    return result


def _index(index: Any) -> Any:

    if index is None:
        return None
    if not isinstance(index, Feature):
        raise InvalidArgument(f"index= takes a Feature, not {type(index).__name__}")
    if index.__dict__.get("id") is None:
        raise InvalidArgument(f"save the index feature first: {index!r}.save()")
    return index


def content_hash(
    fields: dict[str, Any], members: list[tuple[Any, bool]], components: dict[str, Any], index: Any
) -> str:
    """22 characters over what defines the schema; the name only counts for schemas defined by nothing else."""
    entries = [f"{m.uid}:{int(optional)}" for m, optional in members]
    if not fields.get("ordered_set"):
        entries.sort()
    content: dict[str, Any] = {
        "members": entries,
        "itype": fields.get("itype"),
        "otype": fields.get("otype"),
        "dtype": fields.get("dtype"),
        "minimal_set": fields.get("minimal_set"),
        "maximal_set": fields.get("maximal_set"),
        "ordered_set": fields.get("ordered_set"),
        "coerce": fields.get("coerce"),
        "flexible": fields.get("flexible"),
        "index": index.uid if index is not None else None,
        "slots": sorted((slot, schema.uid) for slot, schema in components.items()),
    }
    if fields.get("is_type") or (not members and not components and fields.get("itype") in (None, "Feature")):
        content["name"] = fields.get("name")  # types and empty schemas are told apart by their name
        content["is_type"] = bool(fields.get("is_type"))
    schema_type = fields.get("type")
    if schema_type is not None:
        content["type"] = schema_type.uid
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def existing_by_hash(model: Any, hash_: str) -> Schema | None:

    session = state.current().db.session()
    table = model.__table__
    schema_id = session.execute(
        select(table.c.id).where(table.c.hash == hash_, table.c.branch_id == 1).order_by(table.c.id).limit(1)
    ).scalar()
    if schema_id is None:
        return None
    result: Schema | None = session.get(model, schema_id)
    return result


# --- saving and reading members -----------------------------------------------------------------


def insert_links(
    session: Any, schema: Schema, members: list[tuple[Any, bool]], components: dict[str, Any]
) -> None:

    if members:
        registry = type(members[0][0])
        link = member_link(registry)
        if link is None:  # pragma: no cover - refused when the schema was built
            raise InvalidArgument(f"cannot store {registry.__name__} records as schema members")
        rows = []
        for position, (record, optional) in enumerate(members):
            row: dict[str, Any] = {link.schema_key: schema.id, link.target_key: record.id}
            if link.has("position"):
                row["position"] = position
            if link.has("is_optional"):
                row["is_optional"] = optional
            rows.append(row)
        session.execute(insert(link.model), rows)
    if components:
        session.execute(
            insert(model("SchemaComponent")),
            [
                {"composite_id": schema.id, "component_id": component.id, "slot": slot}
                for slot, component in components.items()
            ],
        )


def members_queryset(schema: Schema) -> Any:
    """The members of a saved schema, in the order they were given."""

    registry = itype_registry(schema.itype)
    qs: QuerySet[Any] = QuerySet(registry)
    link = member_link(registry)
    table = registry.__table__
    if link is None:
        return qs.filter_expression(table.c.id.is_(None))
    link_table = link.model.__table__
    schema_column = link_table.c[link.schema_key]
    target_column = link_table.c[link.target_key]
    qs = qs.filter_expression(table.c.id.in_(select(target_column).where(schema_column == schema.id)))
    if link.has("position"):
        position = (
            select(link_table.c.position)
            .where(schema_column == schema.id, target_column == table.c.id)
            .scalar_subquery()
        )
        qs._order = [position.asc(), table.c.id.asc()]
    return qs


def member_rows(schema: Schema) -> list[tuple[Any, bool]]:
    """(member, is_optional) of a schema in order; unsaved schemas give what they were built with."""

    pending = schema.__dict__.get("_lamella_members")
    if schema.__dict__.get("id") is None:
        return list(pending or [])
    registry = itype_registry(schema.itype)
    link = member_link(registry)
    if link is None:
        return []
    link_table = link.model.__table__
    columns = [link_table.c[link.target_key]]
    columns.append(link_table.c.is_optional if link.has("is_optional") else link_table.c[link.target_key])
    statement = select(*columns).where(link_table.c[link.schema_key] == schema.id)
    if link.has("position"):
        statement = statement.order_by(link_table.c.position, link_table.c.id)
    session = state.current().db.session()
    rows = session.execute(statement).all()
    by_id = {r.id: r for r in registry.filter(id__in=[row[0] for row in rows], branch_id=None)}
    optional = link.has("is_optional")
    return [(by_id[row[0]], bool(row[1]) if optional else False) for row in rows if row[0] in by_id]


def slots_of(schema: Schema) -> dict[str, Schema]:

    if schema.__dict__.get("id") is None:
        return dict(schema.__dict__.get("_lamella_components") or {})
    registry = type(schema)
    link = model("SchemaComponent")
    session = state.current().db.session()
    rows = session.execute(
        select(link.slot, registry)
        .join(registry, registry.id == link.component_id)
        .where(link.composite_id == schema.id)
        .order_by(link.id)
    ).all()
    return {slot: component for slot, component in rows}
