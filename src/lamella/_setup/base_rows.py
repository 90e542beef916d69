"""The rows every instance starts with, defined once for both ways an instance is created.

A new SQLite instance gets them from the DDL snapshot's inserts (`sqlite_snapshot.py`, standard
library only); an instance created through SQLAlchemy (PostgreSQL, or an empty SQLite file) gets them
from `setup._ensure_base_rows`. Both read these definitions, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "BRANCHES",
    "DEFAULT_SPACE",
    "DEFAULT_STORAGE_DESCRIPTION",
    "NEW_INSTANCE_SETTINGS",
    "BaseRow",
    "storage_type",
]


class BaseRow(NamedTuple):
    id: int
    uid: str
    name: str


# main holds what users see; archive and trash are where delete() and archiving move records
BRANCHES = (
    BaseRow(1, "main00000000", "main"),
    BaseRow(0, "archive00000", "archive"),
    BaseRow(-1, "trash0000000", "trash"),
)
DEFAULT_SPACE = BaseRow(1, "all000000000", "all")
DEFAULT_STORAGE_DESCRIPTION = "default storage"
# the instance settings (`instance_setting`) of an instance created now: its bytes are hashed with
# BLAKE3 (`lamella._storage.hashing.BLAKE3`, not imported: `lamella init` stays free of the storage
# layer). The migration that added the table gives older instances md5, what they hashed with.
NEW_INSTANCE_SETTINGS = (("hash_type", "blake3"),)


def storage_type(root: str) -> str:
    """The `type` of a storage row for a root: "s3" for buckets, "local" for folders."""
    return "s3" if root.startswith("s3://") else "local"
