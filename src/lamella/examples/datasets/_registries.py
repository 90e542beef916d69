"""Shared by the examples that define features: a feature by name, created only if the name is free."""

from __future__ import annotations

from typing import Any

from lamella.models import Feature

__all__ = ["feature_named"]


def feature_named(name: str, dtype: Any, **options: Any) -> Feature:
    """The feature called `name`: the saved one as it is, or a new one with this dtype.

    Examples share feature names ("perturbation", "assay"); running one after another, or twice, must
    not fail on a name another example took with another dtype.
    """
    existing = Feature.filter(name=name, is_type=False).first()
    if existing is not None:
        return existing
    return Feature(name=name, dtype=dtype, **options).save()
