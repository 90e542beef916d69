"""Existence, size and deletion of local paths and cloud objects/prefixes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lamella.errors import InvalidArgument, PathNotFound, StorageError

from .listing import list_local, list_remote_detailed
from .paths import Location, is_cloud, local_str, location_str, remote_fs_path, to_local_path

__all__ = ["delete", "exists", "is_dir", "size_of"]


def exists(path: Location) -> bool:
    text = location_str(path)
    if is_cloud(text):
        fs, key = remote_fs_path(text)
        fs.invalidate_cache(key)
        return bool(fs.exists(key))
    return to_local_path(text).exists()


def is_dir(path: Location) -> bool:
    text = location_str(path)
    if is_cloud(text):
        fs, key = remote_fs_path(text)
        fs.invalidate_cache(key)
        return bool(fs.isdir(key))
    return to_local_path(text).is_dir()


def size_of(path: Location) -> int:
    """Bytes of a file, or of all files under a folder/prefix."""
    text = location_str(path)
    try:
        if is_cloud(text):
            fs, key = remote_fs_path(text)
            fs.invalidate_cache(key)
            if fs.isdir(key):
                return sum(item.size for item in list_remote_detailed(text))
            return int(fs.info(key)["size"])
        local = to_local_path(text)
        if local.is_dir():
            return sum(size for _, size in list_local(local))
        return local.stat().st_size
    except FileNotFoundError as exc:
        raise PathNotFound(f"Cannot get the size of {text}: it does not exist. Check the path.") from exc
    except OSError as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"Cannot get the size of {text}: {exc}") from exc


def delete(path: Location) -> None:
    """Delete a file or a folder/prefix recursively; a missing path is not an error."""
    text = location_str(path)
    try:
        if is_cloud(text):
            _delete_remote(text)
        else:
            _delete_local(text)
    except (InvalidArgument, StorageError):
        raise
    except OSError as exc:
        raise StorageError(f"Cannot delete {text}: {exc}") from exc


def _delete_local(text: str) -> None:
    # Not resolved: deleting a symlink must remove the link, not what it points to.
    local = Path(os.path.abspath(os.path.expanduser(local_str(text))))
    if local == local.parent:
        raise InvalidArgument(
            f"Refusing to delete {text}: it is a filesystem root. Pass a file or folder path."
        )
    if local.is_dir() and not local.is_symlink():
        shutil.rmtree(local)
    else:
        local.unlink(missing_ok=True)


def _delete_remote(text: str) -> None:
    if "/" not in text.split("://", 1)[1].strip("/"):
        raise InvalidArgument(
            f"Refusing to delete {text}: it is a whole bucket. Pass a key or prefix inside the bucket."
        )
    fs, key = remote_fs_path(text)
    fs.invalidate_cache(key)
    try:
        fs.rm(key, recursive=True)
    except FileNotFoundError:
        pass
    finally:
        fs.invalidate_cache(key)
        fs.invalidate_cache(fs._parent(key))
