"""Other instances on this machine, read beside the connection: `ln.Artifact.using("name")`, `ln.DB`.

An instance is named as `lamella list` shows it, or as "owner/name" (the owner being this machine's
user, as `lamella info` shows it). It is opened once per process, read-only (SQLite `mode=ro`,
PostgreSQL `default_transaction_read_only`), with an engine and sessions of its own, and kept in
`state.process.others`; the connection (`state.process.instance`, the settings' current instance)
never changes. Its records carry it (`models/core/other_instances.py`).
"""

from __future__ import annotations

import importlib
from typing import Any

from lamella._instance import config as cfg
from lamella._instance import state
from lamella._setup import connect
from lamella.errors import InvalidArgument, NotConnected
from lamella.models import SQLRecord


def resolve(identifier: str) -> cfg.InstanceConfig:
    """The config of the instance `identifier` names ("name" or "owner/name"); NotConnected lists the known ones."""
    if not isinstance(identifier, str) or not identifier.strip():
        raise InvalidArgument(
            f"name an instance as `lamella list` shows it, or as 'owner/name', not {identifier!r}"
        )
    text = identifier.strip()
    owner, _, name = text.rpartition("/")
    handle = cfg.read_user().handle
    config = None
    if not owner or owner == handle:
        try:
            config = cfg.InstanceConfig.load(cfg.validate_instance_name(name))
        except InvalidArgument:
            config = None
    if config is not None:
        return config
    names = [c.name for c in cfg.list_instance_configs()]
    known = ", ".join(f"{n} ({handle}/{n})" for n in names) if names else "none yet"
    whose = (
        f"the instances on this machine belong to {handle!r}, not {owner!r}; "
        if owner and owner != handle
        else ""
    )
    raise NotConnected(
        f"no instance {text!r} on this machine: {whose}known instances: {known}. "
        f"Create one with `lamella init --storage PATH --name NAME`"
    )


def open_other(identifier: str) -> state.Instance:
    """The instance `identifier` names, opened read-only beside the connection (once per process).

    The connected instance itself when it is the one named: its records are the connection's.
    """
    config = resolve(identifier)
    connected = state.process.instance
    if connected is not None and connected.config.uid == config.uid:
        return connected
    with state.process.lock:
        instance = state.process.others.get(config.uid)
        if instance is None:
            instance = connect._open(config, create=False, other=True)
            state.process.others[config.uid] = instance
    return instance


def _registries(module_name: str) -> dict[str, type]:
    """The registries a module exports (`lamella.models`, `lamella.bionty`), by name; no aliases."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", [])
    found = {}
    for name in names:
        value = getattr(module, name, None)
        if (
            isinstance(value, type)
            and issubclass(value, SQLRecord)
            and value.__name__ == name
            and getattr(value, "__tablename__", None)
        ):
            found[name] = value
    return found


class _Registries:
    """The registries of one module of another instance: `db.Artifact`, `db.bionty.CellType`."""

    def __init__(self, instance: state.Instance, module_name: str, what: str) -> None:
        self._instance = instance
        self._module_name = module_name
        self._what = what

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never looked up here (copy and pickle probe them before __init__)
            raise AttributeError(name)
        registries = _registries(self._module_name)
        if name not in registries:
            raise AttributeError(
                f"{self._what} has no registry {name!r}; registries: {', '.join(sorted(registries))}"
            )
        return registries[name]._using(self._instance)  # type: ignore[attr-defined]

    def __dir__(self) -> list[str]:
        return sorted(_registries(self._module_name))


class DB(_Registries):
    """Another instance on this machine, read-only: one attribute per registry.

    >>> db = ln.DB("owner/name")
    >>> db.Artifact.filter(key__startswith="raw/").to_dataframe()
    >>> db.bionty.CellType.search("T cell")
    >>> artifact = db.Artifact.get(key="raw/a.csv"); artifact.load()
    >>> artifact.save()  # copied into the connected instance, with its transform and run
    """

    def __init__(self, instance: str) -> None:
        other = open_other(instance)
        super().__init__(other, "lamella.models", f"ln.DB({instance!r})")
        self._identifier = instance

    def __getattr__(self, name: str) -> Any:
        if name in cfg.OPTIONAL_MODULES:
            if name not in self._instance.config.modules:
                raise NotConnected(
                    f"instance {self._instance.slug!r} does not use the module {name!r}; "
                    f"its modules: {', '.join(self._instance.config.modules) or 'none'}"
                )
            return _Registries(self._instance, f"lamella.{name}", f"ln.DB({self._identifier!r}).{name}")
        return super().__getattr__(name)

    def __dir__(self) -> list[str]:
        return sorted([*super().__dir__(), *self._instance.config.modules])

    def __repr__(self) -> str:
        mode = "" if self._instance.other else ", the connected instance"
        return f"DB({self._instance.slug!r}{mode})"


DB.__module__ = "lamella"
