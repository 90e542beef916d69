"""Instances as configuration: create, list, delete and choose them, without opening a database.

Nothing here imports SQLAlchemy or the registries, so `lamella init` of an embedded instance (its
database is copied from the SQL snapshot) and `lamella list` stay fast. Opening a database is
`connect.py`'s job.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from lamella import _storage
from lamella._instance import config as cfg
from lamella._instance import state
from lamella._logging import logger
from lamella._setup.sqlite_snapshot import create_instance_database
from lamella._uid import base62
from lamella.errors import InvalidArgument, NotConnected, PathNotAFolder, StorageError

DEFAULT_INSTANCE_NAME = "default"


def normalize_storage_root(storage: str | Path) -> str:
    if not (isinstance(storage, str | os.PathLike) or type(storage).__name__.endswith("Path")):
        raise InvalidArgument(
            f"storage must be a folder path or an s3:// URL (str or Path), not {storage!r} "
            f"({type(storage).__name__}): pass e.g. storage='./data' or storage='s3://bucket/prefix'"
        )
    text = str(storage).strip()
    if not text:
        raise InvalidArgument("--storage is empty: pass a folder (./data) or a bucket (s3://bucket/prefix)")
    if "://" in text:
        scheme = text.split("://", 1)[0]
        if scheme not in ("s3",):
            raise InvalidArgument(f"storage {text!r}: only local folders and s3:// buckets are supported")
        root = text.rstrip("/")
        if root == "s3:/" or root == "s3:":
            raise InvalidArgument(f"storage {text!r} names no bucket: use s3://bucket or s3://bucket/prefix")
        return root
    return str(Path(text).expanduser().resolve())


def name_from_root(root: str) -> str:
    tail = root.rstrip("/").rsplit("/", 1)[-1]
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in tail).strip("-.") or "instance"
    return cleaned


def ensure_storage_reachable(root: str) -> None:
    if "://" not in root:
        try:
            Path(root).mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as e:
            raise PathNotAFolder(
                f"cannot use {root} as storage: it (or a folder above it) is a file; pass a folder path"
            ) from e
        except OSError as e:
            raise StorageError(f"cannot create the storage folder {root}: {e}") from e
        return

    bucket = root.split("://", 1)[1].split("/", 1)[0]
    try:
        fs = _storage.filesystem(root)
        fs.ls(bucket)
    except Exception as e:
        raise StorageError(
            f"cannot reach the bucket of {root}: {e}; check the bucket name and your AWS credentials"
        ) from e


def save_new_config(config: cfg.InstanceConfig) -> None:
    """Save the config and make it current in one step, so no process sees one without the other."""
    with cfg.settings_lock():
        saved = config.save_new()
        if saved is not config:  # another process initialized an instance of this name meanwhile
            if saved.storage_root != config.storage_root or saved.db != config.db:
                raise InvalidArgument(
                    f"an instance named {config.name!r} was just created with storage {saved.storage_root!r} "
                    f"by another process; pick another --name"
                )
            config.uid = saved.uid  # one instance, one uid: the one in the settings of every process
        cfg.set_current_instance(config.name)


def parse_modules(modules: str | list[str] | None) -> list[str]:
    if modules is None:
        return []
    listed = modules.split(",") if isinstance(modules, str) else modules
    if not isinstance(listed, list | tuple) or not all(isinstance(m, str) for m in listed):
        raise InvalidArgument(
            f"modules= takes module names, as a list or comma-separated: modules='bionty', not {modules!r}"
        )
    items = [m.strip() for m in listed if m.strip()]
    for item in items:
        if item not in cfg.OPTIONAL_MODULES:
            raise InvalidArgument(
                f"unknown module {item!r}; available modules: {', '.join(cfg.OPTIONAL_MODULES)}"
            )
    return items


def disconnect() -> None:
    cfg.set_current_instance(None)
    instance = state.peek()
    state.set_current(None)
    if instance is not None:
        instance.db.dispose()


def delete(name: str, *, force: bool = False) -> None:
    """Forget an instance and delete its embedded database; stored data in its storage is kept."""
    config = cfg.InstanceConfig.load(name)
    if config is None:
        raise NotConnected(f"no instance named {name!r}; `lamella list` shows the instances")
    current = state.peek()
    if current is not None and current.config.name == name:
        state.set_current(None)
        current.db.dispose()
    if config.dialect == "sqlite":
        db_path = config.sqlite_path()
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        if "://" in config.storage_root:
            shutil.rmtree(db_path.parent, ignore_errors=True)
    config.remove()
    if cfg.current_instance_name() == name:
        cfg.set_current_instance(None)
    logger.info(f"deleted instance {name!r} (its stored files in {config.storage_root} were kept)")


def login(handle: str) -> cfg.UserConfig:
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", handle):
        raise InvalidArgument(f"invalid handle {handle!r}: use letters, digits, '-', '_' or '.'")
    user = cfg.read_user()
    if user.handle != handle:
        user = cfg.UserConfig(handle=handle, uid=base62(8))
        cfg.write_user(user)
    current = state.peek()
    if current is not None:  # reconnect so new records are created by the new user
        state.set_current(None)
        current.db.dispose()
    logger.info(f"logged in as {handle}")
    return user


def list_instances() -> list[cfg.InstanceConfig]:
    return cfg.list_instance_configs()


def new_config(
    storage: str | Path, name: str | None, db: str | None, modules: str | list[str] | None
) -> tuple[cfg.InstanceConfig, bool]:
    """The config of the instance `init` asked for, and whether it exists already (with the same settings)."""
    root = normalize_storage_root(storage)
    name = cfg.validate_instance_name(name or name_from_root(root))
    module_list = parse_modules(modules)
    if db is not None and not db.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        raise InvalidArgument(
            f"--db {db!r}: pass a PostgreSQL URL, postgresql://user:password@host:port/dbname"
        )
    existing = cfg.InstanceConfig.load(name)
    if existing is not None:
        if existing.storage_root != root or existing.db != db:
            raise InvalidArgument(
                f"an instance named {name!r} already exists with storage {existing.storage_root!r}; "
                f"pick another --name or remove it with `lamella delete {name}`"
            )
        return existing, True
    ensure_storage_reachable(root)
    return cfg.InstanceConfig(name=name, uid=base62(12), storage_root=root, db=db, modules=module_list), False


def init_embedded(
    *, storage: str | Path, name: str | None = None, modules: str | list[str] | None = None
) -> bool:
    """`lamella init` of a SQLite instance: create it (or choose it, if it exists) without connecting.

    Returns False when only opening the database can finish the job (another process is creating
    this instance right now): then call `connect.init(..., connect=False)`.
    """
    config, exists = new_config(storage, name, None, modules)
    user = cfg.read_user()
    if exists:
        cfg.set_current_instance(config.name)
        logger.info(f"connected lamella: {user.handle}/{config.name}")
        return True
    if not create_instance_database(config, user):
        return False
    save_new_config(config)
    logger.info(f"initialized lamella: {user.handle}/{config.name} (storage {config.storage_root})")
    return True
