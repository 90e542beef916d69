"""To-many relations that the query compiler and the relation managers understand.

SQLAlchemy relationships cover the to-one side (`artifact.run`). For to-many relations we keep our
own descriptors because link tables carry extra columns (the feature of an artifact–label link) and
because users expect Django-style managers (`artifact.ulabels.add(...)`), not plain lists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lamella.errors import InvalidArgument

if TYPE_CHECKING:
    from lamella._query.managers import LinkManager, ReverseManager

# every mapped registry by class name, filled by the model base class
MODELS: dict[str, type] = {}
# what `record.<to-many relation>` returns, by relation kind: registered by `managers.py`, which sits
# above this module because managers build QuerySets, and QuerySets compile relations
MANAGERS: dict[str, Any] = {}


# modules whose registries are defined when one of them is first asked for (the link tables: no
# query needs them until it follows a to-many relation, and defining them costs a fifth of the import)
_DEFERRED: list[Callable[[], object]] = []
# held while they are defined: a thread asking meanwhile waits for them instead of missing them
_DEFINING = threading.RLock()


def defer(define: Callable[[], object]) -> None:
    """Have `define()` (an import of a module of registries) run when a registry it defines is needed."""
    _DEFERRED.append(define)


def _define_deferred() -> None:
    with _DEFINING:
        while _DEFERRED:
            _DEFERRED.pop(0)()


def model(name: str) -> Any:
    """The registry class called `name`; every registry is listed once its module is imported."""
    try:
        return MODELS[name]
    except KeyError:
        _define_deferred()
        if name in MODELS:
            return MODELS[name]
        known = ", ".join(sorted(MODELS)) or "none yet"
        raise InvalidArgument(f"no registry named {name!r} (registries: {known})") from None


def find_model(name: str) -> Any | None:
    """The registry class called `name`, or None when there is none."""
    if name not in MODELS:
        _define_deferred()
    return MODELS.get(name)


def every_model() -> dict[str, type]:
    """Every registry by class name, the deferred ones included."""
    _define_deferred()
    return MODELS


@dataclass
class ManyToMany:
    """`owner.<name>` ↔ `target` through `link`, whose columns `self_key`/`target_key` point at them."""

    target: str
    link: str
    self_key: str
    target_key: str
    name: str = ""
    owner: type | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.owner = owner
        relations = dict(getattr(owner, "_relations", {}))
        relations[name] = self
        owner._relations = relations  # type: ignore[attr-defined]

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self

        manager: LinkManager = MANAGERS["many_to_many"](instance, self)
        return manager

    @property
    def target_model(self) -> Any:
        return model(self.target)

    @property
    def link_model(self) -> Any:
        return model(self.link)


@dataclass
class ReverseForeignKey:
    """`owner.<name>`: the `target` records whose column `fk` points at this record."""

    target: str
    fk: str
    name: str = ""
    owner: type | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.owner = owner
        relations = dict(getattr(owner, "_relations", {}))
        relations[name] = self
        owner._relations = relations  # type: ignore[attr-defined]

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self

        manager: ReverseManager = MANAGERS["reverse_foreign_key"](instance, self)
        return manager

    @property
    def target_model(self) -> Any:
        return model(self.target)
