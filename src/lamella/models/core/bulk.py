"""`ln.save(records)`: many records in one transaction per registry."""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state

from lamella._gc import gc_paused
from lamella._instance import state
from lamella._logging import logger
from lamella.models.core.bulk_rows import reserve_ids, write_rows
from lamella.models.core.columns import UTCDateTime
from lamella.models.core.field_checks import check_row, json_checkers
from lamella.models.core.run_links import link_to_current_project


class RecordList(list[Any]):
    """A list of records, as `from_values` returns it: `.save()` saves them all in bulk."""

    def save(self) -> RecordList:
        save(self)
        return self


def type_id_of(record: Any) -> int | None:
    """The record's type id, also when only the `type=` relationship is set (before a flush)."""
    record_type = record.__dict__.get("type")
    if record_type is not None:
        return record_type.__dict__.get("id")
    return record.__dict__.get("type_id")


def save(records: Iterable[Any], **kwargs: Any) -> list[Any]:
    """Save many records at once: one transaction per registry (a registry may save its own way: `_save_many`)."""

    with gc_paused():
        return _save(list(records))


def _save(items: list[Any]) -> list[Any]:
    by_model: dict[type, list[Any]] = {}
    saved: list[Any] = []
    for record in items:
        if state.instance_of(record) is not None:  # read from another instance: copied one by one
            saved.append(record.save())
            continue
        by_model.setdefault(type(record), []).append(record)
    for model, group in by_model.items():
        save_many = getattr(model, "_save_many", None)
        if save_many is not None:  # registries that store more than rows (artifacts: their bytes)
            saved.extend(save_many(group))
            continue
        if getattr(getattr(model, "save", None), "__qualname__", "") != "SQLRecord.save":
            # registries whose save() writes more than their row
            saved.extend(record.save() for record in group)
            continue
        saved.extend(save_rows(model, group))
    return saved


def save_rows(model: type, group: list[Any], *, by_name: bool = True) -> list[Any]:
    """Insert the new records of one registry in one statement, update the saved ones, in one transaction.

    `by_name`: a named registry skips records whose name another process saved meanwhile; a registry
    that identifies records otherwise (an ontology term by its id) passes False.
    """
    instance = state.current()
    new = [r for r in group if r.__dict__.get("id") is None]
    existing = [r for r in group if r.__dict__.get("id") is not None]
    try:
        with instance.db.write(*group[0]._lock_names()) as session:
            if by_name:
                new = _drop_names_created_meanwhile(model, new, session)
            fill_defaults_in_bulk(new, instance)
            for record in new:
                record._before_insert(session)
            insert_many(model, new, session)
            session.add_all(existing)
            session.flush()
            link_to_current_project(new)
    except BaseException:
        forget_failed_inserts(new)
        raise
    return group


def _drop_names_created_meanwhile(model: type, records: list[Any], session: Any) -> list[Any]:
    """Named registries: skip records whose name exists already (saved by another process meanwhile)."""
    name_field = getattr(model, "_name_field", None)
    if name_field is None or not records:
        return records
    table = model.__table__  # type: ignore[attr-defined]
    has_type = "type_id" in table.c
    names = list({r.__dict__.get(name_field) for r in records if isinstance(r.__dict__.get(name_field), str)})
    taken: set[tuple[Any, Any]] = set()
    connection = session.connection()
    marker = "?" if connection.dialect.name == "sqlite" else "%s"
    branches: tuple[int, ...] = ()
    if "branch_id" in table.c:
        branches = tuple(sorted({state.MAIN_BRANCH, _branch_of(model)}))
    # plain SQL: the ORM's row objects and parameter processing cost more than the lookup
    quote = connection.dialect.identifier_preparer.quote
    name, select_type = quote(name_field), ", type_id" if has_type else ", NULL"
    in_branches = f" AND branch_id IN ({', '.join([marker] * len(branches))})" if branches else ""
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        sql = (
            f"SELECT {name}{select_type} FROM {quote(table.name)} "
            f"WHERE {name} IN ({', '.join([marker] * len(chunk))}){in_branches}"
        )
        taken.update(tuple(row) for row in connection.exec_driver_sql(sql, (*chunk, *branches)))
    keep, seen = [], set()
    for record in records:
        key = (record.__dict__.get(name_field), type_id_of(record) if has_type else None)
        if key in taken or (key[0] is not None and key in seen):
            continue
        seen.add(key)
        keep.append(record)
    skipped = len(records) - len(keep)
    if skipped:
        logger.info(f"{skipped} {model.__name__} record(s) already existed by name and were not saved again")
    return keep


def _branch_of(model: type) -> int:
    """The branch new records of `model` go to: the current run's, or main for lineage registries."""
    return state.current_branch_id() if getattr(model, "_follows_run_branch", False) else state.MAIN_BRANCH


def fill_defaults_in_bulk(records: list[Any], instance: Any) -> None:
    """What `_fill_defaults` sets, written straight into the instances: the bulk insert reads them
    from there and commits them as loaded, so the ORM's change tracking would be wasted work."""

    if not records:
        return
    columns = records[0].__table__.c
    run = state.current_run()
    model = type(records[0])
    follows_run = getattr(model, "_follows_run_branch", False)  # ln.track(branch=..., space=...)
    defaults = {
        "created_by_id": instance.user_id if "created_by_id" in columns else None,
        "run_id": run.id if run is not None and "run_id" in columns else None,
        "branch_id": _branch_of(model) if "branch_id" in columns else None,
        "space_id": (state.current_space_id() if follows_run else state.ALL_SPACE)
        if "space_id" in columns
        else None,
    }
    for record in records:
        values = record.__dict__
        for key, value in defaults.items():
            if value is None or values.get(key) is not None:
                continue
            if key == "created_by_id" and values.get("created_by") is not None:
                continue
            if key == "run_id" and (values.get("run") is not None or values.get("_skip_run")):
                continue
            values[key] = value


def _column_default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps plain callables to take an execution context
    if default.is_scalar:
        return default.arg
    return None


def insert_many(model: Any, records: list[Any], session: Any) -> None:
    """One bulk INSERT (SQLite executemany, PostgreSQL COPY) for all records with reserved ids, then
    attach them as persistent.

    The ORM's unit of work costs about 100 µs per object; this costs a few.
    """

    if not records:
        return
    mapper = model.__mapper__
    # a to-one relationship set as an object (`type=cell_type`) is written as its foreign key
    to_one = [
        (rel.key, next(iter(rel.local_columns)).key)
        for rel in mapper.relationships
        if rel.direction.name == "MANYTOONE"
    ]
    for record in records:
        values = record.__dict__
        for relationship_key, fk_key in to_one:
            related = values.get(relationship_key)
            if related is None:
                continue
            if related.__dict__.get("id") is None:
                session.add_all(records)  # the related record is new too: let the ORM order the inserts
                return
            values[fk_key] = related.id
    table = model.__table__
    columns = [c for c in table.c if c.key != "id"]
    keys = ["id", *(c.key for c in columns)]
    attributes = [mapper.get_property_by_column(c).key for c in columns]
    json_columns = [keys.index(key) for key, _ in json_checkers(model)]
    connection = session.connection()
    ids = reserve_ids(table.name, len(records), connection)
    # written straight into the instances, which _commit_as_loaded commits as loaded; one timestamp
    # for the rows saved together, as one transaction writes them
    column_of = dict(zip(attributes, columns, strict=True))
    defaults = {
        attribute: _column_default(column)
        for attribute, column in column_of.items()
        if isinstance(column.type, UTCDateTime) and column.default is not None
    }
    needed = set(attributes)
    values_of = itemgetter(*attributes)
    rows: list[list[Any]] = []
    for record, new_id in zip(records, ids, strict=True):
        values = record.__dict__
        for attribute in needed.difference(values):
            values[attribute] = (
                defaults[attribute] if attribute in defaults else _column_default(column_of[attribute])
            )
        row = [new_id, *values_of(values)]
        if json_columns:  # the ORM's flush hooks do not see these rows
            checked = {keys[i]: row[i] for i in json_columns}
            check_row(model, checked)
            for index in json_columns:
                row[index] = checked[keys[index]]
        values["id"] = new_id
        rows.append(row)

    def bookkeeping() -> None:  # the session's side, while the database inserts the rows
        _commit_as_loaded(mapper, records)
        _attach(session, records)

    write_rows(connection, table, keys, rows, meanwhile=bookkeeping)


def _commit_as_loaded(mapper: Any, records: list[Any]) -> None:
    """Make inserted records detached with their values as loaded: `make_transient_to_detached`,
    without its search for unloaded attributes to expire (~30 % of `ln.save` of 10,000 labels in cProfile).

    Every column was just written into the record; relationships load lazily as on any loaded record.
    """
    identity_class = getattr(mapper, "_identity_class", None)
    if identity_class is None:  # SQLAlchemy's internals changed: its public way
        for record in records:
            make_transient_to_detached(record)
        return
    for record in records:
        record_state = instance_state(record)
        record_state.key = (identity_class, (record.__dict__["id"],), None)
        record_state._commit_all(record_state.dict)


def _attach(session: Any, records: list[Any]) -> None:
    """Put persistent records into the session's identity map.

    `session.add_all` would walk every relationship of every record for objects to cascade to
    (~20 µs a record); rows inserted here hold only foreign keys to records saved before them.
    """
    attach = getattr(session, "_update_impl", None)  # SQLAlchemy's attach without the cascade
    if attach is None:
        session.add_all(records)
        return
    # registered as inserted by this transaction, as the ORM's flush registers its inserts: a
    # rollback then makes them transient again instead of expiring every field they hold
    inserted = getattr(session.get_transaction(), "_new", None)
    identity_map = session.identity_map
    for record in records:
        record_state = instance_state(record)
        stale = identity_map.get(record_state.key)
        if stale is not None and stale is not record:
            # a record whose row another process deleted, and whose id SQLite gave this insert: it
            # leaves the identity map, as the ORM's flush replaces it (its own actions find it gone)
            identity_map.safe_discard(instance_state(stale))
        attach(record_state)
        if inserted is not None:
            inserted[record_state] = True


def forget_failed_inserts(records: Iterable[Any]) -> None:
    """Records whose insert a rollback undid look unsaved again, so that saving them again inserts them.

    The rollback made them transient; the id the insert gave them would still make them look saved.
    """
    for record in records:
        if instance_state(record).key is None:
            record.__dict__.pop("id", None)
