"""`ln.save(records)` for many records in one transaction, and `ln.view()` of the latest records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from lamella._logging import logger


def save(records: Iterable[Any], **kwargs: Any) -> list[Any]:
    """Save many records at once: one transaction per registry, artifacts one by one (their bytes first)."""
    from lamella._instance import state
    from lamella.models.artifact import Artifact

    items = list(records)
    by_model: dict[type, list[Any]] = {}
    for record in items:
        by_model.setdefault(type(record), []).append(record)
    saved: list[Any] = []
    instance = state.current()
    for model, group in by_model.items():
        if issubclass(model, Artifact):
            saved.extend(record.save() for record in group)
            continue
        new = [r for r in group if r.__dict__.get("id") is None]
        existing = [r for r in group if r.__dict__.get("id") is not None]
        with instance.db.write(*group[0]._lock_names()) as session:
            new = _drop_names_created_meanwhile(model, new, session)
            for record in new:
                record._fill_defaults(instance)
                record._before_insert(session)
            session.add_all(new)
            session.add_all(existing)
            session.flush()
        saved.extend(group)
    return saved


def _drop_names_created_meanwhile(model: type, records: list[Any], session: Any) -> list[Any]:
    """Named registries: skip records whose name another process saved since they were constructed."""
    name_field = getattr(model, "_name_field", None)
    if name_field is None or not records:
        return records
    column = getattr(model, name_field)
    has_type = "type_id" in model.__table__.c  # type: ignore[attr-defined]
    keys = {(r.__dict__.get(name_field), r.__dict__.get("type_id") if has_type else None) for r in records}
    taken: set[tuple[Any, Any]] = set()
    names = [k[0] for k in keys if isinstance(k[0], str)]
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        columns = [column, model.type_id] if has_type else [column]  # type: ignore[attr-defined]
        where = [column.in_(chunk)]
        if "branch_id" in model.__table__.c:  # type: ignore[attr-defined]
            where.append(model.branch_id == 1)  # type: ignore[attr-defined]
        for row in session.execute(select(*columns).where(*where)):
            taken.add((row[0], row[1] if has_type else None))
    if not taken:
        return records
    keep, seen = [], set()
    for record in records:
        key = (record.__dict__.get(name_field), record.__dict__.get("type_id") if has_type else None)
        if key in taken or key in seen:
            continue
        seen.add(key)
        keep.append(record)
    skipped = len(records) - len(keep)
    if skipped:
        logger.info(f"{skipped} {model.__name__} record(s) already existed by name and were not saved again")
    return keep



def view(limit: int = 5, registries: list[str] | None = None) -> None:
    """Print the latest records of every registry that has any."""
    import sys

    from rich.console import Console

    from lamella.models import Artifact, Collection, Feature, Project, Record, Reference, Run, Schema, Transform
    from lamella.models import ULabel, User  # noqa: I001
    from lamella.models.core import Storage

    console = Console(file=sys.stdout, highlight=False)
    models = [Artifact, Collection, Transform, Run, ULabel, Record, Feature, Schema, Project, Reference, Storage,
              User]
    for model in models:
        if registries is not None and model.__name__ not in registries:
            continue
        qs = model.filter().order_by("-id")
        total = qs.count()
        if total == 0:
            continue
        df = qs[:limit].to_dataframe()
        console.print(f"[bold]{model.__name__}[/bold] ({total} in all, latest {min(limit, total)})")
        console.print(df.to_string(max_colwidth=40))
        console.print()
