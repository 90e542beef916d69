"""`artifact.labels`: link labels of any registry, optionally as values of a categorical feature."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lamella._query.managers import _flatten
from lamella._query.queryset import QuerySet
from lamella._query.relations import ManyToMany
from lamella.errors import InvalidArgument, ValidationError
from lamella.models.core.other_instances import bind_methods
from lamella.models.features.describe import add_features
from lamella.models.features.dtypes import parse
from lamella.models.features.feature import Feature
from lamella.models.features.frame import add_feature_columns
from lamella.models.features.query import feature_condition, feature_conditions
from lamella.models.features.stores import ValueStore, features_by_name, store_for
from lamella.models.features.values import FeaturesManager


class LabelsManager:
    """Labels of one artifact, run or record, grouped by registry and by feature."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner
        self.store: ValueStore = store_for(type(owner))

    def _feature(self, feature: Any) -> Any:

        if feature is None or isinstance(feature, Feature):
            return feature
        found = features_by_name([str(feature)])
        if str(feature) not in found:
            raise ValidationError(
                f"there is no feature named {feature!r}; create it with ln.Feature(name=..., dtype=ln.ULabel)"
            )
        return found[str(feature)]

    def add(self, records: Any, feature: Any = None) -> None:
        """Link `records` (one, a list or a QuerySet); with `feature=`, as that feature's values."""

        flat = _flatten((records,))
        if not flat:
            return
        feature = self._feature(feature)
        by_registry: dict[type, list[Any]] = {}
        for record in flat:
            if isinstance(record, str):
                raise InvalidArgument(
                    f"labels.add() takes records, not the string {record!r}; "
                    f"use features.add_values({{feature: {record!r}}}) to link by name"
                )
            by_registry.setdefault(type(record), []).append(record)
        if feature is not None:
            if feature.__dict__.get("id") is None:
                raise InvalidArgument(f"save the feature before using it: {feature!r}.save()")
            dtype = parse(feature.dtype) if feature.dtype else None
            if dtype is None or not dtype.is_cat:
                raise ValidationError(
                    f"feature {feature.name!r} has dtype {feature.dtype!r}, not a categorical one; "
                    f"labels go with features of dtype cat[...], e.g. ln.Feature(name=..., dtype=ln.ULabel)"
                )
            allowed = {t.model() for t in dtype.targets}
            wrong = [r.__name__ for r in by_registry if r not in allowed]
            if wrong:
                raise ValidationError(
                    f"feature {feature.name!r} ({feature.dtype}) takes "
                    f"{' or '.join(sorted(m.__name__ for m in allowed))} records, not {', '.join(wrong)}"
                )
        relation_names = self._relation_names()
        for registry, items in by_registry.items():
            if feature is not None and self.store.cat_link(registry) is not None:
                FeaturesManager(self.owner).add_values({feature.name: items})
                continue
            name = relation_names.get(registry)
            if name is None:
                raise InvalidArgument(
                    f"{type(self.owner).__name__} cannot be labeled with {registry.__name__} records"
                    + ("" if feature is None else f" for feature {feature.name!r}")
                )
            getattr(self.owner, name).add(*items)

    def _relation_names(self) -> dict[Any, str]:

        names: dict[Any, str] = {}
        for name, relation in type(self.owner)._relations.items():
            if isinstance(relation, ManyToMany) and not name.startswith("_"):
                target = relation.target_model
                if target.__name__ in (
                    "ULabel",
                    "Record",
                    "Project",
                    "Reference",
                ) or target.__module__.startswith("lamella.bionty"):
                    names.setdefault(target, name)
        return names

    def get(self, feature: Any, mute: bool = False, flat_names: bool = False) -> Any:
        """The labels linked for `feature`: a QuerySet (a dict by registry when it spans several)."""

        feature = self._feature(feature)
        owner_id = self.owner.__dict__.get("id")
        dtype = parse(feature.dtype)
        if not dtype.is_cat:
            raise ValidationError(
                f"feature {feature.name!r} ({feature.dtype}) holds values, not labels: use features.get_values()"
            )

        results: dict[str, QuerySet[Any]] = {}
        for target in dtype.targets:
            registry = target.model()
            cat_link = self.store.cat_link(registry)
            if cat_link is None:
                continue
            link = cat_link.link
            ids = select(getattr(link, cat_link.target_key)).where(
                getattr(link, cat_link.owner_key) == owner_id, link.feature_id == feature.id
            )
            results[registry.__name__] = QuerySet(registry).filter_expression(
                registry.__table__.c.id.in_(ids)
            )
        if flat_names:
            return [getattr(r, r._name_field or "name") for qs in results.values() for r in qs]
        if len(results) == 1:
            return next(iter(results.values()))
        return results

    def remove(self, records: Any, feature: Any = None) -> None:

        feature = self._feature(feature)
        relation_names = self._relation_names()
        for record in _flatten((records,)):
            if feature is not None:
                FeaturesManager(self.owner).remove_values(feature, value=record)
                continue
            name = relation_names.get(type(record))
            if name is None:
                raise InvalidArgument(f"{type(self.owner).__name__} has no {type(record).__name__} labels")
            getattr(self.owner, name).remove(record)

    def __repr__(self) -> str:
        parts = []
        for registry, name in self._relation_names().items():
            if self.owner.__dict__.get("id") is None:
                break
            names = getattr(self.owner, name).to_list(registry._name_field or "uid")
            if names:
                parts.append(f"{name}={names!r}")
        return f"{type(self.owner).__name__}.labels({', '.join(parts)})"


# `artifact.labels` of an artifact read from another instance reads (and refuses writes) there
bind_methods(LabelsManager, owner_of=lambda manager: manager.owner)


class HasFeatures:
    """Registries that can be annotated with feature values and labels (Artifact, Run, Record)."""

    @property
    def features(self) -> Any:

        return FeaturesManager(self)

    @property
    def labels(self) -> LabelsManager:
        return LabelsManager(self)

    def _describe_sections(self, tree: Any) -> None:
        add_features(tree, self)

    @classmethod
    def _resolve_unknown_lookup(cls, name: str, rest: list[str], op: str, value: Any, negate: bool) -> Any:

        return feature_condition(cls, name, rest, op, value, negate)

    @classmethod
    def _resolve_unknown_lookups(cls, name: str, lookups: list[tuple[list[str], str, Any]]) -> Any:
        """Lookups on one feature in one `filter()` call, as one condition (or None: one by one)."""
        return feature_conditions(cls, name, lookups)

    @classmethod
    def _features_to_dataframe(cls, qs: Any, df: Any, features: Any) -> Any:

        return add_feature_columns(qs, df, features)
