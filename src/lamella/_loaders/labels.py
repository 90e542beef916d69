"""Labels of obs columns: merged categories, integer encoders, lookups from codes, filters, weights.

A label is what the user sees: a category (a `str`, or a number for numeric categories) or a plain
value. A missing label (code -1 of a categorical, NaN, a masked nullable value) is NaN here, and -1
once encoded, like the `unknown_label`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "UNKNOWN_CODE",
    "code_lookup",
    "encode_values",
    "label_weights",
    "make_encoder",
    "matches",
    "merge_categories",
    "missing_mask",
]

UNKNOWN_CODE = -1


def missing_mask(values: np.ndarray) -> np.ndarray:
    """Where `values` are missing (None or NaN)."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind != "O":
        return np.zeros(len(values), dtype=bool)
    return np.fromiter((_is_missing(v) for v in values), dtype=bool, count=len(values))


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def present_values(values: np.ndarray) -> list[Any]:
    """The distinct values that are not missing."""
    kept = values[~missing_mask(values)]
    return list(np.unique(kept)) if len(kept) else []


def merge_categories(per_shard: Iterable[Sequence[Any] | np.ndarray]) -> list[Any]:
    """The sorted union of each shard's categories (LaminDB's order: sorted, not first-seen)."""
    merged: set[Any] = set()
    for categories in per_shard:
        merged.update(_plain(value) for value in categories)
    return sorted(merged)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def make_encoder(categories: list[Any], unknown_label: Any | None) -> dict[Any, int]:
    """Category -> integer, in the order of `categories`; the unknown label (if one of them) -> -1,
    outside the range 0..n-1 of the others."""
    encoder: dict[Any, int] = {}
    if unknown_label is not None and unknown_label in categories:
        encoder[unknown_label] = UNKNOWN_CODE
    known = [category for category in categories if category not in encoder]
    encoder.update({category: code for code, category in enumerate(known)})
    return encoder


def code_lookup(categories: np.ndarray, encoder: dict[Any, int] | None) -> np.ndarray:
    """An array indexed by a categorical's codes: encoded integers, or the labels themselves.

    Its last entry is for code -1 (missing): numpy's index -1 picks it without a test per value.
    """
    if encoder is not None:
        encoded = [encoder.get(_plain(category), UNKNOWN_CODE) for category in categories]
        return np.array([*encoded, UNKNOWN_CODE], dtype=np.int64)
    lookup = np.empty(len(categories) + 1, dtype=object)
    lookup[:-1] = [_plain(category) for category in categories]
    lookup[-1] = np.nan
    return lookup


def encode_values(values: np.ndarray, encoder: dict[Any, int]) -> np.ndarray:
    """Plain (non-categorical) values encoded; missing and unseen values -> -1."""
    return np.fromiter(
        (encoder.get(_plain(value), UNKNOWN_CODE) for value in values), dtype=np.int64, count=len(values)
    )


def matches(values: np.ndarray, wanted: Sequence[Any]) -> np.ndarray:
    """Which `values` are among `wanted` (NaN or None in `wanted` matches missing values)."""
    wanted_present = [value for value in wanted if not _is_missing(value)]
    wanted_set = set(wanted_present)
    if values.dtype.kind in "biuf" and all(isinstance(v, int | float) for v in wanted_present):
        mask = np.isin(values, np.array(wanted_present, dtype=np.float64))
    else:
        mask = np.fromiter((_plain(value) in wanted_set for value in values), dtype=bool, count=len(values))
    if len(wanted_present) < len(wanted):
        mask |= missing_mask(values)
    return mask


def label_weights(
    labels_per_key: Sequence[np.ndarray], scaler: float | None
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Per-sample weights from the count of each sample's (combined) label.

    Returns (weights per sample, the distinct combined labels as strings, the weight of each). Several
    keys combine into one label `"a__b"`, as LaminDB's `get_label_weights` does; a weight is
    `1 / count`, or `scaler / (count + scaler)` with a scaler.
    """
    codes = []
    names = []
    for labels in labels_per_key:
        as_text = np.array([str(_plain(value)) for value in labels], dtype=object)
        unique, inverse = np.unique(as_text, return_inverse=True)
        codes.append(inverse.reshape(-1))
        names.append(unique)
    stacked = np.stack(codes, axis=1)
    combos, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    per_label = 1.0 / counts if scaler is None else scaler / (counts + scaler)
    combined = ["__".join(str(names[k][code]) for k, code in enumerate(combo)) for combo in combos]
    return per_label[inverse], combined, per_label
