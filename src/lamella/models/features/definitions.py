"""Creating features: the constructor's checks, and features inferred from DataFrames and dicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lamella._logging import logger
from lamella.errors import InvalidArgument, ValidationError
from lamella.models.core.record import SQLRecord
from lamella.models.features.dtypes import (
    check_targets,
    check_value,
    infer_from_series,
    infer_from_value,
    normalize,
    parse,
)

if TYPE_CHECKING:
    from lamella.models.features.feature import Feature


def init_feature(feature: Feature, name: str | None, dtype: Any, kwargs: dict[str, Any]) -> None:

    if feature.__dict__.pop("_lamella_existing", False):
        _check_same_dtype(feature, dtype)
        return
    if name is None:
        name = kwargs.pop("name", None)
    if not isinstance(name, str) or not name:
        raise InvalidArgument(
            f"a feature needs a name: ln.Feature(name='temperature', dtype=float), not {name!r}"
        )
    if "__" in name:
        logger.warning(
            "feature name %r contains '__', which separates lookups: filter by it with "
            "ln.Feature.get(name=...) values rather than as a keyword",
            name,
        )
    is_type = bool(kwargs.get("is_type"))
    if dtype is None and not is_type:
        raise InvalidArgument(
            f"ln.Feature(name={name!r}) needs a dtype, e.g. dtype=float, dtype=str, dtype=ln.ULabel "
            "or dtype='cat[Record[Sample]]'"
        )
    if dtype is not None:
        parsed_dtype = parse(dtype)
        check_targets(parsed_dtype)  # here, not when the first value or query finds it wrong
        kwargs["dtype"] = parsed_dtype.text
    synonyms = kwargs.get("synonyms")
    if isinstance(synonyms, list | tuple | set):
        kwargs["synonyms"] = "|".join(synonyms)
    feature_type = kwargs.get("type")
    if feature_type is not None and not (
        isinstance(feature_type, SQLRecord) and getattr(feature_type, "is_type", False)
    ):
        raise InvalidArgument(
            f"type={feature_type!r} is not a feature type; create it with ln.Feature(name=..., is_type=True)"
        )
    if kwargs.get("default_value") is not None and dtype is not None:
        parsed = parse(kwargs["dtype"])
        if not parsed.is_cat:
            kwargs["default_value"] = check_value(name, parsed, kwargs["default_value"])
    kwargs.pop("cat_filters", None)  # accepted for compatibility; typed dtypes express the filter
    SQLRecord.__init__(feature, name=name, **kwargs)


def _check_same_dtype(feature: Feature, dtype: Any) -> None:
    if dtype is None or feature.dtype is None:
        return
    wanted = normalize(dtype)
    if wanted != feature.dtype:
        raise ValidationError(
            f"feature {feature.name!r} already exists with dtype {feature.dtype!r}, not {wanted!r}; "
            f"use it as it is, pick another name, or change it explicitly: "
            f"feature = ln.Feature.get(name={feature.name!r}); feature.dtype = {wanted!r}; feature.save()"
        )


def _existing_by_name(model: Any, names: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(names), 10_000):
        chunk = names[start : start + 10_000]
        for record in model.filter(name__in=chunk, type_id=None):
            found.setdefault(record.name, record)
    return found


def features_from_dataframe(model: Any, df: Any) -> list[Feature]:
    names = [str(c) for c in df.columns]
    existing = _existing_by_name(model, names)
    features = []
    for column, name in zip(df.columns, names, strict=True):
        if name in existing:
            features.append(existing[name])
            continue
        features.append(model(name=name, dtype=infer_from_series(df[column]), _skip_existing_check=True))
    return features


def features_from_dict(model: Any, dictionary: dict[str, Any], *, str_as_cat: bool = False) -> list[Feature]:
    existing = _existing_by_name(model, list(dictionary))
    features = []
    for name, value in dictionary.items():
        if name in existing:
            features.append(existing[name])
            continue
        dtype = infer_from_value(value)
        if str_as_cat and dtype == "str":
            dtype = "cat[ULabel]"
        features.append(model(name=name, dtype=dtype, _skip_existing_check=True))
    return features
