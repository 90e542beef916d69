"""Lookups written for earlier LaminDB eras, translated to today's fields (each warns once).

| old lookup | today |
|---|---|
| `filter(visibility=1)` (0.70–0.7x: 1 default, 0 hidden, -1 trash) | `branch_id=1` (main), `0` (archive), `-1` (trash) |
| `filter(visibility=2)` (before 0.70: 2 was the trash) | `branch_id=-1` |
| `filter(visibility=None)` | every branch (`branch_id=None`) |
| `Artifact.filter(name=...)` | `description=...` |
| `Collection.filter(name=...)` | `key=...` |

The registries name the old field names in `_legacy_fields`; the constructors accept them too.
"""

from __future__ import annotations

import warnings
from typing import Any

# visibility values of both old schemes -> branch ids
_VISIBILITY_TO_BRANCH = {1: 1, 0: 0, -1: -1, 2: -1}


class LegacyAPIWarning(DeprecationWarning):
    """A name or field from an earlier LaminDB era was used; the message names today's spelling."""


def warn_legacy(old: str, new: str, stacklevel: int = 2) -> None:
    """Warn that `old` is deprecated for `new`; `stacklevel` 1 is the function calling this one, 2
    its caller (the user's code, for a public function that calls this directly)."""
    warnings.warn(f"{old} is deprecated; use {new}", LegacyAPIWarning, stacklevel=stacklevel + 1)


def translate(model: Any, lookups: dict[str, Any]) -> dict[str, Any]:
    """`lookups` with old field names and values replaced by today's."""
    legacy = getattr(model, "_legacy_fields", None)
    if not legacy and "visibility" not in lookups:
        return lookups
    translated: dict[str, Any] = {}
    for lookup, value in lookups.items():
        field, _, rest = lookup.partition("__")
        if field == "visibility" and "branch_id" in model.__table__.c:
            warn_legacy("filter(visibility=...)", "filter(branch_id=...) (1 main, 0 archive, -1 trash)", 4)
            translated["branch_id" + (f"__{rest}" if rest else "")] = _branch_of(value)
        elif legacy and field in legacy:
            new = legacy[field]
            warn_legacy(f"{model.__name__}.filter({field}=...)", f"filter({new}=...)", 4)
            translated[new + (f"__{rest}" if rest else "")] = value
        else:
            translated[lookup] = value
    return translated


def _branch_of(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple | set):
        return [_VISIBILITY_TO_BRANCH.get(v, v) for v in value]
    return _VISIBILITY_TO_BRANCH.get(value, value)


def translate_arguments(model: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments with old names replaced: `name=` (see `_legacy_fields`),
    `is_new_version_of=` (-> `revises=`), `visibility=` (-> `branch_id=`)."""
    legacy = getattr(model, "_legacy_fields", None) or {}
    if not kwargs.keys() & {*legacy, "is_new_version_of", "visibility"}:
        return kwargs
    translated = dict(kwargs)
    for old, new in legacy.items():
        if old in translated:
            warn_legacy(f"{model.__name__}({old}=...)", f"{model.__name__}({new}=...)", 3)
            value = translated.pop(old)
            if translated.get(new) is None:
                translated[new] = value
    if "is_new_version_of" in translated:
        warn_legacy(f"{model.__name__}(is_new_version_of=...)", f"{model.__name__}(revises=...)", 3)
        value = translated.pop("is_new_version_of")
        if translated.get("revises") is None:
            translated["revises"] = value
    if "visibility" in translated:
        warn_legacy(f"{model.__name__}(visibility=...)", f"{model.__name__}(branch_id=...)", 3)
        translated["branch_id"] = _branch_of(translated.pop("visibility"))
    return translated


class RenamedMethod:
    """An old method name that calls today's and warns: `from_df = RenamedMethod("from_dataframe")`.

    Works for class methods (`ln.Artifact.from_df(df)`) and instance methods (`queryset.df()`).
    """

    def __init__(self, new: str) -> None:
        self.new = new
        self.old = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.old = name

    def __get__(self, instance: Any, owner: type) -> Any:
        target = getattr(owner if instance is None else instance, self.new)
        old, new = self.old, self.new

        def call(*args: Any, **kwargs: Any) -> Any:
            warn_legacy(f"{owner.__name__}.{old}()", f"{owner.__name__}.{new}()")
            return target(*args, **kwargs)

        call.__doc__ = f"Old name of `{new}()`."
        return call
