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
