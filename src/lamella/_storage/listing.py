"""Recursive file listings of local folders and cloud prefixes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lamella.errors import StorageError

from .paths import Location, is_cloud, location_str, protocol_of, remote_fs_path, to_local_path

__all__ = [
    "LeftOut",
    "LocalListing",
    "RemoteFile",
    "list_files",
    "list_local",
    "list_remote_detailed",
    "scan_local",
]


@dataclass(frozen=True, slots=True)
class RemoteFile:
    rel: str  # relative POSIX path under the listed prefix
    url: str  # full "scheme://bucket/key"
    size: int
    etag: str | None
    mtime: str | None


@dataclass(frozen=True, slots=True)
class LeftOut:
    """An entry of a local folder that is not part of it as Lamella sees it (see `tree`)."""

    rel: str
    reason: str


@dataclass(frozen=True, slots=True)
class LocalListing:
    files: list[tuple[str, int]]  # (relative POSIX path, size), sorted
    left_out: list[LeftOut]  # sorted by path


def _within(path: str, root: str) -> bool:
    return path == root or os.path.commonpath([path, root]) == root


def _resolve(link: str) -> tuple[str | None, str]:
    """The real path a symlink leads to, or None and why it leads nowhere."""
    try:
        return os.path.realpath(link, strict=True), ""
    except FileNotFoundError:
        return None, f"dangling link to {os.readlink(link)}"
    except (OSError, RuntimeError):  # ELOOP: links that point at each other
        return None, f"dangling link to {os.readlink(link)} (a loop of links)"


def scan_local(root: Path) -> LocalListing:
    """The files of a local folder under the symlink policy of `tree`, and the entries it leaves out."""
    real_root = os.path.realpath(root)
    found: list[tuple[str, int]] = []
    left_out: list[LeftOut] = []
    # each folder to list carries the real paths of the folders above it: a link back to one is a cycle
    stack: list[tuple[str, str, tuple[str, ...]]] = [(os.fspath(root), "", (real_root,))]
    while stack:
        folder, prefix, chain = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if not entry.is_symlink():
                    if entry.is_dir(follow_symlinks=False):
                        real = os.path.join(chain[-1], entry.name)
                        stack.append((entry.path, rel + "/", (*chain, real)))
                    elif entry.is_file(follow_symlinks=False):
                        found.append((rel, entry.stat(follow_symlinks=False).st_size))
                    else:
                        left_out.append(LeftOut(rel, "not a regular file or folder"))
                    continue
                target, problem = _resolve(entry.path)
                if target is None:
                    left_out.append(LeftOut(rel, problem))
                elif not _within(target, real_root):
                    left_out.append(LeftOut(rel, f"link to {target}, outside the folder"))
                elif os.path.isdir(target):
                    if target in chain:
                        left_out.append(
                            LeftOut(rel, f"link cycle: leads back to {target}, which contains it")
                        )
                    else:
                        stack.append((entry.path, rel + "/", (*chain, target)))
                elif os.path.isfile(target):
                    found.append((rel, os.stat(target).st_size))
                else:
                    left_out.append(LeftOut(rel, f"link to {target}, not a regular file or folder"))
    found.sort()
    left_out.sort(key=lambda item: item.rel)
    return LocalListing(found, left_out)


def list_local(root: Path) -> list[tuple[str, int]]:
    """(relative POSIX path, size) of every file under `root`, sorted, under the symlink policy of `tree`."""
    return scan_local(root).files


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
