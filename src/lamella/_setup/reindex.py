"""Rebuilding artifact records from a storage's files (`lamella check --reindex`).

The bytes of an artifact are stored as `<root>/.lamella/<uid><suffix>`, so the file name gives the
uid (and with it the version family) and the suffix, and the bytes give size and hash. What only
the lost database knew cannot come back: the key, description, features, labels and lineage. A
rebuilt record says where it came from in its description and has no key. Files that `--repair`
moved to `_orphaned/` are moved back and registered too. Running it again registers nothing twice:
a uid that has a record is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from lamella import _storage
from lamella._setup import check_storage
from lamella._uid import decode_version
from lamella.models.artifact.artifact import Artifact

if TYPE_CHECKING:
    from lamella._instance.database import Database

_CHUNK = 500  # rows per transaction: a long rebuild holds the write lock only briefly at a time
_VERSION_CHARS = 4


@dataclass
class Found:
    uid: str
    suffix: str
    location: str
    size: int = 0
    hash: str = ""
    hash_type: str = ""
    n_files: int | None = None
    created_at: datetime | None = None


def registered_uids(database: Database, storage_id: int | None = None) -> set[str]:

    table = Artifact.__table__.c
    query = select(table.uid)
    if storage_id is not None:
        query = query.where(table.storage_id == storage_id)
    return set(database.session().execute(query).scalars())


def unregistered_files(root: str, registered: set[str]) -> list[Found]:
    """Artifact-named entries of `.lamella/` (and of `_orphaned/`, moved back) that have no record."""

    found: dict[str, Found] = {}
    folder = check_storage.managed_folder(root)
    orphaned = f"{folder}/{check_storage.ORPHANED_DIR}"
    for name, location in check_storage.list_entries(orphaned):
        match = check_storage.ARTIFACT_NAME.match(name)
        if match is None or match["uid"] in registered:
            continue
        target = f"{folder}/{name}"
        if _storage.exists(target):
            continue  # a file of that name is in place already; leave the one set aside alone
        _move(location, target)
    for name, location in check_storage.list_managed(root):
        match = check_storage.ARTIFACT_NAME.match(name)
        if not check_storage.is_artifact_entry(name) or match is None:
            continue
        uid = match["uid"]
        if uid in registered or uid in found:
            continue
        found[uid] = Found(uid=uid, suffix=match["suffix"] or "", location=location)
    return list(found.values())


def _move(source: str, target: str) -> None:

    if _storage.is_cloud(source):
        _storage.filesystem(source).mv(source, target, recursive=True)
    else:
        os.replace(source, target)


def measure(item: Found, hash_type: str, advance: Callable[[int], None]) -> None:
    """Hash the bytes the way a save does (with the instance's hash type; a folder's hash from its
    files' hashes)."""

    if _storage.is_dir(item.location):
        item.hash, item.size, item.n_files = _storage.hash_folder(item.location, hash_type)
        item.hash_type = _storage.folder_hash_type(hash_type)
    else:
        item.hash, item.size = _storage.hash_file(item.location, hash_type)
        item.hash_type = hash_type
    if not _storage.is_cloud(item.location):
        item.created_at = datetime.fromtimestamp(os.stat(item.location).st_mtime, UTC)
    advance(item.size)


def insert_records(
    database: Database, items: list[Found], *, storage_id: int, user_id: int, root: str
) -> list[str]:
    """One record per file; the newest version of a family without a latest version becomes latest."""

    table = Artifact.__table__
    now = datetime.now(UTC)
    created: list[str] = []
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        with database.write("lamella:artifact") as session:
            stems = {item.uid[:-_VERSION_CHARS] for item in chunk}
            with_latest = set(
                session.execute(
                    select(Artifact._stem_expression()).where(
                        Artifact._stem_expression().in_(stems), table.c.is_latest.is_(True)
                    )
                ).scalars()
            )
            newest: dict[str, str] = {}
            for item in chunk:
                stem = item.uid[:-_VERSION_CHARS]
                if stem in with_latest:
                    continue
                best = newest.get(stem)
                if best is None or _version(item.uid) > _version(best):
                    newest[stem] = item.uid
            latest = set(newest.values())
            rows: list[dict[str, Any]] = [
                {
                    "uid": item.uid,
                    "key": None,
                    "description": f"recovered by `lamella check --reindex` from {root}/.lamella/"
                    f"{item.uid}{item.suffix}",
                    "storage_id": storage_id,
                    "suffix": item.suffix,
                    "size": item.size,
                    "hash": item.hash,
                    "_hash_type": item.hash_type,
                    "n_files": item.n_files,
                    "_key_is_virtual": True,
                    "is_latest": item.uid in latest,
                    "created_by_id": user_id,
                    "branch_id": 1,
                    "space_id": 1,
                    "created_at": item.created_at or now,
                }
                for item in chunk
            ]
            session.execute(insert(table), rows)
        created.extend(item.uid for item in chunk)
    return created


def _version(uid: str) -> int:
    try:
        return decode_version(uid[-_VERSION_CHARS:])
    except ValueError:
        return -1
