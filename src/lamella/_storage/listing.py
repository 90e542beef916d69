"""Recursive file listings of local folders and cloud prefixes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lamella.errors import StorageError

from .paths import Location, is_cloud, location_str, protocol_of, remote_fs_path, to_local_path

__all__ = ["RemoteFile", "list_files", "list_local", "list_remote_detailed"]


@dataclass(frozen=True, slots=True)
class RemoteFile:
    rel: str  # relative POSIX path under the listed prefix
    url: str  # full "scheme://bucket/key"
    size: int
    etag: str | None
    mtime: str | None


def list_local(root: Path) -> list[tuple[str, int]]:
    """(relative POSIX path, size) of every file under `root`, sorted; symlinked folders are not followed."""
    found: list[tuple[str, int]] = []
    stack = [(os.fspath(root), "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                elif entry.is_file():
                    found.append((rel, entry.stat().st_size))
    found.sort()
    return found


def list_remote_detailed(location: Location) -> list[RemoteFile]:
    """Every object under a cloud prefix with size and ETag from the listing itself (no per-object HEAD)."""
    text = location_str(location)
    fs, root = remote_fs_path(text)
    fs.invalidate_cache(root)
    protocol = protocol_of(text)
    found: list[RemoteFile] = []
    for name, info in fs.find(root, detail=True, withdirs=False).items():
        name = name.rstrip("/")
        # Zero-byte "folder/" marker objects and the prefix itself are not files of the folder.
        if info.get("type") == "directory" or name == root or not name.startswith(root + "/"):
            continue
        if str(info.get("Key", name)).endswith("/"):
            continue
        modified = info.get("LastModified") or info.get("mtime")
        found.append(
            RemoteFile(
                rel=name[len(root) + 1 :],
                url=f"{protocol}://{name}",
                size=int(info.get("size") or 0),
                etag=info.get("ETag") or info.get("etag"),
                mtime=None if modified is None else str(modified),
            )
        )
    found.sort(key=lambda item: item.rel)
    return found


def list_files(path: Location) -> list[tuple[str, int]]:
    """(relative POSIX path, size) of every file under a local folder or cloud prefix, sorted by path."""
    text = location_str(path)
    try:
        if is_cloud(text):
            return [(item.rel, item.size) for item in list_remote_detailed(text)]
        root = to_local_path(text)
        if not root.is_dir():
            raise StorageError(f"Cannot list {text}: it does not exist or is not a folder.")
        return list_local(root)
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"Cannot list {text}: {exc}") from exc
