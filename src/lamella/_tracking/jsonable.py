"""Params as JSON: what JSON can hold stays as is, anything else becomes its repr."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import PurePath
from typing import Any


def to_jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    uid = getattr(value, "uid", None)
    if isinstance(uid, str) and hasattr(value, "__table__"):
        return f"{type(value).__name__}('{uid}')"  # a record: its identity, not its whole repr
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return to_jsonable(item())
        except (TypeError, ValueError):
            pass
    return repr(value)
