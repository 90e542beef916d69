"""The registries. Importing this module loads SQLAlchemy and defines every table."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData
from sqlalchemy.orm import configure_mappers

from lamella._gc import gc_paused
from lamella._query import relations
from lamella.models.artifact.artifact import Artifact
from lamella.models.collection.collection import Collection
from lamella.models.core.bulk import save
from lamella.models.core.instance_records import Branch, Space, Storage, User
from lamella.models.core.record import Base, SQLRecord
from lamella.models.features.feature import Feature, FeatureValue
from lamella.models.labels.labels import Project, Record, Reference, ULabel
from lamella.models.lineage.lineage import Run, Transform
from lamella.models.overview import view
from lamella.models.schema.schema import Schema
from lamella.models.transfer import transfer  # noqa: F401  (fills the hook `record.save()` of another instance's record calls)

FeatureSet = Schema  # old name, kept as an alias

__all__ = [
    "Artifact",
    "Base",
    "Branch",
    "Collection",
    "Feature",
    "FeatureSet",
    "FeatureValue",
    "Project",
    "Record",
    "Reference",
    "Run",
    "SQLRecord",
    "Schema",
    "Space",
    "Storage",
    "Transform",
    "ULabel",
    "User",
    "all_tables",
    "save",
    "view",
]

# The registries are public as `lamella.Artifact`, ...: that is the name they report (in reprs, errors,
# docs) and the one pickle records, which resolves it through the facade's lazy `__getattr__`. Set
# here, after every table is declared and its annotations resolved against the defining modules, and
# not in the facade: importing `lamella.models` without going through `lamella` must give the same.
PUBLIC_REGISTRIES: tuple[type, ...] = (
    Artifact,
    Branch,
    Collection,
    Feature,
    FeatureValue,
    Project,
    Record,
    Reference,
    Run,
    Schema,
    Space,
    Storage,
    Transform,
    ULabel,
    User,
)
for _public in PUBLIC_REGISTRIES:
    _public.__module__ = "lamella"
del _public

# Relationships are resolved now, while the facade holds off garbage collection for this import,
# rather than inside whichever query runs first.
configure_mappers()


def _define_link_tables() -> None:
    """The link tables of the to-many relations, defined when a query, a save or a listing of every
    registry first asks for one: no SQLAlchemy relationship points at them, and their 30 classes
    are a fifth of this import."""
    with gc_paused():
        importlib.import_module("lamella.models.core.links")
        configure_mappers()


relations.defer(_define_link_tables)


def all_tables() -> MetaData:
    """Every table of the registries defined so far, the deferred link tables included: what a new
    database is created from and what migrations compare it against."""
    relations.every_model()
    return Base.metadata
