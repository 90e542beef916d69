"""The registries. Importing this module loads SQLAlchemy and defines every table."""

from __future__ import annotations

from lamella.models.artifact.artifact import Artifact
from lamella.models.collection.collection import Collection
from lamella.models.core import links  # noqa: F401  (link tables must be defined before queries run)
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
