"""Where each registry keeps its feature values, shared by the values API, queries and DataFrames.

Artifacts and runs link to `FeatureValue` rows (one row per distinct value of a feature, shared by
every owner with that value); records keep their own value per feature in `record_json`.
Categorical values are links to the label's registry (`artifact_ulabel`, `record_ulabel`, ...) that
carry the feature's id.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lamella._instance import state
from lamella._query.relations import every_model, find_model, model
from lamella.errors import InvalidArgument
from lamella.models.features.feature import Feature


@dataclass(frozen=True)
class CatLink:
    link: Any  # the link model
    owner_key: str
    target_key: str


@dataclass(frozen=True)
class ValueStore:
    owner: Any  # Artifact, Run or Record
    value_link: Any | None  # ArtifactFeatureValue / RunFeatureValue, or None for records
    owner_key: str  # the owner's column in the link tables

    @property
    def uses_feature_values(self) -> bool:
        return self.value_link is not None

    def cat_link(self, target: Any) -> CatLink | None:
        """The link table that ties an owner to a `target` record for a feature, if there is one."""
        owner_name, target_name = self.owner.__name__, target.__name__
        if owner_name == "Record" and target_name == "Record":
            return CatLink(model("RecordRecord"), "record_id", "value_id")
        link: Any = find_model(f"{owner_name}{target_name}")
        if link is None or "feature_id" not in link.__table__.c:
            return None
        target_key = next(
            (
                column.key
                for column in link.__table__.c
                if column.key != self.owner_key
                and any(fk.column.table.name == target.__tablename__ for fk in column.foreign_keys)
            ),
            f"{target.__tablename__}_id",
        )
        return CatLink(link, self.owner_key, target_key)

    def cat_links(self) -> list[tuple[Any, CatLink]]:
        """Every (target registry, link) pair of this owner that can carry a feature."""
        links = []
        instance = state.current()
        for name, candidate in list(every_model().items()):
            if not name.startswith(self.owner.__name__) or not hasattr(candidate, "__table__"):
                continue
            if candidate is self.value_link:  # it carries the feature too, for ranges, but no labels
                continue
            if not instance.has_table(candidate.__table__.name):
                continue  # a module's link table (bionty) on an instance that does not use the module
            target = find_model(name[len(self.owner.__name__) :])
            if target is None or not hasattr(target, "_name_field"):
                continue
            link = self.cat_link(target)
            if link is not None and link.link is candidate:
                links.append((target, link))
        return links


def store_for(owner: Any) -> ValueStore:

    name = owner.__name__
    if name == "Artifact":
        return ValueStore(owner, model("ArtifactFeatureValue"), "artifact_id")
    if name == "Run":
        return ValueStore(owner, model("RunFeatureValue"), "run_id")
    if name == "Record":
        return ValueStore(owner, None, "record_id")
    raise InvalidArgument(f"{name} has no feature values; annotate artifacts, runs or records")


def value_hash(stored: Any) -> str:
    """22-character id of a JSON value: equal values (as stored) hash equal."""
    text = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


# the largest whole number a double holds exactly: beyond it, number comparisons use the JSON value
EXACT_INTEGER_LIMIT = 2**53


@dataclass(frozen=True)
class FeatureInfo:
    """The fields of a feature that validation and queries need, read without building ORM objects."""

    id: int
    name: str
    dtype: str | None
    type_id: int | None


def features_by_name(names: list[str]) -> dict[str, FeatureInfo]:
    """Saved features of the main branch by name (the untyped one wins when a name repeats)."""

    table = Feature.__table__
    connection = state.current().db.session().connection()
    found: dict[str, FeatureInfo] = {}
    for start in range(0, len(names), 10_000):
        chunk = names[start : start + 10_000]
        statement = (
            select(table.c.id, table.c.name, table.c.dtype, table.c.type_id)
            .where(table.c.name.in_(chunk), table.c.branch_id == 1)
            .order_by(table.c.id)
        )
        for row in connection.execute(statement):
            feature = FeatureInfo(*row)
            if feature.name not in found or (
                found[feature.name].type_id is not None and feature.type_id is None
            ):
                found[feature.name] = feature
    return found
