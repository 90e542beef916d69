"""Copying a record read from another instance into the connected one: `record.save()`.

`db.Artifact.get(...).save()` (or any registry's record from `.using()` / `ln.DB()`) makes a copy
here: a new id, the same uid. What comes along, all in one write transaction:
- an artifact keeps pointing at its bytes in the other instance's storage: that storage location is
  registered here (a Storage row with the other instance's `instance_uid`, so this instance never
  deletes those bytes), nothing is copied;
- its lineage: its run and the run's transform, by uid (reused when present);
- its labels (ULabel, Record, Project, Reference, bionty records) and feature values, with the
  features and labels they need (reused by uid, then by name); a feature whose name is taken here by
  one of another dtype keeps its values behind, with a warning;
- a collection: its artifacts (each as above) in order;
- the transfer itself: a transform per source instance (uid = that instance's uid + "0000",
  `reference` = its uid, `reference_type` = "lamella_instance", key "transfers/<name>") and a run of
  it (`initiated_by_run`: the current `ln.track()` run, if any) that has the copied artifacts and
  collections as inputs. The records the transfer creates on the way (labels, features, feature
  values), and a saved record of another registry that had no run, have that run as their run.

A record found here already (by uid; an artifact or collection also by content hash; a named record
by name and type; a storage location by root) is not copied again: saving the same record twice
returns the first copy. Schemas, run reports and environments stay behind (their fields are left
empty). After the save the user's variable is the copy, as with LaminDB.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import make_transient, object_session

from lamella._instance import state
from lamella._logging import logger
from lamella._query.relations import ManyToMany, every_model, model
from lamella.errors import InvalidArgument, NotConnected
from lamella.models.artifact.artifact import Artifact
from lamella.models.artifact.source import forget_storage_roots
from lamella.models.collection.collection import Collection
from lamella.models.core.columns import utcnow
from lamella.models.core.instance_records import User
from lamella.models.core.other_instances import TRANSFER
from lamella.models.core.run_links import insert_links, link_to_current_project
from lamella.models.features.feature import Feature, FeatureValue
from lamella.models.features.stores import value_hash
from lamella.models.lineage.lineage import Run, Transform

# what a record is recognised by when its uid is not here (beyond the name of a named registry)
_NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "storage": ("root",),
    "artifact": ("hash",),
    "collection": ("hash",),
}
# registries a record's fields may point at without coming along: their fields are left empty
_LEFT_BEHIND = {"schema", "featurevalue"}
# the registries whose copies the transfer run records as its inputs
_DATA = {"artifact", "collection"}
# the registries whose records count as labels of an artifact or collection
_LABELS = {"ULabel", "Record", "Project", "Reference"}
TRANSFER_REFERENCE_TYPE = "lamella_instance"


def transfer(record: Any) -> Any:
    """The copy of `record` (read from another instance) in the connected instance, made if missing."""
    source = state.instance_of(record)
    if source is None:  # pragma: no cover - only records of another instance come here
        raise InvalidArgument(f"{record!r} belongs to the connected instance already")
    with state.reading(None):
        target = state.current()
        if target.read_only:
            raise target.db.read_only_error(f"copy {record!r} into it")
        table = type(record).__tablename__
        if not target.has_table(table):
            module = table.split("_", 1)[0]
            raise NotConnected(
                f"cannot copy {record!r}: the connected instance {target.config.name!r} does not use the "
                f"module {module!r} (add it with `lamella migrate --modules {module}`)"
            )
        locks = {f"lamella:{name}" for name in (*_NATURAL_KEYS, "transform", "feature", "ulabel", "record")}
        with target.db.write(*sorted(locks | set(record._lock_names()))) as session:
            copier = _Copier(source, target, session)
            local, copied = copier.copy(record, lineage=True)
            if copied:
                link_to_current_project([local])
    _become(record, local)
    what = "copied" if copied else "found (copied before)"
    logger.info(f"{what} {type(local).__name__} {local.__dict__.get('uid')} from instance {source.slug!r}")
    return local


TRANSFER["transfer"] = transfer


def _become(record: Any, local: Any) -> None:
    """The user's variable becomes the connected instance's copy (a detached copy of `local`)."""
    session = object_session(record)
    if session is not None:
        session.expunge(record)
    make_transient(record)
    record.__dict__.pop(state.RECORD_KEY, None)
    record._become_saved_as(local)


def _model_of(table: str) -> Any:
    for candidate in every_model().values():
        if getattr(candidate, "__tablename__", None) == table and hasattr(candidate, "__mapper__"):
            return candidate
    raise InvalidArgument(f"no registry has the table {table!r}")  # pragma: no cover


class _Copier:
    """One transfer: reads the source instance, writes the connected one inside `session`'s transaction."""

    def __init__(self, source: state.Instance, target: state.Instance, session: Any) -> None:
        self.source = source
        self.target = target
        self.session = session
        self.copies: dict[tuple[str, int], Any] = {}  # (table, source id) -> local record
        self._run: Run | None = None
        self._initiating = state.current_run()  # the `ln.track()` run that copies, if any

    # --- reading the source -----------------------------------------------------------------------

    def _source_get(self, model: Any, record_id: int) -> Any:
        with state.reading(self.source):
            return self.source.db.session().get(model, record_id)

    def _source_rows(self, statement: Any) -> list[Any]:
        with state.reading(self.source):
            return list(self.source.db.session().execute(statement).all())

    # --- finding what is here already -------------------------------------------------------------

    def _find(self, record: Any) -> Any:
        """The record's copy made before (same uid), or a record here that is the same: same content
        (artifacts, collections), same root (storage), same name and type (named registries)."""
        model = type(record)
        table = model.__table__
        uid = record.__dict__.get("uid")
        if uid is not None and "uid" in table.c:
            found = self.session.execute(select(model).where(table.c.uid == uid)).scalar_one_or_none()
            if found is not None:
                return found
        with state.reading(self.source):
            natural = {key: getattr(record, key) for key in _NATURAL_KEYS.get(table.name, ())}
            name_field = getattr(model, "_name_field", None)
            name = getattr(record, name_field) if name_field is not None else None
            type_id = record.type_id if name is not None and "type_id" in table.c else None
        for key, value in natural.items():
            if value is None:
                continue
            where = [table.c[key] == value]
            if "branch_id" in table.c:
                where.append(table.c.branch_id != -1)
            found = self.session.execute(select(model).where(*where).limit(1)).scalar_one_or_none()
            if found is not None:
                return found
        if name is None:
            return None
        where = [table.c[name_field] == name]
        if "type_id" in table.c:
            local_type = None if type_id is None else self._copy_id(model, type_id, lineage=False)
            where.append(table.c.type_id.is_(None) if local_type is None else table.c.type_id == local_type)
        if "branch_id" in table.c:
            where.append(table.c.branch_id == 1)
        return self.session.execute(select(model).where(*where).limit(1)).scalar_one_or_none()

    # --- copying ----------------------------------------------------------------------------------

    def copy(self, record: Any, *, lineage: bool = False) -> tuple[Any, bool]:
        """The local copy of `record` and whether it was made now.

        `lineage`: the record is what the user saves (or an artifact of it): its run and transform
        come along, and the transfer run records it as an input; labels and features it needs are
        outputs of the transfer run instead.
        """
        model = type(record)
        table = model.__table__
        key = (table.name, record.__dict__["id"])
        if key in self.copies:
            return self.copies[key], False
        found = self._find(record)
        if found is not None:
            self.copies[key] = found
            return found, False
        values = self._values(record, lineage=lineage)
        local = model.__mapper__.class_manager.new_instance()
        local.__dict__.update(values)
        self.session.add(local)
        self.session.flush()
        self.copies[key] = local
        if hasattr(local, "_elect_latest"):  # a version among versions copied before
            local._elect_latest(self.session)
        if table.name == "storage":
            forget_storage_roots()
        if isinstance(local, Artifact | Collection):
            self._copy_links(record, local)
            if lineage:
                column = "artifact_id" if isinstance(local, Artifact) else "collection_id"
                pair = (self.run().id, local.id)
                insert_links(self.target, f"run_input_{table.name}", ("run_id", column), [pair])
        return local, True

    def _values(self, record: Any, *, lineage: bool) -> dict[str, Any]:
        """The record's fields, pointing at records of the connected instance."""
        model = type(record)
        table = model.__table__
        attributes = [a for a in model.__mapper__.column_attrs if not a.columns[0].primary_key]
        with state.reading(self.source):  # an expired field reloads from the record's own instance
            raw = {a.key: getattr(record, a.key) for a in attributes}
        values: dict[str, Any] = {}
        for attribute in attributes:
            column = attribute.columns[0]
            value = raw[attribute.key]
            if column.name == "run_id" and not (lineage and (value is not None or table.name in _DATA)):
                # made by the transfer: labels and features it needs, a label saved that had no run
                value = self.run().id
            elif column.foreign_keys and value is not None:
                value = self._foreign_key(column, value, lineage=lineage)
            if value is None and not column.nullable and column.default is None:
                raise InvalidArgument(  # pragma: no cover - no registry has such a field today
                    f"cannot copy {record!r}: its field {column.name!r} points at a record that is not copied"
                )
            values[attribute.key] = value
        if "branch_id" in table.c:
            values["branch_id"] = 1
        if "space_id" in table.c:
            values["space_id"] = 1
        return values

    def _foreign_key(self, column: Any, value: int, *, lineage: bool) -> int | None:
        """The local id for a field pointing at source record `value` (None: it stays behind)."""
        target_table = next(iter(column.foreign_keys)).column.table.name
        own_table = column.table.name
        if target_table == "user":
            return self._user_id(value)
        if target_table in ("branch", "space"):
            return 1
        if column.name == "run_id":
            return self._copy_id(Run, value, lineage=True)
        if column.name == "transform_id":
            return self._copy_id(Transform, value, lineage=True) if lineage else None
        if target_table == "artifact":  # a collection's meta artifact comes along; run reports do not
            return self._copy_id(Artifact, value, lineage=True) if own_table == "collection" else None
        if target_table in _LEFT_BEHIND or target_table in ("run", "transform", "collection"):
            return None
        target_model = _model_of(target_table)
        if "uid" not in target_model.__table__.c:
            return None
        return self._copy_id(target_model, value, lineage=False)

    def _copy_id(self, model: Any, source_id: int, *, lineage: bool) -> int | None:
        source_record = self._source_get(model, source_id)
        if source_record is None:
            return None
        if not self.target.has_table(model.__tablename__):
            return None
        local, _ = self.copy(source_record, lineage=lineage)
        return int(local.id)

    def _user_id(self, source_id: int) -> int | None:
        """The same user here (by uid), else the user who copies."""
        uid = self._source_rows(select(User.uid).where(User.id == source_id))
        if uid:
            found = self.session.execute(select(User.id).where(User.uid == uid[0][0])).scalar_one_or_none()
            if found is not None:
                return int(found)
        return self.target.user_id

    # --- the transfer run -------------------------------------------------------------------------

    def run(self) -> Run:
        """The run recording transfers from the source instance (per initiating `ln.track()` run)."""
        if self._run is not None:
            return self._run
        source = self.source.config
        uid = source.uid + "0000"
        transform = self.session.execute(select(Transform).where(Transform.uid == uid)).scalar_one_or_none()
        if transform is None:
            transform = Transform(
                key=f"transfers/{source.name}",
                uid=uid,
                kind="other",
                description=f"copies of records from instance {self.source.slug!r} ({source.uid})",
                reference=source.uid,
                reference_type=TRANSFER_REFERENCE_TYPE,
            )
            transform._fill_defaults(self.target)
            self.session.add(transform)
            self.session.flush()
        initiating = self._initiating
        where = [Run.transform_id == transform.id]
        where.append(
            Run.initiated_by_run_id.is_(None)
            if initiating is None
            else Run.initiated_by_run_id == initiating.id
        )
        run = self.session.execute(select(Run).where(*where).order_by(Run.id).limit(1)).scalar_one_or_none()
        if run is None:
            now = utcnow()
            run = Run(transform=transform, status="completed", started_at=now, finished_at=now)
            if initiating is not None:
                run.initiated_by_run_id = initiating.id
            run._fill_defaults(self.target)
            self.session.add(run)
            self.session.flush()
        self._run = run
        return run

    # --- labels, feature values, members ----------------------------------------------------------

    def _copy_links(self, record: Any, local: Any) -> None:
        for name, relation in type(record)._relations.items():
            if not isinstance(relation, ManyToMany) or name.startswith("_"):
                continue
            target = relation.target_model
            if target.__name__ in _LABELS or target.__module__.startswith("lamella.bionty"):
                self._copy_label_links(record, local, relation)
        if isinstance(local, Artifact):
            self._copy_feature_values(record, local)
        else:
            self._copy_members(record, local)

    def _copy_label_links(self, record: Any, local: Any, relation: ManyToMany) -> None:
        link = relation.link_model
        columns = link.__table__.c
        target = relation.target_model
        tables = (link.__tablename__, target.__tablename__)
        if not all(instance.has_table(t) for instance in (self.source, self.target) for t in tables):
            return  # a module one of the two instances does not use: no such labels to copy
        has_feature = "feature_id" in columns
        selected = [columns[relation.target_key], columns.feature_id if has_feature else columns.id]
        rows = self._source_rows(select(*selected).where(columns[relation.self_key] == record.id))
        for target_id, feature_id in rows:
            label_id = self._copy_id(target, target_id, lineage=False)
            if label_id is None:
                continue
            values: dict[str, Any] = {relation.self_key: local.id, relation.target_key: label_id}
            where = [columns[relation.self_key] == local.id, columns[relation.target_key] == label_id]
            if has_feature:
                local_feature = self._feature_id(feature_id) if feature_id is not None else None
                if feature_id is not None and local_feature is None:
                    continue
                values["feature_id"] = local_feature
                where.append(
                    columns.feature_id.is_(None)
                    if local_feature is None
                    else columns.feature_id == local_feature
                )
            if self.session.execute(select(columns.id).where(*where)).first() is None:
                self.session.add(link(**values))
        self.session.flush()

    def _feature_id(self, source_id: int) -> int | None:
        """The local feature for a source feature; None when the name is taken here by another dtype."""
        source_feature = self._source_get(Feature, source_id)
        local, _ = self.copy(source_feature)
        if local.dtype != source_feature.dtype:
            logger.warning(
                f"feature {source_feature.name!r} is {source_feature.dtype} in instance {self.source.slug!r} "
                f"but {local.dtype} here: its values were not copied"
            )
            return None
        return int(local.id)

    def _copy_feature_values(self, record: Artifact, local: Artifact) -> None:
        relation = Artifact._relations["_feature_values"]
        link = relation.link_model
        rows = self._source_rows(
            select(FeatureValue.feature_id, FeatureValue.value)
            .join(link, link.featurevalue_id == FeatureValue.id)
            .where(link.artifact_id == record.id)
            .order_by(link.id)
        )
        run_id = None
        for feature_id, value in rows:
            local_feature = self._feature_id(feature_id)
            if local_feature is None:
                continue
            hash_ = value_hash(value)
            value_id = self.session.execute(
                select(FeatureValue.id).where(
                    FeatureValue.feature_id == local_feature, FeatureValue.hash == hash_
                )
            ).scalar_one_or_none()
            if value_id is None:
                run_id = run_id or self.run().id
                stored = FeatureValue.__mapper__.class_manager.new_instance()
                stored.__dict__.update(
                    feature_id=local_feature,
                    hash=hash_,
                    value=value,
                    created_by_id=self.target.user_id,
                    run_id=run_id,
                    created_at=utcnow(),
                )
                self.session.add(stored)
                self.session.flush()
                value_id = stored.id
            exists = self.session.execute(
                select(link.id).where(link.artifact_id == local.id, link.featurevalue_id == value_id)
            ).first()
            if exists is None:
                self.session.add(link(artifact_id=local.id, featurevalue_id=value_id))
        self.session.flush()

    def _copy_members(self, record: Collection, local: Collection) -> None:
        link = model("CollectionArtifact")
        rows = self._source_rows(
            select(link.artifact_id, link.position)
            .where(link.collection_id == record.id)
            .order_by(link.position, link.id)
        )
        present = set(
            self.session.execute(select(link.artifact_id).where(link.collection_id == local.id)).scalars()
        )
        for artifact_id, position in rows:
            member_id = self._copy_id(Artifact, artifact_id, lineage=True)
            if member_id is not None and member_id not in present:
                self.session.add(link(collection_id=local.id, artifact_id=member_id, position=position))
                present.add(member_id)
        self.session.flush()
