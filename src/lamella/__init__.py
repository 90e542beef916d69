"""Lamella: data framework for computational biology.

`import lamella as ln` is cheap and has no side effects: the registries, the database and the heavy
libraries are loaded on first use. The first use connects to the current instance (creating an
embedded default instance if there is none).

    >>> import lamella as ln
    >>> artifact = ln.Artifact.from_dataframe(df, key="my_datasets/rnaseq1.parquet").save()
    >>> ln.Artifact.filter(key__startswith="my_datasets/").to_dataframe()
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lamella._gc import import_long_lived as _import
from lamella._instance.hooks import hooks as _hooks

__version__ = "0.1.0"

# public name -> (module, attribute); resolved on first access so `import lamella` stays fast
_LAZY: dict[str, tuple[str, str]] = {
    "Artifact": ("lamella.models", "Artifact"),
    "Branch": ("lamella.models", "Branch"),
    "Collection": ("lamella.models", "Collection"),
    "DB": ("lamella._setup.using", "DB"),
    "Feature": ("lamella.models", "Feature"),
    "FeatureValue": ("lamella.models", "FeatureValue"),
    "Project": ("lamella.models", "Project"),
    "Q": ("lamella._query", "Q"),
    "QuerySet": ("lamella._query", "QuerySet"),
    "Record": ("lamella.models", "Record"),
    "Reference": ("lamella.models", "Reference"),
    "Run": ("lamella.models", "Run"),
    "Schema": ("lamella.models", "Schema"),
    "Space": ("lamella.models", "Space"),
    "Storage": ("lamella.models", "Storage"),
    "Transform": ("lamella.models", "Transform"),
    "ULabel": ("lamella.models", "ULabel"),
    "UPath": ("lamella._storage", "UPath"),
    "User": ("lamella.models", "User"),
    "connect": ("lamella._setup.connect", "connect"),
    "context": ("lamella._tracking", "context"),
    "curators": ("lamella.curators", ""),
    "errors": ("lamella.errors", ""),
    "examples": ("lamella.examples", ""),
    "finish": ("lamella._tracking", "finish"),
    "flow": ("lamella._tracking", "flow"),
    "save": ("lamella.models", "save"),
    "settings": ("lamella._setup.settings", "settings"),
    "setup": ("lamella._setup.setup_facade", ""),
    "step": ("lamella._tracking", "step"),
    "track": ("lamella._tracking", "track"),
    "tracked": ("lamella._tracking", "tracked"),
    "ui": ("lamella.ui", "ui"),
    "view": ("lamella.models", "view"),
}

# old spellings that keep working; accessing them warns with the new spelling
_DEPRECATED: dict[str, tuple[str, str]] = {
    "FeatureSet": ("Schema", "lamella.models"),
}

# names of earlier LaminDB eras (lamella/_legacy.py): they warn when used, not when looked up, so
# `ln.select(ln.File, ...)` warns once; `ln.schema` is lnschema_core's registries under old names
_LEGACY = ("File", "Dataset", "add", "schema", "select")

# old namespaces (lamella/_deprecated_namespaces.py): each name read from them warns
_OLD_NAMESPACES = ("core", "dev")

__all__ = sorted([*_LAZY, "__version__"])


def _import_on_call(module_name: str, attr: str) -> Callable[..., Any]:
    """A function that imports `module_name` on its first call and calls its `attr`."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_import(module_name), attr)(*args, **kwargs)

    return call


def _curator_class(name: str) -> type:
    curators = _import("lamella.curators")
    return getattr(curators, name)


# the calls lower layers make upward (see lamella/_instance/hooks.py), filled without importing anything heavy
_hooks.connect = _import_on_call("lamella._setup.connect", "autoconnect")
_hooks.open_other = _import_on_call("lamella._setup.using", "open_other")
_hooks.curator = _curator_class


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name, attr = _LAZY[name]
        module = _import(module_name)
        value = getattr(module, attr) if attr else module
        globals()[name] = value
        return value
    if name in _LEGACY:
        return getattr(importlib.import_module("lamella._legacy"), name)
    if name in _OLD_NAMESPACES:
        return getattr(importlib.import_module("lamella._deprecated_namespaces"), name)
    if name in _DEPRECATED:
        new, module_name = _DEPRECATED[name]
        warnings.warn(f"ln.{name} is deprecated; use ln.{new}", DeprecationWarning, stacklevel=2)
        module = importlib.import_module(module_name)
        return getattr(module, name)
    raise AttributeError(f"module 'lamella' has no attribute {name!r}")


def __dir__() -> list[str]:
    return [*__all__, *_DEPRECATED, *_LEGACY, *_OLD_NAMESPACES]


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from lamella import errors as errors
    from lamella import examples as examples
    from lamella._query import Q as Q
    from lamella._query import QuerySet as QuerySet
    from lamella._setup import setup_facade as setup  # noqa: F401
    from lamella._setup.connect import connect as connect
    from lamella._setup.settings import settings as settings
    from lamella._setup.using import DB as DB
    from lamella._storage import UPath as UPath
    from lamella._tracking import finish as finish
    from lamella._tracking import flow as flow
    from lamella._tracking import step as step
    from lamella._tracking import track as track
    from lamella._tracking import tracked as tracked
    from lamella._tracking.context import context as context
    from lamella.models import (
        Artifact as Artifact,
    )
    from lamella.models import (
        Branch as Branch,
    )
    from lamella.models import (
        Collection as Collection,
    )
    from lamella.models import (
        Feature as Feature,
    )
    from lamella.models import (
        FeatureValue as FeatureValue,
    )
    from lamella.models import (
        Project as Project,
    )
    from lamella.models import (
        Record as Record,
    )
    from lamella.models import (
        Reference as Reference,
    )
    from lamella.models import (
        Run as Run,
    )
    from lamella.models import (
        Schema as Schema,
    )
    from lamella.models import (
        Space as Space,
    )
    from lamella.models import (
        Storage as Storage,
    )
    from lamella.models import (
        Transform as Transform,
    )
    from lamella.models import (
        ULabel as ULabel,
    )
    from lamella.models import (
        User as User,
    )
    from lamella.models import save as save
    from lamella.models import view as view
    from lamella.ui import ui as ui
