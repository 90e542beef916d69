"""`artifact.features`: add, set, get and remove feature values of an artifact, run or record.

Everything is validated before anything is written, and all writes of one call share one
transaction: a call that fails stores nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lamella._instance import state
from lamella._query import legacy_lookups
from lamella._query.relations import model
from lamella.errors import InvalidArgument, ValidationError
from lamella.models.core.columns import number_of, utcnow
from lamella.models.core.describe import new_tree, print_tree
from lamella.models.core.other_instances import bind_methods
from lamella.models.features.describe import add_features
from lamella.models.features.dtypes import (
    Dtype,
    check_value,
    infer_from_value,
    parse,
    python_type_name,
    to_python,
)
from lamella.models.features.feature import Feature, FeatureValue
from lamella.models.features.stores import ValueStore, features_by_name, store_for, value_hash


@dataclass
class _Prepared:
    feature: Any
    dtype: Dtype
    stored: list[Any] = field(default_factory=list)  # JSON values (one per value; a list dtype is one value)
    labels: list[tuple[Any, int]] = field(default_factory=list)  # (registry, id)


class FeaturesManager:
    """The feature values of one artifact, run or record."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner
        self.store: ValueStore = store_for(type(owner))

    def __repr__(self) -> str:
        saved = self.owner.__dict__.get("id") is not None
        values = self.get_values() if saved else {}
        parts = [f"{k}={v!r}" for k, v in values.items()]
        for slot, schema in (self.slots if saved else {}).items():
            names = schema.features.to_list("name")
            shown = ", ".join(names[:8]) + (f", … ({len(names)})" if len(names) > 8 else "")
            parts.append(f"{slot}=[{shown}]")
        return f"{type(self.owner).__name__}.features({', '.join(parts)})"

    def __getitem__(self, slot: str) -> Any:
        """The members of the feature set of `slot` (0.x–1.x): `artifact.features["columns"].to_dataframe()`
        lists the features of the columns. Deprecated: `artifact.features.slots["columns"].members`."""
        legacy_lookups.warn_legacy('features["<slot>"]', 'features.slots["<slot>"].members')
        slots = self.slots
        if slot not in slots:
            known = ", ".join(repr(s) for s in slots) or "none"
            raise KeyError(f"no feature set in slot {slot!r}; slots: {known}")
        return slots[slot].members

    def add(self, features: Any) -> None:
        """Annotate an artifact with features that have no value here: they join its "external"
        feature set (the features describing it that are not columns of its data)."""
        items = features if isinstance(features, list | tuple | set) else [features]
        wanted_ids = [self._feature_of(item).id for item in items]
        current = self.slots.get("external")
        existing = list(current.features.all()) if current is not None else []
        new_ids = [i for i in dict.fromkeys(wanted_ids) if i not in {e.id for e in existing}]
        if not new_ids:
            return
        by_id = {f.id: f for f in Feature.filter(id__in=new_ids)}
        merged = existing + [by_id[i] for i in new_ids]
        schema_model = model("Schema")
        self.add_schema(schema_model(merged).save(), "external")

    # --- writes ---------------------------------------------------------------------------------

    def add_values(self, values: dict[str, Any], *, schema: Any = None) -> None:
        """Annotate with `{feature name: value}`; values are validated against each feature's dtype."""
        prepared = self._prepare(values, "add values to")
        _check_schema(schema, prepared)
        self._write(prepared, replace=self.store.value_link is None)

    def validate_values(self, values: dict[str, Any]) -> None:
        """Check `{feature name: value}` as `add_values` does, writing nothing (the owner may be unsaved)."""
        self._prepare(values, "validate values of", require_saved=False)

    def set_values(self, values: dict[str, Any], *, schema: Any = None) -> None:
        """Like `add_values`, but first drops the values these features had."""
        prepared = self._prepare(values, "set values of")
        _check_schema(schema, prepared)
        self._write(prepared, replace=True)

    def remove_values(self, feature: Any = None, *, value: Any = None) -> None:
        """Drop the values of a feature (a name, a Feature, or a list of them); all values without one."""

        owner_id = self._owner_id("remove values from")
        if feature is None:
            features = list(self._annotating_features())
        else:
            items = feature if isinstance(feature, list | tuple | set) else [feature]
            features = [self._feature_of(item) for item in items]
        with state.current().db.write() as session:
            for item in features:
                dtype = parse(item.dtype)
                matches = None
                if value is not None:
                    matches = self._prepare({item.name: value}, "remove values from")[0]
                self._delete(session, owner_id, item, dtype, matches)

    def _write(self, prepared: list[_Prepared], *, replace: bool) -> None:

        owner_id = self._owner_id("add values to")
        instance = state.current()
        with instance.db.write() as session:
            if replace:
                for item in prepared:
                    self._delete(session, owner_id, item.feature, item.dtype, None)
            self._insert_values(session, instance, owner_id, [p for p in prepared if not p.dtype.is_cat])
            self._insert_labels(
                session, instance.db.dialect, owner_id, [p for p in prepared if p.dtype.is_cat]
            )

    def _insert_values(self, session: Any, instance: Any, owner_id: int, prepared: list[_Prepared]) -> None:
        if not prepared:
            return
        if self.store.value_link is None:  # records keep their own values
            rows = []
            for item in prepared:
                value = item.stored[0] if len(item.stored) == 1 else item.stored
                rows.append(
                    {
                        "record_id": owner_id,
                        "feature_id": item.feature.id,
                        "value": value,
                        "value_num": number_of(value),
                    }
                )
            session.connection().execute(insert(model("RecordJson")), rows)
            return

        wanted: dict[tuple[int, str], Any] = {}
        for item in prepared:
            for stored in item.stored:
                wanted[(item.feature.id, value_hash(stored))] = stored
        connection = session.connection()
        ids = _feature_value_ids(connection, wanted)
        missing = [key for key in wanted if key not in ids]
        if missing:
            run = state.current_run()
            created_at = utcnow()
            connection.execute(
                insert(FeatureValue),
                [
                    {
                        "feature_id": key[0],
                        "hash": key[1],
                        "value": wanted[key],
                        "created_by_id": instance.user_id,
                        "run_id": run.id if run is not None else None,
                        "created_at": created_at,
                    }
                    for key in missing
                ],
            )
            ids.update(_feature_value_ids(connection, {key: wanted[key] for key in missing}))
        link = self.store.value_link
        rows = [
            {
                self.store.owner_key: owner_id,
                "featurevalue_id": ids[key],
                "feature_id": key[0],
                "value_num": number_of(wanted[key]),
            }
            for key in wanted
        ]
        _insert_ignoring_duplicates(session, instance.db.dialect, link, rows)

    def _insert_labels(self, session: Any, dialect: str, owner_id: int, prepared: list[_Prepared]) -> None:
        by_link: dict[Any, list[dict[str, Any]]] = {}
        for item in prepared:
            for registry, label_id in item.labels:
                cat_link = self.store.cat_link(registry)
                assert cat_link is not None  # checked in _prepare
                by_link.setdefault(cat_link.link, []).append(
                    {
                        cat_link.owner_key: owner_id,
                        cat_link.target_key: label_id,
                        "feature_id": item.feature.id,
                    }
                )
        for link, rows in by_link.items():
            _insert_ignoring_duplicates(session, dialect, link, rows)

    def _delete(
        self, session: Any, owner_id: int, feature: Any, dtype: Dtype, only: _Prepared | None
    ) -> None:
        if dtype.is_cat:
            for registry, cat_link in self.store.cat_links():
                link = cat_link.link
                where = [getattr(link, cat_link.owner_key) == owner_id, link.feature_id == feature.id]
                if only is not None:
                    ids = [i for r, i in only.labels if r is registry]
                    if not ids:
                        continue
                    where.append(getattr(link, cat_link.target_key).in_(ids))
                session.execute(delete(link).where(*where))
            return
        if self.store.value_link is None:
            record_json = model("RecordJson")
            session.execute(
                delete(record_json).where(
                    record_json.record_id == owner_id, record_json.feature_id == feature.id
                )
            )
            return

        link = self.store.value_link
        where = [getattr(link, self.store.owner_key) == owner_id, link.feature_id == feature.id]
        if only is not None:
            hashes = [value_hash(v) for v in only.stored]
            values = select(FeatureValue.id).where(
                FeatureValue.feature_id == feature.id, FeatureValue.hash.in_(hashes)
            )
            where.append(link.featurevalue_id.in_(values))
        session.execute(delete(link).where(*where))

    # --- validation -----------------------------------------------------------------------------

    def _owner_id(self, action: str) -> int:
        owner_id = self.owner.__dict__.get("id")
        if owner_id is None:
            name = type(self.owner).__name__
            raise InvalidArgument(f"save the {name} before you {action} it: call .save() first")
        return int(owner_id)

    def _feature_of(self, item: Any) -> Any:

        if isinstance(item, Feature):
            return item
        found = features_by_name([str(item)])
        if str(item) not in found:
            raise ValidationError(f"there is no feature named {item!r}")
        return found[str(item)]

    def _prepare(self, values: dict[str, Any], action: str, *, require_saved: bool = True) -> list[_Prepared]:

        if require_saved:
            self._owner_id(action)
        if not isinstance(values, dict):
            raise InvalidArgument(
                f"pass feature values as a dict {{name: value}}, not {type(values).__name__}"
            )
        names = [k.name if isinstance(k, Feature) else k for k in values]
        found = features_by_name([n for n in names if isinstance(n, str)])
        unknown = [n for n in names if n not in found]
        if unknown:
            calls = "\n".join(
                f"    ln.Feature(name={n!r}, dtype={_suggest_dtype(values[n])}).save()" for n in unknown
            )
            raise ValidationError(
                f"{len(unknown)} feature{'s' if len(unknown) > 1 else ''} not registered: "
                f"{', '.join(repr(n) for n in unknown)}; create {'them' if len(unknown) > 1 else 'it'} first:\n{calls}"
            )
        prepared: list[_Prepared] = []
        problems: list[str] = []
        for name, value in zip(names, values.values(), strict=True):
            feature = found[name]
            if feature.dtype is None:
                raise ValidationError(
                    f"feature {name!r} is a feature type (is_type=True) and takes no values"
                )
            dtype = parse(feature.dtype)
            item = _Prepared(feature, dtype)
            if dtype.is_cat:
                items = value if isinstance(value, list | tuple | set) or _is_queryset(value) else [value]
                for v in items:
                    check_value(name, dtype, v)
                problems.extend(self._resolve_labels(item, list(items)))
            elif dtype.is_list:
                item.stored.append(check_value(name, dtype, value))
            elif isinstance(value, list | tuple | set) and dtype.base != "dict":
                item.stored.extend(check_value(name, dtype, v) for v in value)
            else:
                item.stored.append(check_value(name, dtype, value))
            prepared.append(item)
        if problems:
            raise ValidationError("\n".join(problems))
        return prepared

    def _resolve_labels(self, item: _Prepared, values: list[Any]) -> list[str]:
        """Fill `item.labels` with (registry, id); return the problems (labels that do not exist)."""
        targets = [(t, t.model()) for t in item.dtype.targets]
        names: list[str] = []
        for value in values:
            if isinstance(value, str):
                names.append(value)
                continue
            match = next(
                (
                    t
                    for t, registry in targets
                    if isinstance(value, registry) and _has_type(value, t.type_name)
                ),
                None,
            )
            if match is None:
                return [
                    f"feature {item.feature.name!r} ({item.dtype.text}) takes "
                    f"{' or '.join(t.text for t, _ in targets)} records, not {value!r}"
                ]
            if value.__dict__.get("id") is None:
                return [
                    f"{value!r} is not saved yet; save it before using it as a value of {item.feature.name!r}"
                ]
            state.check_same_instance(value, state.instance_of(self.owner), f"feature {item.feature.name!r}")
            item.labels.append((type(value), int(value.id)))
        remaining = list(dict.fromkeys(names))
        for target, registry in targets:
            if not remaining:
                break
            if self.store.cat_link(registry) is None:
                continue
            field_name = target.field_name()
            qs = registry.filter(**{f"{field_name}__in": remaining})
            if target.type_name is not None:
                qs = qs.filter(type__name=target.type_name)
            hits = {getattr(r, field_name): r.id for r in qs}
            for name in remaining:
                if name in hits:
                    item.labels.append((registry, int(hits[name])))
            remaining = [n for n in remaining if n not in hits]
        if not targets or all(self.store.cat_link(r) is None for _, r in targets):
            owner = type(self.owner).__name__
            return [
                f"{owner} records cannot hold values of {item.dtype.text} (feature {item.feature.name!r})"
            ]
        if remaining:
            target, registry = targets[0]
            create = _create_call(registry, target, remaining[0])
            return [
                f"feature {item.feature.name!r} ({item.dtype.text}): "
                f"{', '.join(repr(n) for n in remaining)} not found in {registry.__name__}; "
                f"fix the value or create the label first: {create}"
            ]
        return []

    # --- reads ----------------------------------------------------------------------------------

    def _annotating_features(self) -> Iterable[Any]:

        ids = {feature_id for feature_id, _ in self._raw_values()}
        return Feature.filter(id__in=list(ids)) if ids else []

    def _raw_values(self) -> list[tuple[int, Any]]:
        """(feature id, Python value) of every value, in the order they were added."""

        owner_id = self.owner.__dict__.get("id")
        if owner_id is None:
            return []
        session = state.current().db.session()
        rows: list[tuple[int, Any]] = []
        if self.store.value_link is not None:
            link = self.store.value_link
            statement = (
                select(FeatureValue.feature_id, FeatureValue.value)
                .join(link, link.featurevalue_id == FeatureValue.id)
                .where(getattr(link, self.store.owner_key) == owner_id)
                .order_by(link.id)
            )
            rows.extend(session.execute(statement).all())
        else:
            record_json = model("RecordJson")
            statement = (
                select(record_json.feature_id, record_json.value)
                .where(record_json.record_id == owner_id)
                .order_by(record_json.id)
            )
            rows.extend(session.execute(statement).all())
        for registry, cat_link in self.store.cat_links():
            link = cat_link.link
            label_field = getattr(registry, registry._name_field or "name", None) or registry.uid
            statement = (
                select(link.feature_id, label_field)
                .join(registry, getattr(link, cat_link.target_key) == registry.id)
                .where(getattr(link, cat_link.owner_key) == owner_id, link.feature_id.isnot(None))
                .order_by(link.id)
            )
            rows.extend(session.execute(statement).all())
        return rows

    def get_values(self) -> dict[str, Any]:
        """{feature name: value}; a feature with several values gives a list (categorical: label names)."""

        raw = self._raw_values()
        if not raw:
            return {}
        features = {
            f.id: f for f in Feature.filter(id__in=list({i for i, _ in raw}), branch_id__in=[-1, 0, 1])
        }
        grouped: dict[str, list[Any]] = {}
        for feature_id, value in raw:
            feature = features[feature_id]
            dtype = parse(feature.dtype)
            grouped.setdefault(feature.name, []).append(to_python(dtype, value))
        return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}

    # --- schemas (feature sets) -----------------------------------------------------------------

    @property
    def slots(self) -> dict[str, Any]:
        """The feature sets of an artifact by slot ("columns", "obs", "var", ...)."""

        if type(self.owner).__name__ != "Artifact":
            return {}
        owner_id = self.owner.__dict__.get("id")
        if owner_id is None:
            return {}
        session = state.current().db.session()
        schema_model = model("Schema")  # by name: schemas are built from features, one layer up
        link = model("ArtifactSchema")
        rows = session.execute(
            select(link.slot, schema_model)
            .join(schema_model, schema_model.id == link.schema_id)
            .where(link.artifact_id == owner_id)
            .order_by(link.id)
        ).all()
        return {str(slot): schema for slot, schema in rows}

    def add_schema(self, schema: Any, slot: str) -> None:
        """Link a schema as the feature set of `slot`; an unsaved schema is saved first (as in LaminDB)."""

        owner_id = self._owner_id("add a feature set to")
        if type(self.owner).__name__ != "Artifact":
            raise InvalidArgument("feature sets belong to artifacts")
        if schema.__dict__.get("id") is None:
            schema = schema.save()
        link = model("ArtifactSchema")
        with state.current().db.write() as session:
            session.execute(delete(link).where(link.artifact_id == owner_id, link.slot == slot))
            session.execute(insert(link), [{"artifact_id": owner_id, "schema_id": schema.id, "slot": slot}])

    add_feature_set = legacy_lookups.RenamedMethod("add_schema")

    def describe(self) -> None:
        tree = new_tree(f"[bold]{type(self.owner).__name__}[/bold] {self.owner.__dict__.get('uid', '')}")
        add_features(tree, self.owner)
        print_tree(tree)


# `artifact.features` of an artifact read from another instance reads (and refuses writes) there
bind_methods(FeaturesManager, owner_of=lambda manager: manager.owner)


def _has_type(record: Any, type_name: str | None) -> bool:
    if type_name is None:
        return True
    record_type = getattr(record, "type", None)
    return record_type is not None and getattr(record_type, "name", None) == type_name


def _check_schema(schema: Any, prepared: list[_Prepared]) -> None:
    """With `schema=`, every value must be of one of its features (and it must be saved)."""
    if schema is None:
        return
    if schema.__dict__.get("id") is None:
        raise InvalidArgument(f"save the schema before validating values with it: {schema!r}.save()")
    allowed = set(schema.features.all().to_list("id"))
    outside = [item.feature.name for item in prepared if item.feature.id not in allowed]
    if outside:
        raise ValidationError(
            f"{', '.join(repr(n) for n in outside)} not in schema {schema.name or schema.uid!r}; "
            "add the features to the schema or leave these values out"
        )


def _is_queryset(value: Any) -> bool:
    return type(value).__name__ == "QuerySet"


def _feature_value_ids(connection: Any, wanted: dict[tuple[int, str], Any]) -> dict[tuple[int, str], int]:

    table = FeatureValue.__table__
    hashes = list({key[1] for key in wanted})
    ids: dict[tuple[int, str], int] = {}
    for start in range(0, len(hashes), 10_000):
        statement = select(table.c.id, table.c.feature_id, table.c.hash).where(
            table.c.hash.in_(hashes[start : start + 10_000])
        )
        for value_id, feature_id, hash_ in connection.execute(statement):
            if (feature_id, hash_) in wanted:
                ids[(feature_id, hash_)] = value_id
    return ids


def _insert_ignoring_duplicates(session: Any, dialect: str, link: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement: Any
    if dialect == "postgresql":
        # imported here: SQLite instances never load SQLAlchemy's PostgreSQL dialect
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        statement = postgresql_insert(link.__table__).on_conflict_do_nothing()
    else:
        statement = sqlite_insert(link.__table__).on_conflict_do_nothing()
    session.connection().execute(statement, rows)


def _suggest_dtype(value: Any) -> str:
    try:
        return python_type_name(infer_from_value(value))
    except InvalidArgument:
        return "..."


def _create_call(registry: Any, target: Any, name: str) -> str:
    field_name = target.field_name()
    registry_name = target.registry if "." in target.registry else f"ln.{registry.__name__}"
    type_part = ""
    if target.type_name is not None:
        type_part = f", type=ln.{registry.__name__}.get(name={target.type_name!r})"
    return f"{registry_name}({field_name}={name!r}{type_part}).save()"
