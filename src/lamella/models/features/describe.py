"""The "Feature sets" and "Features" sections of `describe()`."""

from __future__ import annotations

from typing import Any

from lamella.models.core.describe import escape, fmt
from lamella.models.features.stores import features_by_name


def add_features(tree: Any, record: Any) -> None:
    """A "Features" branch: feature sets by slot, then each feature's dtype and values."""
    manager = record.features
    slots = manager.slots
    if slots:
        sets = tree.add("[bold]Feature sets[/bold]")
        for slot, schema in slots.items():
            names = [f.name for f in schema.features.all()[:30]] if schema.itype in (None, "Feature") else []
            title = f"{slot}: {escape(schema.name or schema.uid)} ({schema.n} {schema.itype or 'Feature'})"
            branch = sets.add(title)
            if names:
                branch.add(escape(", ".join(names) + (" …" if schema.n > len(names) else "")))
    values = manager.get_values()
    if not values:
        return
    dtypes = _dtypes_by_name(list(values))
    branch = tree.add("[bold]Features[/bold]")
    for name, value in values.items():
        shown = ", ".join(fmt(v) for v in value) if isinstance(value, list) else fmt(value)
        branch.add(escape(f"{name} ({dtypes.get(name, '?')}) = {shown}"))


def _dtypes_by_name(names: list[str]) -> dict[str, str | None]:

    return {name: feature.dtype for name, feature in features_by_name(names).items()}
