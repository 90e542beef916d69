"""Switching the default storage of the connected instance (`ln.settings.storage = "s3://..."`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lamella._instance import state
from lamella._logging import logger
from lamella._setup.instances import ensure_storage_reachable, normalize_storage_root
from lamella.errors import InvalidArgument
from lamella.models.artifact.source import forget_storage_roots
from lamella.models.core.instance_records import Storage


def switch_default_storage(root: str | Path) -> None:
    """New artifacts go to `root` from now on; it becomes a storage managed by this instance."""

    instance = state.current()
    normalized = normalize_storage_root(root)
    ensure_storage_reachable(normalized)
    with instance.db.write("lamella:storage") as session:
        record = session.execute(select(Storage).where(Storage.root == normalized)).scalar_one_or_none()
        if record is None:
            record = Storage(
                root=normalized,
                type="s3" if normalized.startswith("s3://") else "local",
                instance_uid=instance.config.uid,
                created_by_id=instance.user_id,
            )
            session.add(record)
            session.flush()
        elif record.instance_uid is None:
            raise InvalidArgument(
                f"{normalized} is registered as referenced (read-only) storage; pick a location this instance owns"
            )
        elif record.instance_uid != instance.config.uid:
            raise InvalidArgument(f"{normalized} is managed by another instance ({record.instance_uid})")
        storage_id = record.id

    forget_storage_roots()
    instance.config.default_storage = None if normalized == instance.config.storage_root else normalized
    instance.config.save()
    instance.storage_root, instance.storage_id = normalized, storage_id
    logger.info(f"default storage is now {normalized}")
