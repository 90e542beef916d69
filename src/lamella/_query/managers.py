"""Relation managers: `artifact.ulabels.add(label)`, `.set`, `.remove`, `.clear`, `.all()`, `.filter()`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from lamella._instance import state
from lamella._query.queryset import QuerySet
from lamella._query.relations import MANAGERS
from lamella.errors import InvalidArgument

if TYPE_CHECKING:
    from lamella._query.relations import ManyToMany, ReverseForeignKey


class _ManagerBase:
    """Read access shared by both managers: everything a QuerySet offers, via `all()`."""

    def all(self) -> QuerySet[Any]:
        raise NotImplementedError

    def filter(self, *queries: Any, **lookups: Any) -> QuerySet[Any]:
        return self.all().filter(*queries, **lookups)

    def exclude(self, *queries: Any, **lookups: Any) -> QuerySet[Any]:
        return self.all().exclude(*queries, **lookups)

    def count(self) -> int:
        return self.all().count()

    def exists(self) -> bool:
        return self.all().exists()

    def first(self) -> Any:
        return self.all().first()

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.all().get(*args, **kwargs)

    def to_list(self, field: str | None = None) -> list[Any]:
        return self.all().to_list(field)

    def to_dataframe(self, *args: Any, **kwargs: Any) -> Any:
        return self.all().to_dataframe(*args, **kwargs)

    df = to_dataframe

    def order_by(self, *fields: str) -> QuerySet[Any]:
        return self.all().order_by(*fields)

    def __getattr__(self, name: str) -> Any:
        # one(), one_or_none(), last(), search(), lookup(), delete(), ...: whatever a QuerySet offers
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.all(), name)

    def __getitem__(self, item: int | slice) -> Any:
        return self.all()[item]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.all())

    def __len__(self) -> int:
        return self.count()

    def __contains__(self, record: Any) -> bool:
        if record.__dict__.get("id") is None:
            return False
        records = self.all()
        return state.instance_of(record) is records._instance and records.filter(id=record.id).exists()

    def __repr__(self) -> str:
        return repr(self.all())


def _flatten(records: tuple[Any, ...]) -> list[Any]:

    flat: list[Any] = []
    for item in records:
        if isinstance(item, (QuerySet | list | tuple | set | frozenset, _ManagerBase)):
            flat.extend(item)
        else:
            flat.append(item)
    return flat


class LinkManager(_ManagerBase):
    def __init__(self, owner: Any, relation: ManyToMany) -> None:
        self.owner = owner
        self.relation = relation
        self._instance = state.instance_of(owner)  # reads and writes go to the owner's instance

    def _owner_id(self, action: str) -> int:
        owner_id = self.owner.__dict__.get("id")
        if owner_id is None:
            raise InvalidArgument(
                f"save the {type(self.owner).__name__} before you {action} its {self.relation.name}: call .save() first"
            )
        return int(owner_id)

    def all(self) -> QuerySet[Any]:

        target = self.relation.target_model
        link = self.relation.link_model
        owner_id = self.owner.__dict__.get("id")
        qs: QuerySet[Any] = QuerySet(target, self._instance)
        if owner_id is None:
            return qs.filter_expression(target.__table__.c.id.is_(None))
        subquery = select(getattr(link, self.relation.target_key)).where(
            getattr(link, self.relation.self_key) == owner_id
        )
        return qs.filter_expression(target.__table__.c.id.in_(subquery))

    def _target_ids(self, records: tuple[Any, ...]) -> list[int]:
        target = self.relation.target_model
        ids = []
        for record in _flatten(records):
            if not isinstance(record, target):
                raise InvalidArgument(
                    f"{self.relation.name} takes {target.__name__} records, not {type(record).__name__}"
                )
            if record.__dict__.get("id") is None:
                raise InvalidArgument(f"{record!r} is not saved yet; save it before linking it")
            state.check_same_instance(record, self._instance, f"{self.relation.name}.add()")
            ids.append(int(record.id))
        return ids

    def add(self, *records: Any, feature: Any = None) -> None:

        owner_id = self._owner_id("add to")
        ids = self._target_ids(records)
        if not ids:
            return
        link = self.relation.link_model
        self_key, target_key = self.relation.self_key, self.relation.target_key
        has_feature = "feature_id" in link.__table__.c
        feature_id = None
        if feature is not None:
            if not has_feature:
                raise InvalidArgument(f"links of {self.relation.name} carry no feature")
            feature_id = feature.id if hasattr(feature, "id") else int(feature)
        with state.reading(self._instance), state.current().db.write() as session:
            where = [getattr(link, self_key) == owner_id, getattr(link, target_key).in_(ids)]
            if has_feature:
                where.append(
                    link.feature_id.is_(None) if feature_id is None else link.feature_id == feature_id
                )
            present = set(session.execute(select(getattr(link, target_key)).where(*where)).scalars())
            rows = []
            for target_id in dict.fromkeys(ids):
                if target_id in present:
                    continue
                values: dict[str, Any] = {self_key: owner_id, target_key: target_id}
                if has_feature:
                    values["feature_id"] = feature_id
                rows.append(values)
            if rows:  # one executemany: the ORM would insert link by link to learn each one's id
                complete_rows = getattr(link, "complete_rows", None)  # value links copy their value
                if complete_rows is not None:
                    complete_rows(session.connection(), rows)
                session.execute(insert(link.__table__), rows)

    def remove(self, *records: Any) -> None:

        owner_id = self._owner_id("remove from")
        ids = self._target_ids(records)
        link = self.relation.link_model
        with state.reading(self._instance), state.current().db.write() as session:
            session.execute(
                delete(link).where(
                    getattr(link, self.relation.self_key) == owner_id,
                    getattr(link, self.relation.target_key).in_(ids),
                )
            )

    def clear(self) -> None:

        owner_id = self._owner_id("clear")
        link = self.relation.link_model
        with state.reading(self._instance), state.current().db.write() as session:
            session.execute(delete(link).where(getattr(link, self.relation.self_key) == owner_id))

    def set(self, records: Iterable[Any]) -> None:

        wanted = _flatten((records,))  # evaluate first: the QuerySet may read this very relation
        with state.reading(self._instance), state.current().db.write():
            self.clear()
            self.add(*wanted)


class ReverseManager(_ManagerBase):
    def __init__(self, owner: Any, relation: ReverseForeignKey) -> None:
        self.owner = owner
        self.relation = relation

    def all(self) -> QuerySet[Any]:

        target = self.relation.target_model
        owner_id = self.owner.__dict__.get("id")
        qs: QuerySet[Any] = QuerySet(target, state.instance_of(self.owner))
        return qs.filter_expression(target.__table__.c[self.relation.fk] == owner_id)


MANAGERS["many_to_many"] = LinkManager
MANAGERS["reverse_foreign_key"] = ReverseManager
