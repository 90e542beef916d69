"""What `lamella check` looks at in a storage: each artifact's bytes, files no record names, staged saves.

An artifact Lamella manages lives at `<root>/.lamella/<uid><suffix>` (a file, or a folder of files);
`_pending/` holds saves in progress and `_orphaned/` the files `--repair` moved aside.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lamella import _storage
from lamella._setup.check_report import HASH, MISSING, ORPHAN, SIZE, UNREADABLE, Problem
from lamella.errors import StorageError

MANAGED_DIR = ".lamella"
ORPHANED_DIR = "_orphaned"
_NOT_ARTIFACTS = ("_pending", ORPHANED_DIR)
ARTIFACT_NAME = re.compile(r"^(?P<uid>[0-9A-Za-z]{20})(?P<suffix>\..*)?$")
_RESTORE = (
    "restore it from a backup (the record keeps the hash to verify the copy), or remove the record "
    "with ln.Artifact.get('{uid}').delete(permanent=True, storage=False)"
)


@dataclass(frozen=True)
class Recorded:
    """An artifact record, as much of it as checking its bytes needs."""

    uid: str
    location: str
    size: int | None
    hash: str | None
    hash_type: str | None
    n_files: int | None


def managed_folder(root: str) -> str:
    return f"{root.rstrip('/')}/{MANAGED_DIR}"


def _verify(item: Recorded) -> tuple[Problem | None, bool, int]:
    """(problem or None, whether the hash was compared, bytes read) for one artifact."""

    try:
        if not _storage.exists(item.location):
            return _problem(MISSING, item, "its bytes are gone"), False, 0
        folder = item.n_files is not None or _storage.is_dir(item.location)
        if not folder and not _storage.is_cloud(item.location) and item.size is not None:
            actual_size = os.stat(item.location).st_size  # cheap, and a shorter file needs no hashing
            if actual_size != item.size:
                return _problem(SIZE, item, f"{actual_size} bytes, recorded {item.size}"), False, 0
        algorithm = recorded_algorithm(item.hash_type)
        if algorithm is None or item.hash is None:
            return None, False, 0
        if folder:
            digest, size, n_files = _storage.hash_folder(item.location, algorithm)
        else:
            digest, size = _storage.hash_file(item.location, algorithm)
            n_files = None
    except (StorageError, OSError) as e:
        return _problem(UNREADABLE, item, str(e)), False, 0
    if item.size is not None and size != item.size:
        return _problem(SIZE, item, f"{size} bytes, recorded {item.size}"), True, size
    if item.n_files is not None and n_files is not None and n_files != item.n_files:
        return _problem(SIZE, item, f"{n_files} files, recorded {item.n_files}"), True, size
    if digest != item.hash:
        return _problem(HASH, item, f"hash {digest}, recorded {item.hash}: the bytes changed"), True, size
    return None, True, size


def recorded_algorithm(hash_type: str | None) -> str | None:
    """The algorithm that checks an artifact's hash, by the hash type it records; None for types this
    version does not compute (they are not hash-checked). Records without a type predate it: md5."""
    return _storage.MD5 if hash_type is None else _storage.algorithm_of(hash_type)


def _problem(kind: str, item: Recorded, detail: str) -> Problem:
    return Problem(kind, f"{item.uid} ({item.location})", detail, _RESTORE.format(uid=item.uid))


def verify_artifacts(
    items: list[Recorded], advance: Callable[[int], None], workers: int = 4
) -> Iterable[tuple[Problem | None, bool, int]]:
    """Check every artifact, a few at once (reading files and hashing both release the GIL)."""

    def one(item: Recorded) -> tuple[Problem | None, bool, int]:
        result = _verify(item)
        advance(item.size or 0)
        return result

    with ThreadPoolExecutor(workers, thread_name_prefix="lamella-check") as pool:
        yield from pool.map(one, items)


def list_managed(root: str) -> list[tuple[str, str]]:
    """(name, location) of each entry directly under `<root>/.lamella/` (files and artifact folders)."""
    return list_entries(managed_folder(root))


def list_entries(folder: str) -> list[tuple[str, str]]:
    """(name, location) of each entry directly in a local or cloud folder; none if it does not exist."""

    if _storage.is_cloud(folder):
        fs = _storage.filesystem(folder)
        fs.invalidate_cache(folder.split("://", 1)[1])
        try:
            names = [n.rstrip("/").rsplit("/", 1)[-1] for n in fs.ls(folder, detail=False)]
        except FileNotFoundError:
            return []
    else:
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
    return [(name, f"{folder}/{name}") for name in sorted(names)]


def is_artifact_entry(name: str) -> bool:
    """Whether an entry of `.lamella/` is (or could be) an artifact's bytes, not Lamella's own files."""
    return not (name.startswith(("lamella.db", ".")) or name in _NOT_ARTIFACTS)


def find_orphans(root: str, registered: set[str]) -> tuple[list[Problem], int]:
    """Files in `.lamella/` that no artifact record of this storage names; and how many entries there are."""
    entries = [(n, loc) for n, loc in list_managed(root) if is_artifact_entry(n)]
    problems = []
    for name, location in entries:
        match = ARTIFACT_NAME.match(name)
        if match is not None and match["uid"] in registered:
            continue
        detail = "no artifact record names it" if match else "not named like an artifact (<uid><suffix>)"
        problems.append(
            Problem(
                ORPHAN,
                location,
                detail,
                f"`lamella check --reindex` registers it as an artifact; `--repair` moves it to "
                f"{managed_folder(root)}/{ORPHANED_DIR}/",
            )
        )
    return problems, len(entries)


def move_aside(location: str) -> str:
    """Move an orphan into `_orphaned/` beside it (never deleted: it may be the only copy); returns where."""

    parent, name = location.rsplit("/", 1)
    target_dir = f"{parent}/{ORPHANED_DIR}"
    target = f"{target_dir}/{name}"
    if _storage.is_cloud(location):
        fs = _storage.filesystem(location)
        fs.mv(location, target, recursive=True)
        return target
    os.makedirs(target_dir, exist_ok=True)
    n = 1
    while os.path.exists(target):  # an earlier orphan of the same name stays too
        target = f"{target_dir}/{name}.{n}"
        n += 1
    os.replace(location, target)
    return target
