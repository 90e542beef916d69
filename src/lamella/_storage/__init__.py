"""Bytes on local disk and in the cloud: paths, hashing, copies with hashing, the download cache.

Heavy libraries (fsspec, s3fs, upath, rich) are imported inside the functions that need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .cache import cache_path_for, download_to_cache
from .copying import copy_and_hash
from .hashing import (
    BLAKE3,
    HASH_TYPES,
    MD5,
    algorithm_of,
    etag_file_hash,
    etag_folder_hash,
    folder_hash_from_file_hashes,
    folder_hash_type,
    hash_file,
    hash_folder,
    recorded_types,
)
from .keys import suffix_of, validate_key
from .listing import list_files
from .ops import delete, exists, is_dir, size_of
from .paths import LocalPath, filesystem, is_cloud, to_path
from .progress import progress_bar
from .tree import copy_tree_and_hash

if TYPE_CHECKING:
    from .upaths import UPath

__all__ = [
    "BLAKE3",
    "HASH_TYPES",
    "MD5",
    "LocalPath",
    "UPath",
    "algorithm_of",
    "cache_path_for",
    "copy_and_hash",
    "copy_tree_and_hash",
    "delete",
    "download_to_cache",
    "etag_file_hash",
    "etag_folder_hash",
    "exists",
    "filesystem",
    "folder_hash_from_file_hashes",
    "folder_hash_type",
    "hash_file",
    "hash_folder",
    "is_cloud",
    "is_dir",
    "list_files",
    "progress_bar",
    "recorded_types",
    "size_of",
    "suffix_of",
    "to_path",
    "validate_key",
]


def __getattr__(name: str) -> Any:
    # upath pulls in fsspec; load `lamella.UPath` (upaths.py) only when someone asks for it
    if name == "UPath":
        return importlib.import_module(f"{__name__}.upaths").UPath
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
