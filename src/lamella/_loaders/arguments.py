"""The arguments of `MappedCollection`, checked and normalized: errors name the value and the fix."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lamella._loaders.remote import as_remote
from lamella._loaders.shards import ShardPath
from lamella.errors import InvalidArgument

__all__ = [
    "as_keys",
    "check_encode_labels",
    "check_label_names",
    "check_obs_filter",
    "check_paths",
    "check_unknown_label",
]


def check_paths(paths: Sequence[Any] | str | os.PathLike[str]) -> list[ShardPath]:
    """Local paths as `Path`s; URLs ("s3://bucket/key.h5ad") and cloud `UPath`s as `RemotePath`s."""
    if isinstance(paths, str | os.PathLike) or as_remote(paths) is not None:
        paths = [paths]
    checked: list[ShardPath] = []
    for path in paths:
        remote = as_remote(path)
        if remote is not None:
            checked.append(remote)
            continue
        if not isinstance(path, str | os.PathLike):
            raise InvalidArgument(
                f"a shard path must be a local path, a URL such as 's3://bucket/key.h5ad' or a UPath, "
                f"not {type(path).__name__}"
            )
        text = os.fspath(path)
        checked.append(Path(text[len("file://") :] if text.startswith("file://") else text))
    if not checked:
        raise InvalidArgument("a MappedCollection needs at least one shard path")
    return checked


def check_label_names(label_names: Sequence[str] | None, paths: list[ShardPath]) -> list[str]:
    if label_names is None:
        return [path.name for path in paths]
    names = [str(name) for name in label_names]
    if len(names) != len(paths):
        raise InvalidArgument(
            f"label_names has {len(names)} names for {len(paths)} paths: pass one name per path"
        )
    return names


def as_keys(keys: str | Sequence[str] | None, what: str) -> list[str]:
    if keys is None:
        return []
    if isinstance(keys, str):
        return [keys]
    listed = list(keys)
    if not all(isinstance(key, str) for key in listed):
        raise InvalidArgument(f"{what} must be a string or a list of strings, not {keys!r}")
    return listed


def check_encode_labels(encode_labels: bool | Sequence[str], obs_keys: list[str]) -> list[str]:
    if isinstance(encode_labels, bool):
        return list(obs_keys) if encode_labels else []
    keys = as_keys(encode_labels, "encode_labels")
    unknown = [key for key in keys if key not in obs_keys]
    if unknown:
        raise InvalidArgument(
            f"encode_labels names {unknown}, which are not in obs_keys {obs_keys}: add them to obs_keys"
        )
    return keys


def check_unknown_label(
    unknown_label: str | dict[str, str] | None, encoded: list[str]
) -> str | dict[str, str] | None:
    if isinstance(unknown_label, dict):
        stray = [key for key in unknown_label if key not in encoded]
        if stray:
            raise InvalidArgument(
                f"unknown_label has keys {stray} whose labels are not encoded ({encoded}): "
                "add them to obs_keys and encode_labels"
            )
    return unknown_label


def check_obs_filter(obs_filter: dict[str, Any] | None) -> dict[str, list[Any]]:
    if obs_filter is None:
        return {}
    if not isinstance(obs_filter, dict):
        raise InvalidArgument(
            f"obs_filter must be a dict obs column -> value(s), e.g. {{'cell_type': ['T cell']}}, not {obs_filter!r}"
        )
    return {
        str(key): list(value) if isinstance(value, list | tuple | set | np.ndarray) else [value]
        for key, value in obs_filter.items()
    }
