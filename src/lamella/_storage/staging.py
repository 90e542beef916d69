"""Staged files: in-memory data written to `<cache>/_staging` before the save copies it into storage.

A staged file is named `<random>~<host>~<pid><suffix>` after the process that wrote it, because it
lives as long as its artifact object: from construction to the end of the save (or until the object
is garbage-collected or the interpreter exits). A process killed in between cannot remove it, so
every connect sweeps the folder: files of a dead process on this host are removed; a live process's
files never are, however old (a notebook may keep an unsaved artifact for days). Files of another
host (a shared home folder), and files without an owner (written by older versions), are removed
once they are `STALE_AFTER_SECONDS` old.

The folder holds nothing else: downloaded copies of stored artifacts live elsewhere in the cache
(`<cache>/<bucket>/...`; bucket names cannot start with "_").
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from lamella._process import HOST, STALE_AFTER_SECONDS, writer_gone

__all__ = [
    "discard",
    "new_stem",
    "remove",
    "staging_folder",
    "sweep_staging",
]

FOLDER_NAME = "_staging"
_OWNED = re.compile(r"^[0-9A-Za-z]+~(?P<host>[^~]+)~(?P<pid>\d+)(?:\.|$)")


def staging_folder(cache_dir: Path) -> Path:
    return Path(cache_dir) / FOLDER_NAME


def new_stem(random_part: str) -> str:
    """The name of a new staged file without its suffix; it names this process as the owner."""
    return f"{random_part}~{HOST}~{os.getpid()}"


def remove(path: Path) -> None:
    """Remove a staged file or folder (zarr); best effort, the next sweep retries."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def discard(path: Path) -> None:
    """Remove a staged file if this process wrote it: a forked child must not remove its parent's."""
    match = _OWNED.match(path.name)
    if match is not None and match["host"] == HOST and int(match["pid"]) == os.getpid():
        remove(path)


def _abandoned(name: str, modified: float) -> bool:
    match = _OWNED.match(name)
    age = time.time() - modified
    if match is None:  # no owner in the name (written by an older version): by age only
        return age > STALE_AFTER_SECONDS
    return writer_gone(match["host"], int(match["pid"]), age)


def sweep_staging(folder: Path) -> int:
    """Remove the staged files whose writer is gone (see the module docstring); returns how many."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    removed = 0
    for name in names:
        path = folder / name
        try:
            modified = path.lstat().st_mtime
        except FileNotFoundError:
            continue
        if _abandoned(name, modified):
            remove(path)
            removed += 1
    return removed
