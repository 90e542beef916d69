"""What every curator shares: the schema check, `validate()`, `cat`, and saving an annotated artifact."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lamella._instance import state
from lamella.curators._cat import CatManager
from lamella.errors import InvalidArgument, ValidationError
from lamella.models.core.bulk import gc_paused
from lamella.models.schema.schema import Schema

if TYPE_CHECKING:
    from lamella.curators._cat import CatColumn, CatManager
    from lamella.models.artifact.artifact import Artifact
    from lamella.models.schema.schema import Schema


def require_saved_schema(schema: Any) -> Schema:

    if not isinstance(schema, Schema):
        raise InvalidArgument(f"a curator takes an ln.Schema, not {type(schema).__name__}")
    if schema.__dict__.get("id") is None:
        raise InvalidArgument(
            "the schema is not saved; save it before curating against it: schema = schema.save()"
        )
    return schema


class Curator:
    """Validates a dataset against a saved schema, and saves it as an artifact annotated by what was validated.

    >>> curator = ln.curators.DataFrameCurator(df, schema)
    >>> curator.validate()  # raises ln.errors.ValidationError, saying what to fix
    >>> artifact = curator.save_artifact(key="datasets/my.parquet")
    """

    def __init__(self, dataset: Any, schema: Any) -> None:
        self._schema = require_saved_schema(schema)
        self._dataset = dataset
        self._cat_manager: CatManager | None = None

    @property
    def schema(self) -> Schema:
        return self._schema

    @property
    def cat(self) -> CatManager:
        """The categorical columns: `.non_validated`, `.standardize(key)`, `.add_new_from(key)`, `.validate()`."""
        if self._cat_manager is None:
            self._cat_manager = CatManager(self)
        return self._cat_manager

    # --- validation -----------------------------------------------------------------------------

    def validate(self) -> None:
        """Check the dataset against the schema; raises ln.errors.ValidationError listing every problem."""
        with gc_paused():  # tens of thousands of terms looked up: no full collections meanwhile
            problems = self._problems()
        if problems:
            raise ValidationError(self._message(problems))

    def _problems(self) -> list[str]:
        raise NotImplementedError

    def _cat_columns(self) -> dict[str, CatColumn]:
        raise NotImplementedError

    def _message(self, problems: list[str]) -> str:
        what = self._schema.name or self._schema.uid
        n = len(problems)
        lines = [
            f"the {self._kind()} does not validate against schema {what!r} ({n} problem{'s' if n != 1 else ''}):"
        ]
        lines.extend("- " + problem.replace("\n", "\n  ") for problem in problems)
        return "\n".join(lines)

    def _kind(self) -> str:
        return type(self._dataset).__name__

    # --- annotation -----------------------------------------------------------------------------

    def _feature_sets(self) -> dict[str, Schema]:
        """{slot: schema of what was validated}; schemas may be unsaved."""
        raise NotImplementedError

    def _labels(self) -> list[tuple[Any, list[Any]]]:
        """(feature, records) pairs: the labels found for each categorical feature."""
        raise NotImplementedError

    def _new_artifact(self, **kwargs: Any) -> Artifact:
        raise NotImplementedError

    def save_artifact(
        self,
        key: str | None = None,
        description: str | None = None,
        revises: Artifact | None = None,
        run: Any = None,
    ) -> Artifact:
        """Validate, save the dataset as an artifact, and link its schema, feature sets and labels."""
        self.validate()
        artifact = self._new_artifact(key=key, description=description, revises=revises, run=run)
        artifact.schema = self._schema
        artifact.__dict__["_lamella_curator"] = self
        return artifact.save()

    def _annotate(self, artifact: Artifact) -> None:
        """Link the schema, one feature set per slot, and the labels by feature, in one transaction."""

        with state.current().db.write():
            if artifact.__dict__.get("schema_id") != self._schema.id:
                artifact.schema = self._schema
                artifact.save()
            for slot, feature_set in self._feature_sets().items():
                if feature_set.__dict__.get("id") is None:
                    feature_set = feature_set.save()
                artifact.features.add_schema(feature_set, slot)
            for feature, records in self._labels():
                if records:
                    artifact.labels.add(records, feature=feature)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(schema={self._schema!r})"
