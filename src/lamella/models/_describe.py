"""`describe()`: a readable tree of a record's main fields, its provenance and its links."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from lamella.errors import StorageError

if TYPE_CHECKING:
    from lamella.models._base import SQLRecord
    from lamella.models.artifact import Artifact


def _fmt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _print(tree: Any) -> None:
    import sys

    from rich.console import Console

    # a wide virtual terminal when output is captured or piped, so paths are never cut off
    width = None if sys.stdout.isatty() else 250
    Console(file=sys.stdout, width=width, highlight=False).print(tree)


def describe_artifact(artifact: Artifact) -> None:
    from rich.tree import Tree

    kind = "/".join(x for x in (artifact.suffix or "folder", artifact.otype) if x)
    tree = Tree(f"[bold]Artifact[/bold] {kind}")
    general = tree.add("[bold]General[/bold]")
    for field in (
        "uid",
        "key",
        "description",
        "kind",
        "size",
        "hash",
        "n_files",
        "n_observations",
        "version_tag",
    ):
        value = getattr(artifact, field)
        if value is not None:
            general.add(f".{field} = {_fmt(value)}")
    general.add(f".is_latest = {artifact.is_latest}")
    if artifact.id is not None:
        try:
            general.add(f".path = {artifact.path}")
        except StorageError as e:  # a record edited to point outside its storage: say so, show the rest
            from rich.markup import escape

            general.add(f".path = [red]{escape(str(e))}[/red]")
        general.add(f".storage = {artifact.storage.root}")
        general.add(f".created_by = {artifact.created_by.handle}")
        general.add(f".created_at = {_fmt(artifact.created_at)}")
        if artifact.branch_id != 1:
            general.add(f".branch = {'trash' if artifact.branch_id == -1 else 'archive'}")
    provenance = tree.add("[bold]Provenance[/bold]")
    if artifact.id is not None and artifact.run_id is not None:
        run = artifact.run
        assert run is not None
        transform = run.transform
        provenance.add(f".transform = {_fmt(transform.key)} ({transform.kind}, {transform.uid})")
        provenance.add(f".run = {run.uid} started {_fmt(run.started_at)}")
    else:
        provenance.add("no run: saved outside ln.track()")
    if artifact.id is not None:
        add_features(tree, artifact)
        _add_links(tree, artifact)
    _print(tree)


def _add_links(tree: Any, record: SQLRecord) -> None:
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


def add_features(tree: Any, record: Any) -> None:
    """A "Features" branch: feature sets by slot, then each feature's dtype and values."""
    from rich.markup import escape

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
        shown = ", ".join(_fmt(v) for v in value) if isinstance(value, list) else _fmt(value)
        branch.add(escape(f"{name} ({dtypes.get(name, '?')}) = {shown}"))


def _dtypes_by_name(names: list[str]) -> dict[str, str | None]:
    from lamella.models._feature_stores import features_by_name

    return {name: feature.dtype for name, feature in features_by_name(names).items()}


def _label_field(model: Any) -> str:
    return "name" if "name" in model.__table__.c else "uid"


def describe_record(record: SQLRecord) -> None:
    from rich.tree import Tree

    tree = Tree(f"[bold]{type(record).__name__}[/bold]")
    general = tree.add("[bold]General[/bold]")
    for column in record.__table__.c:
        if column.key == "id" or column.key.startswith("_"):
            continue
        value = getattr(record, column.key, None)
        if value is not None:
            general.add(f".{column.key} = {_fmt(value)}")
    if record.__dict__.get("id") is not None:
        from lamella.models._labels import HasFeatures

        if isinstance(record, HasFeatures):
            add_features(tree, record)
        _add_links(tree, record)
    _print(tree)
