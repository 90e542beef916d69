"""Records read from another instance (`ln.Artifact.using("name")`, `ln.DB("name")`) carry it.

The other instance is opened read-only beside the connection (`_setup/using.py`); its sessions have
the instance in their `info`, and:
- `remember_instance`, an ORM load event, puts it into every record such a session loads
  (`record.__dict__["_lamella_instance"]`, read by `state.instance_of(record)`). Relations loaded
  later go through the record's own session, so they carry it too;
- `bind_methods` makes every public method and property of the registries (and of helpers that
  work for one record: `record.features`, `record.labels`) run inside `state.reading(<instance>)`
  when the record carries one. Everything below reads the record's database, the QuerySets made
  there read it too, and a write meets a read-only database: `ReadOnlyError`, naming the way out;
- `save()` of such a record is not a write there: it copies the record into the connected instance
  (`TRANSFER`, filled by `models/transfer.py`, which sits above every aggregate), unless the record
  was changed, which would be a write into the other instance.

Records of the connected instance carry nothing, so nothing changes for them but one dict lookup
per method call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import FunctionType
from typing import Any

from sqlalchemy.orm.attributes import instance_state

from lamella._instance import state
from lamella.errors import NotConnected, ReadOnlyError

# "transfer": copy a record of another instance into the connected one (filled by models/transfer.py)
TRANSFER: dict[str, Callable[[Any], Any]] = {}

_BOUND_FLAG = "_lamella_methods_bound"


def remember_instance(target: Any, context: Any) -> None:
    """ORM load event: a record loaded by another instance's session keeps that instance."""
    other = context.session.info.get(state.SESSION_KEY)
    if other is not None:
        target.__dict__[state.RECORD_KEY] = other


def bind_methods(cls: type, owner_of: Callable[[Any], Any] | None = None) -> None:
    """Public methods and properties of `cls` and its Lamella bases run in their record's instance.

    `owner_of(obj)` is the record an object works for (a manager's owner); the object itself when None.
    Each function is wrapped once, in the class that defines it.
    """
    for klass in cls.__mro__:
        if not klass.__module__.startswith("lamella") or klass.__dict__.get(_BOUND_FLAG):
            continue
        for name, attribute in list(vars(klass).items()):
            if name.startswith("_"):
                continue
            if isinstance(attribute, FunctionType):
                type.__setattr__(klass, name, _bound(name, attribute, owner_of))
            elif isinstance(attribute, property) and attribute.fget is not None:
                bound = property(
                    _bound(name, attribute.fget, owner_of),  # type: ignore[arg-type]
                    None if attribute.fset is None else _bound(name, attribute.fset, owner_of),  # type: ignore[arg-type]
                    attribute.fdel,
                    attribute.__doc__,
                )
                type.__setattr__(klass, name, bound)
        type.__setattr__(klass, _BOUND_FLAG, True)


def _bound(name: str, function: FunctionType, owner_of: Callable[[Any], Any] | None) -> Callable[..., Any]:
    if name == "save" and owner_of is None:

        @functools.wraps(function)
        def save(self: Any, *args: Any, **kwargs: Any) -> Any:
            other = self.__dict__.get(state.RECORD_KEY)
            if other is None:
                return function(self, *args, **kwargs)
            return save_into_connected(self, other)

        return save

    key = state.RECORD_KEY

    def elsewhere(self: Any, other: state.Instance, owner: Any, args: Any, kwargs: Any) -> Any:
        if state.reading_other() is other:
            return function(self, *args, **kwargs)
        with state.reading(other):
            try:
                return function(self, *args, **kwargs)
            except ReadOnlyError as e:
                if str(e) != str(other.db.read_only_error()):
                    raise  # not the other instance's refusal of a write
                raise other.db.read_only_error(f"{name}() {owner!r}") from None

    if owner_of is None:  # a record's own method: the common case stays one dict lookup

        @functools.wraps(function)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            other = self.__dict__.get(key)
            if other is None:
                return function(self, *args, **kwargs)
            return elsewhere(self, other, self, args, kwargs)

        return method

    @functools.wraps(function)
    def helper_method(self: Any, *args: Any, **kwargs: Any) -> Any:
        owner = owner_of(self)
        other = owner.__dict__.get(key)
        if other is None:
            return function(self, *args, **kwargs)
        return elsewhere(self, other, owner, args, kwargs)

    return helper_method


def save_into_connected(record: Any, other: state.Instance) -> Any:
    """`record.save()` of a record read from `other`: its copy in the connected instance."""
    changed = sorted(instance_state(record).committed_state)
    if changed:
        raise ReadOnlyError(
            f"cannot save {record!r}: it was read from instance {other.slug!r}, which is read-only here, "
            f"and its field(s) {', '.join(changed)} were changed; to change it, connect to that instance: "
            f"ln.connect({other.config.name!r}); to copy it into the connected instance, read it again "
            f"and call .save() without changing it"
        )
    transfer = TRANSFER.get("transfer")
    if transfer is None:  # pragma: no cover - models/__init__.py imports models/transfer.py
        raise NotConnected("copying records between instances needs lamella.models.transfer")
    return transfer(record)


def check_assigned(owner: Any, key: str, value: Any) -> None:
    """A relation of a record points into the record's own instance (`artifact.run = run`)."""
    if state.RECORD_KEY in value.__dict__ or state.RECORD_KEY in owner.__dict__:
        state.check_same_instance(value, state.instance_of(owner), f"{type(owner).__name__}.{key}")
