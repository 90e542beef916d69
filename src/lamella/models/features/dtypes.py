"""Feature dtypes: parse the spellings users write, check values against them, infer them from data.

A dtype is stored as a string. Plain ones are `float`, `int`, `num`, `str`, `bool`, `date`,
`datetime`, `dict`, `path`, `url` and lists of those (`list[float]`). Categorical ones name the
registries whose records are the allowed values: `cat[ULabel]`, `cat[Record[Sample]]` (members of
the record type "Sample"), `cat[bionty.CellType]`, `cat[bionty.Gene.ensembl_gene_id]` (matched on a
field other than the name), several joined by `|`. The bare `cat` of older versions means "any
label" (ULabel).
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from lamella._instance import state
from lamella._limits import check_float, check_int, check_json, check_text, show
from lamella._query.relations import MODELS, model
from lamella.errors import InvalidArgument, ValidationError
from lamella.models.core.record import SQLRecord

PLAIN = ("float", "int", "num", "str", "bool", "date", "datetime", "dict", "path", "url")
_PYTHON_TYPES: dict[Any, str] = {
    float: "float",
    int: "int",
    str: "str",
    bool: "bool",
    datetime: "datetime",
    date: "date",
    dict: "dict",
}
MAX_DTYPE_LENGTH = 255
_CAT = re.compile(r"^cat\[(?P<inner>.+)\]$")
_TARGET = re.compile(
    r"^(?P<registry>(?:[A-Za-z_]\w*\.)?[A-Z]\w*)(?:\[(?P<type>[^\]]+)\])?(?:\.(?P<field>[a-z_]\w*))?$"
)
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")


@dataclass(frozen=True)
class CatTarget:
    """One registry a categorical feature draws its values from."""

    registry: str  # "ULabel", "Record", "bionty.CellType"
    type_name: str | None = None  # "Sample" in cat[Record[Sample]]
    field: str | None = None  # None: the registry's name field

    @property
    def text(self) -> str:
        text = self.registry + (f"[{self.type_name}]" if self.type_name else "")
        return text + (f".{self.field}" if self.field else "")

    def model(self) -> Any:
        """The registry class; an error that says what to install when its module is missing."""

        name = self.registry.rsplit(".", 1)[-1]
        if "." in self.registry:
            module = self.registry.split(".", 1)[0]
            try:
                __import__(f"lamella.{module}")
            except ImportError as e:
                raise ValidationError(
                    f"cat[{self.text}] needs the registry {self.registry}, and the module "
                    f"'lamella.{module}' is not available; create the instance with --modules {module}"
                ) from e
            instance = state.peek()
            if instance is not None and module not in instance.config.modules:
                raise ValidationError(
                    f"cat[{self.text}] needs the registry {self.registry}, and instance "
                    f"{instance.name!r} does not use the module {module!r}: add it with "
                    f"`lamella migrate --modules {module}`"
                )
        try:
            return MODELS[name] if name in MODELS else model(name)
        except InvalidArgument:
            raise ValidationError(f"cat[{self.text}]: there is no registry named {self.registry!r}") from None

    def field_name(self) -> str:
        if self.field:
            registry = self.model()
            if self.field not in registry.__table__.c:  # a dtype stored before fields were checked
                raise _unknown_field(self, registry)
            return self.field
        return getattr(self.model(), "_name_field", None) or "name"


def _unknown_field(target: CatTarget, registry: Any) -> ValidationError:
    fields = sorted(c.key for c in registry.__table__.c if not c.key.startswith("_"))
    return ValidationError(
        f"dtype cat[{target.text}]: {target.registry} has no field {target.field!r}; "
        f"valid fields: {', '.join(fields)}"
    )


def check_targets(dtype: Dtype) -> None:
    """The registries and fields a categorical dtype names exist.

    A registry of a schema module that is not installed is taken as written: the instance may get
    the module later, and using the feature says which module is missing.
    """
    for target in dtype.targets:
        try:
            registry = target.model()
        except ValidationError:
            if "." in target.registry:
                continue
            raise
        if target.field is not None and target.field not in registry.__table__.c:
            raise _unknown_field(target, registry)


@dataclass(frozen=True)
class Dtype:
    """A parsed dtype string."""

    text: str
    base: str  # one of PLAIN, or "cat"
    is_list: bool = False
    targets: tuple[CatTarget, ...] = ()

    @property
    def is_cat(self) -> bool:
        return self.base == "cat"


def normalize(dtype: Any) -> str:
    """The stored spelling of `dtype`, given as a string, a Python type, a registry, a field or a type record."""
    return parse(dtype).text


def parse(dtype: Any) -> Dtype:
    if isinstance(dtype, str):
        if len(dtype) > MAX_DTYPE_LENGTH:  # Feature.dtype's column; also bounds the recursion below
            raise InvalidArgument(
                f"dtype {show(dtype)} is longer than {MAX_DTYPE_LENGTH} characters; no feature dtype is"
            )
        return _parse_text(dtype.strip())
    if isinstance(dtype, list | tuple):  # several registries: [ln.ULabel, bt.CellType]
        if any(isinstance(item, list | tuple) for item in dtype):
            raise InvalidArgument(f"dtype={show(dtype)}: list registries side by side, not nested")
        targets = tuple(t for item in dtype for t in parse(item).targets)
        if not targets:
            raise InvalidArgument(f"dtype={show(dtype)}: a list of registries must name at least one")
        return _cat(targets)
    if isinstance(dtype, Hashable) and dtype in _PYTHON_TYPES:
        return _parse_text(_PYTHON_TYPES[dtype])
    if dtype is list:
        raise InvalidArgument("dtype=list needs an element type: use list[str], list[float], ...")
    origin = getattr(dtype, "__origin__", None)
    if origin is list:
        (element,) = dtype.__args__
        inner = parse(element)
        if inner.is_list:
            raise InvalidArgument(f"nested lists are not a feature dtype: {show(dtype)}")
        return Dtype(f"list[{inner.text}]", inner.base, True, inner.targets)
    if isinstance(dtype, type) and issubclass(dtype, PurePath):
        return _parse_text("path")
    target = _target_of(dtype)
    if target is not None:
        return _cat((target,))
    raise InvalidArgument(
        f"dtype={show(dtype)} is not a feature dtype; use one of {', '.join(PLAIN)}, list[...], "
        "a registry like ln.ULabel, or a string like 'cat[Record[Sample]]'"
    )


def _target_of(dtype: Any) -> CatTarget | None:

    if isinstance(dtype, type) and issubclass(dtype, SQLRecord):
        return CatTarget(_registry_name(dtype))
    owner = getattr(dtype, "class_", None)  # a column attribute such as bt.Gene.ensembl_gene_id
    if isinstance(owner, type) and issubclass(owner, SQLRecord) and hasattr(dtype, "key"):
        field = dtype.key if dtype.key != (owner._name_field or "name") else None
        return CatTarget(_registry_name(owner), field=field)
    if isinstance(dtype, SQLRecord) and getattr(dtype, "is_type", False):
        if dtype.__dict__.get("id") is None:
            raise InvalidArgument(f"save the type {dtype!r} before using it as a dtype")
        return CatTarget(_registry_name(type(dtype)), type_name=getattr(dtype, "name", None))
    return None


def _registry_name(model: type) -> str:
    module = model.__module__
    if module.startswith("lamella.") and not module.startswith("lamella.models"):
        return f"{module.split('.')[1]}.{model.__name__}"  # lamella.bionty.models -> bionty.CellType
    return model.__name__


def _cat(targets: tuple[CatTarget, ...]) -> Dtype:
    return Dtype("cat[" + "|".join(t.text for t in targets) + "]", "cat", False, targets)


def _parse_text(text: str) -> Dtype:
    if text in PLAIN:
        return Dtype(text, text)
    if text == "cat":  # old spelling: any label
        return _cat((CatTarget("ULabel"),))
    if text.startswith("list[") and text.endswith("]"):
        inner = _parse_text(text[5:-1])
        if inner.is_list:
            raise InvalidArgument(f"nested lists are not a feature dtype: {text!r}")
        return Dtype(f"list[{inner.text}]", inner.base, True, inner.targets)
    match = _CAT.match(text)
    if match:
        targets = []
        for part in match["inner"].split("|"):
            target = _TARGET.match(part.strip())
            if target is None:
                raise InvalidArgument(f"dtype {text!r}: cannot read the registry {part!r}")
            targets.append(CatTarget(target["registry"], target["type"], target["field"]))
        return _cat(tuple(targets))
    raise InvalidArgument(
        f"dtype {show(text)} is not a feature dtype; use one of {', '.join(PLAIN)}, list[...], "
        "or cat[Registry] such as 'cat[ULabel]' or 'cat[Record[Sample]]'"
    )


# --- values ---------------------------------------------------------------------------------------


def check_value(feature_name: str, dtype: Dtype, value: Any) -> Any:
    """`value` as stored (JSON), or a ValidationError naming the feature, the value and the dtype.

    Categorical values are returned as given (names or records): the caller resolves them.
    """
    if dtype.is_list:
        if isinstance(value, str | bytes | dict) or not _is_sequence(value):
            value = [value]
        return [_check_scalar(feature_name, dtype, item) for item in value]
    return _check_scalar(feature_name, dtype, value)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset) or (
        hasattr(value, "__iter__") and hasattr(value, "__len__") and not hasattr(value, "__table__")
    )


def _fail(feature_name: str, dtype: Dtype, value: Any, hint: str = "") -> ValidationError:
    expected = dtype.base if not dtype.is_list else f"list of {dtype.base}"
    return ValidationError(
        f"feature {feature_name!r} has dtype {dtype.text!r}, but got {show(value)} "
        f"({type(value).__name__}); pass {'an' if expected[0] in 'aeiou' else 'a'} {expected} value{hint}"
    )


def _check_scalar(name: str, dtype: Dtype, value: Any) -> Any:
    base = dtype.base
    value = _unwrap_numpy(value)
    where = f"feature {name!r} ({dtype.text})"
    if base == "cat":
        if isinstance(value, str):
            return check_text(value, where)
        if hasattr(value, "__table__"):
            return value
        raise _fail(name, dtype, value, " (a name or a record)")
    if base == "bool":
        if isinstance(value, bool):
            return value
        raise _fail(name, dtype, value)
    if base == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return check_int(value, where)
        if isinstance(value, float) and value.is_integer():
            return check_int(int(value), where)
        raise _fail(name, dtype, value)
    if base in ("float", "num"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and math.isnan(value):
                raise _fail(name, dtype, value, "; NaN is not stored, leave the value out instead")
            if base == "num":
                return check_float(value, where)  # an int stays an int
            try:
                return check_float(float(value), where)
            except OverflowError:
                raise _fail(name, dtype, value, " within the range of a float") from None
        raise _fail(name, dtype, value)
    if base == "str":
        if isinstance(value, str):
            return check_text(value, where)
        raise _fail(name, dtype, value)
    if base == "date":
        if isinstance(value, datetime):
            raise _fail(name, dtype, value, "; the feature holds dates: pass value.date()")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise _fail(name, dtype, value, " or an ISO string like '2025-01-31'") from None
        raise _fail(name, dtype, value)
    if base == "datetime":
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise _fail(name, dtype, value, " or an ISO string like '2025-01-31T12:00:00'") from None
        if isinstance(value, datetime):
            return value.isoformat()
        raise _fail(name, dtype, value)
    if base == "dict":
        if isinstance(value, dict):
            return _sorted_keys(check_json(value, where))  # checked first: bounds the nesting
        raise _fail(name, dtype, value)
    if base == "path":
        if isinstance(value, PurePath) or (isinstance(value, str) and value):
            return check_text(str(value), where)
        if hasattr(value, "as_posix") or hasattr(value, "protocol"):
            return check_text(str(value), where)
        raise _fail(name, dtype, value)
    if base == "url":
        if isinstance(value, str) and _URL.match(value):
            return check_text(value, where)
        raise _fail(name, dtype, value, " like 'https://example.org/x'")
    raise _fail(name, dtype, value)


def _sorted_keys(value: Any) -> Any:
    """Dicts with sorted keys, recursively: one stored form per value (PostgreSQL's JSONB reorders anyway)."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _unwrap_numpy(value: Any) -> Any:
    module = type(value).__module__
    if module == "numpy" and hasattr(value, "item"):
        return value.item()
    if module.startswith("pandas") and type(value).__name__ == "Timestamp":
        return value.to_pydatetime()
    return value


def to_python(dtype: Dtype, stored: Any) -> Any:
    """A stored JSON value back as the Python value users passed (dates as date, datetimes as datetime)."""
    if dtype.is_list and isinstance(stored, list):
        return [_scalar_to_python(dtype.base, v) for v in stored]
    return _scalar_to_python(dtype.base, stored)


def _scalar_to_python(base: str, stored: Any) -> Any:
    if base == "float" and isinstance(stored, int) and not isinstance(stored, bool):
        return float(stored)  # SQLite stores a whole float (4.0) as the integer 4
    if isinstance(stored, str):
        if base == "date":
            return date.fromisoformat(stored)
        if base == "datetime":
            return datetime.fromisoformat(stored)
    return stored


# --- inference ------------------------------------------------------------------------------------


def infer_from_series(series: Any) -> str:
    """The dtype of a pandas column: categories and strings are categorical labels."""
    import pandas as pd
    from pandas.api import types

    if isinstance(series.dtype, pd.CategoricalDtype):
        return "cat[ULabel]"
    if types.is_bool_dtype(series.dtype):
        return "bool"
    if types.is_integer_dtype(series.dtype):
        return "int"
    if types.is_float_dtype(series.dtype):
        return "float"
    if types.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    if types.is_string_dtype(series.dtype) or series.dtype == object:
        sample = series.dropna()
        if len(sample) and all(isinstance(v, list | tuple) for v in sample.iloc[:100]):
            return "list[str]"
        if len(sample) and all(isinstance(v, dict) for v in sample.iloc[:100]):
            return "dict"
        if len(sample) and all(isinstance(v, bool) for v in sample.iloc[:100]):
            return "bool"
        return "cat[ULabel]"
    raise InvalidArgument(f"cannot infer a feature dtype for column {series.name!r} of dtype {series.dtype}")


def infer_from_value(value: Any) -> str:
    """The dtype of a Python value, for `Feature.from_dict` and friendly error messages."""
    value = _unwrap_numpy(value)
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, PurePath):
        return "path"
    if isinstance(value, str):
        return "url" if _URL.match(value) and value.startswith(("http://", "https://")) else "str"
    if hasattr(value, "__table__"):
        return f"cat[{_registry_name(type(value))}]"
    if isinstance(value, list | tuple) and value:
        inner = {infer_from_value(v) for v in value}
        if len(inner) == 1:
            (element,) = inner
            return element if element.startswith("cat[") else f"list[{element}]"
        if inner <= {"int", "float"}:
            return "list[float]"
    raise InvalidArgument(
        f"cannot infer a feature dtype from {value!r}; create the feature with an explicit dtype"
    )


def python_type_name(dtype_text: str) -> str:
    """How to write the dtype in an `ln.Feature(...)` call shown to users."""
    if dtype_text in ("float", "int", "str", "bool", "dict"):
        return dtype_text
    if dtype_text == "cat[ULabel]":
        return "ln.ULabel"
    return repr(dtype_text)
