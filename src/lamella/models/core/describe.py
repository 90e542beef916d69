"""`describe()`: a readable tree of a record's main fields and its links; registries add sections
(features, storage) by overriding `_describe_sections`."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lamella.models.core.record import SQLRecord


def fmt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str):
        return repr(value)
    return str(value)


# rich renders every describe() and ln.view(); it is imported on the first of them only, through these
# three functions, so querying never pays for it


def new_tree(title: str) -> Any:
    """A rich `Tree` with `title` (rich markup)."""
    from rich.tree import Tree

    return Tree(title)


def escape(text: str) -> str:
    """`text` with rich markup escaped, so square brackets print as written."""
    from rich import markup

    return markup.escape(text)


def console() -> Any:
    """A rich console on stdout: a wide virtual terminal when output is captured or piped, so paths
    are never cut off."""
    from rich.console import Console

    width = None if sys.stdout.isatty() else 250
    return Console(file=sys.stdout, width=width, highlight=False)


def print_tree(tree: Any) -> None:
    console().print(tree)


def add_links(tree: Any, record: SQLRecord) -> None:
    labels = None
    for name in ("ulabels", "records", "projects", "references"):
        relation = type(record)._relations.get(name)
        if relation is None:
            continue
        values = getattr(record, name).all().to_list(_label_field(relation.target_model))
        if values:
            labels = labels or tree.add("[bold]Labels[/bold]")
            labels.add(
                f".{name} = {', '.join(repr(v) for v in values[:20])}{' …' if len(values) > 20 else ''}"
            )


def _label_field(model: Any) -> str:
    return "name" if "name" in model.__table__.c else "uid"


def describe_record(record: SQLRecord) -> None:
    tree = new_tree(f"[bold]{type(record).__name__}[/bold]")
    general = tree.add("[bold]General[/bold]")
    for column in record.__table__.c:
        if column.key == "id" or column.key.startswith("_"):
            continue
        value = getattr(record, column.key, None)
        if value is not None:
            general.add(f".{column.key} = {fmt(value)}")
    if record.__dict__.get("id") is not None:
        record._describe_sections(tree)
        add_links(tree, record)
    print_tree(tree)


def registry_overview(registry: type) -> str:
    """What `ln.Artifact` shows (its repr): the registry's fields, as LaminDB lists them.

    Simple fields (columns, without ids and private ones), then the relations to core registries,
    then those of each module (`Bionty fields`: `.cell_types: bionty.CellType`).
    """
    table = getattr(registry, "__table__", None)
    if table is None:  # an abstract base
        return f"<registry {registry.__name__}>"
    lines = [f"{registry.__module__}.{registry.__qualname__}", "  Simple fields"]
    for column in table.columns:
        if column.key == "id" or column.key.startswith("_") or column.foreign_keys:
            continue
        lines.append(f"    .{column.key}: {_python_type_name(column.type)}")
    groups: dict[str, list[str]] = {}
    to_one = [(r.key, r.mapper.class_) for r in registry.__mapper__.relationships]  # type: ignore[attr-defined]
    to_many = [
        (name, relation.target_model) for name, relation in getattr(registry, "_relations", {}).items()
    ]
    for name, target in [*to_one, *to_many]:
        if name.startswith("_"):
            continue
        module = target.__module__.split(".")
        owner = module[1] if len(module) > 1 and module[1] != "models" else ""
        shown = f"{owner}.{target.__name__}" if owner else target.__name__
        groups.setdefault(owner, []).append(f"    .{name}: {shown}")
    for owner in sorted(groups, key=lambda o: (o != "", o)):
        lines.append(f"  {owner.capitalize() + ' fields' if owner else 'Relational fields'}")
        lines.extend(groups[owner])
    return "\n".join(lines)


def _python_type_name(column_type: Any) -> str:
    for candidate in (column_type, getattr(column_type, "impl", column_type)):  # a TypeDecorator's store
        try:
            python_type = candidate.python_type
        except (AttributeError, NotImplementedError):  # a type of ours without a Python type (JSON)
            continue
        if python_type is not object:
            return str(python_type.__name__)
    return type(column_type).__name__
