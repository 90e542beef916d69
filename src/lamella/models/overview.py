"""`ln.view()`: the latest records of every registry, printed."""

from __future__ import annotations

from typing import Any

from lamella._instance import state
from lamella._instance.config import OPTIONAL_MODULES
from lamella._query.legacy_lookups import warn_legacy
from lamella._query.relations import MODELS
from lamella.models.artifact.artifact import Artifact
from lamella.models.collection.collection import Collection
from lamella.models.core import describe
from lamella.models.core.instance_records import Storage, User
from lamella.models.core.record import SQLRecord
from lamella.models.features.feature import Feature
from lamella.models.labels.labels import Project, Record, Reference, ULabel
from lamella.models.lineage.lineage import Run, Transform
from lamella.models.schema.schema import Schema

# registry names of earlier LaminDB eras that `registries=` still takes
_OLD_NAMES = {"FeatureSet": "Schema", "File": "Artifact", "Dataset": "Collection", "Label": "ULabel"}


def view(limit: int = 5, registries: list[str] | None = None) -> None:
    """Print the latest records of every registry that has any: the core ones first, then those of
    the modules the instance uses (bionty's genes, cell types, ...)."""

    if registries is not None:
        for old in [r for r in registries if r in _OLD_NAMES]:
            warn_legacy(f"ln.view(registries=[{old!r}])", f"ln.view(registries=[{_OLD_NAMES[old]!r}])")
        registries = [_OLD_NAMES.get(r, r) for r in registries]
    console = describe.console()
    instance = state.current()
    core: list[Any] = [
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
    modules = [
        m
        for m in MODELS.values()
        if isinstance(m, type)
        and issubclass(m, SQLRecord)
        and "__table__" in m.__dict__
        and m not in core
        and m.__tablename__.split("_", 1)[0] in OPTIONAL_MODULES  # a module's registry: bionty_celltype
        and instance.has_table(m.__tablename__)
    ]
    for model in [*core, *sorted(modules, key=lambda m: m.__tablename__)]:
        name = model.__name__ if model in core else f"{model.__tablename__.split('_', 1)[0]}.{model.__name__}"
        if registries is not None and model.__name__ not in registries and name not in registries:
            continue
        qs = model.filter().order_by("-id")
        total = qs.count()
        if total == 0:
            continue
        df = qs[:limit].to_dataframe()
        console.print(f"[bold]{name}[/bold] ({total} in all, latest {min(limit, total)})")
        console.print(df.to_string(max_colwidth=40))
        console.print()
