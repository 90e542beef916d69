"""Turn the many ways a caller can name a file (str, Path, UPath, + filesystem) into one."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["is_local", "resolve_location"]

_LOCAL_PROTOCOLS = {"", "file", "local"}


def _protocols(filesystem: Any) -> set[str]:
    protocol = getattr(filesystem, "protocol", "")
    return set(protocol) if isinstance(protocol, (tuple, list)) else {protocol}


def resolve_location(path: Any, filesystem: Any | None) -> tuple[str, Any | None]:
    """Return `(path_string, filesystem)`; the filesystem is None when the path is local.

    A universal_pathlib `UPath` carries its own fsspec filesystem, which is used unless the caller
    passes one explicitly.
    """
    if filesystem is None and hasattr(path, "fs") and hasattr(path, "protocol"):
        if getattr(path, "protocol", "") not in _LOCAL_PROTOCOLS:
            # UPath.path is the location inside the filesystem, without the protocol prefix
            return str(path.path), path.fs
        return os.fspath(getattr(path, "path", path)), None
    if filesystem is not None and _protocols(filesystem) & _LOCAL_PROTOCOLS:
        filesystem = None
    location = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    return location, filesystem


def is_local(path: Any, filesystem: Any | None) -> bool:
    return resolve_location(path, filesystem)[1] is None
