"""Names of earlier LaminDB eras, kept as thin aliases of today's API; each warns once with the new one.

| old name | today |
|---|---|
| `ln.File(data, name=...)`, `File.from_dir(path)` | `ln.Artifact(data, description=...)`, one artifact per file of the folder |
| `ln.Dataset(data | artifacts, name=..., version=..., meta=...)` | `ln.Collection(artifacts, key=..., version=..., meta_artifact=...)` |
| `ln.Dataset.from_df(df)`, `ln.Dataset.from_anndata(adata)` | `ln.Collection(ln.Artifact.from_dataframe(df))`, … |
| `dataset.file`, `dataset.files`, `dataset.backed()` | `collection.data_artifact`, `collection.artifacts`, `.open()` |
| `ln.add(record | records)` | `record.save()`, `ln.save(records)` |
| `ln.select(Registry, **lookups)` | `Registry.filter(**lookups)` |
| `ln.FeatureSet(features)` | `ln.Schema(features)` |
| `is_new_version_of=`, `name=`, `visibility=` | `revises=`, `description=`/`key=`, `branch_id=` (see `_query/legacy_lookups.py`) |
| `ln.schema.Notebook`, `ln.schema.Pipeline` (lnschema_core) | `ln.Transform(..., kind="notebook")`, `kind="pipeline"` |
| `ln.schema.File`, `.DObject`, `.DFolder`, `.Dataset`, `.Label`, `.FeatureSet` | `ln.Artifact`, `ln.Collection`, `ln.ULabel`, `ln.Schema` |
| `ln.schema.<Registry>` (`Transform`, `Run`, `Storage`, `User`, ...) | `ln.<Registry>` |
| `ln.core.run_context`, `ln.dev.run_context` | `ln.context` (in `_deprecated_namespaces.py`, with `ln.core.datasets`) |

Old lookups and constructor arguments are translated by `lamella._query.legacy_lookups`. Every old name
warns when it is used (called, or an attribute read), once per use, at the user's line; looking a
renamed registry up (`ln.schema.File`) does not warn by itself, so `ln.select(ln.schema.File, ...)`
warns once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamella._query.legacy_lookups import warn_legacy
from lamella.errors import InvalidArgument
from lamella.models import PUBLIC_REGISTRIES, Artifact, Collection, Schema, Transform, ULabel, save


class RegistryAlias:
    """An old registry name: calling it constructs today's registry, its attributes are today's, and
    `isinstance(record, alias)` and `ln.select(alias, ...)` work on today's registry.

    `kind`: the old name was a registry of its own for one kind of today's (`ln.schema.Notebook`,
    transforms of kind "notebook"): construction sets it, `filter()` and `isinstance` check it.
    """

    def __init__(self, old: str, target: type, constructor: Any, *, kind: str | None = None) -> None:
        self._old = old
        self._target = target
        self._constructor = constructor
        self._kind = kind

    def _today(self, suffix: str) -> str:
        """Today's spelling: `ln.Artifact` + suffix; a call of a kind alias names the kind."""
        name = f"ln.{self._target.__name__}"
        if suffix == "(...)" and self._kind is not None:
            return f"{name}(..., kind={self._kind!r})"
        return name + suffix

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        warn_legacy(f"ln.{self._old}(...)", self._today("(...)"))
        return self._constructor(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        extra = _EXTRA.get((self._old, name))
        if extra is not None:
            return extra
        if name.startswith("_"):  # protocols and introspection, not the user's code
            return getattr(self._target, name)
        if self._kind is not None and name == "filter":
            warn_legacy(
                f"ln.{self._old}.filter(...)", f"ln.{self._target.__name__}.filter(kind={self._kind!r}, ...)"
            )
            return self._filter_kind
        warn_legacy(f"ln.{self._old}.{name}", f"ln.{self._target.__name__}.{name}")
        return getattr(self._target, name)

    def _filter_kind(self, *queries: Any, **lookups: Any) -> Any:
        return self._target.filter(*queries, **{"kind": self._kind, **lookups})  # type: ignore[attr-defined]

    def __instancecheck__(self, instance: Any) -> bool:
        if self._kind is not None:
            return isinstance(instance, self._target) and getattr(instance, "kind", None) == self._kind
        return isinstance(instance, self._target)

    def __repr__(self) -> str:
        return f"<ln.{self._old}: the old name of {self._today('')}>"


def registry_of(model: Any) -> Any:
    return model._target if isinstance(model, RegistryAlias) else model


# --- File ------------------------------------------------------------------------------------------


def _artifact_from_data(data: Any, **kwargs: Any) -> Artifact:
    kind = type(data).__name__
    if kind == "DataFrame":
        return Artifact.from_dataframe(data, **kwargs)
    if kind == "AnnData":
        return Artifact.from_anndata(data, **kwargs)
    if kind == "MuData":
        return Artifact.from_mudata(data, **kwargs)
    return Artifact(data, **kwargs)


def _new_file(data: Any, *, name: str | None = None, **kwargs: Any) -> Any:
    previous = kwargs.get("is_new_version_of")
    if isinstance(previous, Collection):  # 0.x docs version a dataset through File(...)
        return _new_dataset(data, name, **kwargs)
    if name is not None and kwargs.get("description") is None:
        kwargs["description"] = name
    return _artifact_from_data(data, **kwargs)


def _file_from_dir(path: str | Path, *, key: str | None = None, **kwargs: Any) -> list[Artifact]:
    """One unsaved artifact per file below `path`, keyed by its path relative to `path`'s parent."""
    warn_legacy("ln.File.from_dir(path)", "ln.Artifact(path) (one artifact for the folder)")
    folder = Path(path)
    if not folder.is_dir():
        raise InvalidArgument(f"File.from_dir() takes a folder; {str(folder)!r} is not one")
    prefix = key if key is not None else folder.name
    return [
        Artifact(file, key=f"{prefix}/{file.relative_to(folder).as_posix()}", **kwargs)
        for file in sorted(folder.rglob("*"))
        if file.is_file()
    ]


# --- Dataset ---------------------------------------------------------------------------------------


def _new_dataset(
    data: Any,
    name: str | None = None,
    version: str | None = None,
    meta: Any = None,
    *,
    description: str | None = None,
    key: str | None = None,
    is_new_version_of: Collection | None = None,
    revises: Collection | None = None,
    **kwargs: Any,
) -> Collection:
    key = key if key is not None else name
    revises = revises if revises is not None else is_new_version_of
    if isinstance(data, Artifact):
        artifacts = [data]
    elif isinstance(data, list | tuple) and data and all(isinstance(a, Artifact) for a in data):
        artifacts = list(data)
    else:  # one data object: its artifact is saved with the collection
        previous = revises.data_artifact if revises is not None else None
        artifacts = [_artifact_from_data(data, description=description or key, revises=previous)]
    if key is None and description is None:
        description = artifacts[0].description
    if version is not None:
        kwargs["version"] = version
    meta_artifact = (
        _artifact_from_data(meta, description=f"metadata of {key or description}")
        if meta is not None
        else None
    )
    return Collection(
        artifacts,
        key=key,
        description=description,
        revises=revises,
        meta_artifact=meta_artifact,
        _save_artifacts=True,
        **kwargs,
    )


def _dataset_from_df(df: Any, name: str | None = None, **kwargs: Any) -> Collection:
    warn_legacy("ln.Dataset.from_df(df)", "ln.Collection(ln.Artifact.from_dataframe(df).save())")
    return _new_dataset(df, name, **kwargs)


def _dataset_from_anndata(
    adata: Any, name: str | None = None, field: Any = None, **kwargs: Any
) -> Collection:
    warn_legacy("ln.Dataset.from_anndata(adata)", "ln.Collection(ln.Artifact.from_anndata(adata).save())")
    return _new_dataset(adata, name, **kwargs)


File = RegistryAlias("File", Artifact, _new_file)
Dataset = RegistryAlias("Dataset", Collection, _new_dataset)
_EXTRA: dict[tuple[str, str], Any] = {
    ("File", "from_dir"): _file_from_dir,
    ("Dataset", "from_df"): _dataset_from_df,
    ("Dataset", "from_anndata"): _dataset_from_anndata,
    ("schema.File", "from_dir"): _file_from_dir,
    ("schema.Dataset", "from_df"): _dataset_from_df,
    ("schema.Dataset", "from_anndata"): _dataset_from_anndata,
}


# --- ln.schema: the registries of lnschema_core (LaminDB 0.x) --------------------------------------


def _transform_of_kind(kind: str) -> Any:
    """The constructor of 0.x's `Notebook` / `Pipeline`: a transform of that kind (`title=`: the
    description, `v=`: the version tag)."""

    def construct(*args: Any, **kwargs: Any) -> Transform:
        if "title" in kwargs:
            title = kwargs.pop("title")
            kwargs.setdefault("description", title)
        if "v" in kwargs:
            kwargs.setdefault("version", kwargs.pop("v"))
        return Transform(*args, **{**kwargs, "kind": kind})

    return construct


class SchemaNamespace:
    """`ln.schema`: lnschema_core's registries under their old names, each warning with today's."""

    _RENAMED: dict[str, RegistryAlias] = {
        "Notebook": RegistryAlias(
            "schema.Notebook", Transform, _transform_of_kind("notebook"), kind="notebook"
        ),
        "Pipeline": RegistryAlias(
            "schema.Pipeline", Transform, _transform_of_kind("pipeline"), kind="pipeline"
        ),
        "File": RegistryAlias("schema.File", Artifact, _new_file),
        "DObject": RegistryAlias("schema.DObject", Artifact, _new_file),
        "DFolder": RegistryAlias("schema.DFolder", Artifact, _new_file),
        "Dataset": RegistryAlias("schema.Dataset", Collection, _new_dataset),
        "Label": RegistryAlias("schema.Label", ULabel, ULabel),
        "FeatureSet": RegistryAlias("schema.FeatureSet", Schema, Schema),
    }
    _SAME: dict[str, type] = {registry.__name__: registry for registry in PUBLIC_REGISTRIES}

    def __getattr__(self, name: str) -> Any:
        alias = self._RENAMED.get(name)
        if alias is not None:
            return alias  # warns when called or its attributes are read
        registry = self._SAME.get(name)
        if registry is not None:
            warn_legacy(f"ln.schema.{name}", f"ln.{name}")
            return registry
        raise AttributeError(
            f"ln.schema (lnschema_core's registries) has no {name!r}; today's registries are "
            f"{', '.join(f'ln.{n}' for n in sorted(self._SAME))}"
        )

    def __dir__(self) -> list[str]:
        return sorted([*self._RENAMED, *self._SAME])

    def __repr__(self) -> str:
        return "<ln.schema: the registries of LaminDB 0.x (lnschema_core); today they are ln.Artifact, ...>"


schema = SchemaNamespace()


# --- functions -------------------------------------------------------------------------------------


def add(records: Any, **kwargs: Any) -> Any:
    """`ln.add(record)` saved one record, `ln.add([records])` many."""
    if isinstance(records, list | tuple):
        warn_legacy("ln.add(records)", "ln.save(records)")
        return save(records)
    warn_legacy("ln.add(record)", "record.save()")
    return records.save(**kwargs)


def select(model: Any, *queries: Any, **lookups: Any) -> Any:
    """`ln.select(Registry, **lookups)` queried a registry."""
    registry = registry_of(model)
    warn_legacy(f"ln.select({registry.__name__}, ...)", f"ln.{registry.__name__}.filter(...)")
    return registry.filter(*queries, **lookups)
