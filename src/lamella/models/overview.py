"""`ln.view()`: the latest records of every registry, printed."""

from __future__ import annotations

from typing import Any

from lamella.models.artifact.artifact import Artifact
from lamella.models.collection.collection import Collection
from lamella.models.core import describe
from lamella.models.core.instance_records import Storage, User
from lamella.models.features.feature import Feature
from lamella.models.labels.labels import Project, Record, Reference, ULabel
from lamella.models.lineage.lineage import Run, Transform
from lamella.models.schema.schema import Schema


def view(limit: int = 5, registries: list[str] | None = None) -> None:
    """Print the latest records of every registry that has any."""

    console = describe.console()
    models: list[Any] = [
        Artifact,
        Collection,
        Transform,
        Run,
        ULabel,
        Record,
        Feature,
        Schema,
        Project,
        Reference,
        Storage,
        User,
    ]
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
