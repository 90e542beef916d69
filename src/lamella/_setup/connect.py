"""Open an instance's database: `init` (with connecting), `connect`, connecting on first use, `migrate`.

Opening checks the schema revision, writes the base rows a new database needs and finishes saves
that a killed process left half done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from lamella._instance import access, paths, state
from lamella._instance import config as cfg
from lamella._instance.database import Database, create_engine_for
from lamella._logging import logger
from lamella._setup import base_rows, instances, schema
from lamella._setup.sqlite_snapshot import create_instance_database
from lamella._storage.staging import staging_folder, sweep_staging
from lamella.errors import NotConnected, ReadOnlyError
from lamella.models import Branch, Space, Storage, User
from lamella.models.artifact.store import sweep_pending


def init(
    *,
    storage: str | Path,
    name: str | None = None,
    db: str | None = None,
    modules: str | list[str] | None = None,
    connect: bool = True,
    announce: bool = True,
) -> state.Instance | None:
    """Create an instance (or connect to it if it exists with the same settings) and make it current.

    `connect=False` (the CLI) only creates it: a new SQLite instance then needs no SQLAlchemy at all.
    """

    config, exists = instances.new_config(storage, name, db, modules)
    if exists:
        if not connect:
            cfg.set_current_instance(config.name)
            logger.info(f"connected lamella: {cfg.read_user().handle}/{config.name}")
            return None
        return _connect(config.name, persist=True)
    user = cfg.read_user()
    instance = _create_database(config, user, connect=connect)
    try:
        instances.save_new_config(config)
    except BaseException:
        if instance is not None:
            instance.db.dispose()
        raise
    if instance is not None:
        state.set_current(instance)
    if announce:
        logger.info(f"initialized lamella: {user.handle}/{config.name} (storage {config.storage_root})")
    return instance


def _create_database(
    config: cfg.InstanceConfig, user: cfg.UserConfig, *, connect: bool
) -> state.Instance | None:
    """Create the instance's database, or join the one another process has just created.

    Other processes may be creating the same instance at this moment: the SQLite file appears
    complete or not at all, the PostgreSQL schema and first rows are created under locks, and a
    process that finds the database made adopts the uid it was made with.
    """
    if config.dialect == "sqlite" and create_instance_database(config, user):
        return _open(config, create=False) if connect else None
    instance = _open(config, create=True)
    config.uid = _recorded_instance_uid(instance) or config.uid
    if not connect:
        instance.db.dispose()
        return None
    return instance


def _recorded_instance_uid(instance: state.Instance) -> str | None:

    uid: str | None = (
        instance.db.session()
        .execute(select(Storage.instance_uid).where(Storage.id == instance.storage_id))
        .scalar_one_or_none()
    )
    return uid


def _connect(name: str, *, persist: bool = False) -> state.Instance:
    return connect(name, persist=persist)  # for `init`, whose flag `connect` hides this function


def connect(name: str, *, persist: bool = False, read_only: bool = False) -> state.Instance:
    """Connect this process to the instance `name`; `persist=True` also makes it the default.

    `read_only=True` only reads: queries, `load()` and `cache()` work, writes raise `ReadOnlyError`.
    An instance whose database cannot be written is connected read-only without being asked.
    """
    config = cfg.InstanceConfig.load(name)
    if config is None:
        known = [c.name for c in cfg.list_instance_configs()]
        hint = f"known instances: {', '.join(known)}" if known else "there are no instances yet"
        raise NotConnected(
            f"no instance named {name!r} ({hint}); create it with `lamella init --storage ./data --name {name}`"
        )
    current = state.peek()
    if (
        current is not None
        and current.config.name == name
        and current.config.uid == config.uid
        and current.read_only_requested == read_only
    ):
        instance = current
    else:
        instance = _open(config, create=False, read_only=read_only)
        state.set_current(instance)
    if persist:
        cfg.set_current_instance(name, read_only=read_only)
    return instance


def autoconnect() -> state.Instance:
    name = cfg.current_instance_name()
    if name and cfg.InstanceConfig.load(name) is not None:
        return connect(name, read_only=cfg.current_read_only())
    # look again under the lock: another process may be saving the default instance right now,
    # and its config and current instance appear together only to a reader holding the lock
    with cfg.settings_lock():
        name = cfg.current_instance_name()
        if name and cfg.InstanceConfig.load(name) is None:
            name = None
        configs = [] if name else cfg.list_instance_configs()
    if name:
        return connect(name, read_only=cfg.current_read_only())
    if configs:
        raise NotConnected(
            f"no current instance; connect one with `lamella connect NAME` "
            f"(known: {', '.join(c.name for c in configs)})"
        )

    root = paths.home() / "data" / instances.DEFAULT_INSTANCE_NAME
    instance = init(storage=root, name=instances.DEFAULT_INSTANCE_NAME, announce=False)
    assert instance is not None
    logger.info(
        f"no instance yet: created the embedded instance {instances.DEFAULT_INSTANCE_NAME!r} with storage {root} "
        f"(`lamella init --storage PATH` makes others)"
    )
    return instance


def _open(
    config: cfg.InstanceConfig, *, create: bool, read_only: bool = False, other: bool = False
) -> state.Instance:
    """Open the database of `config`: checked, with its base rows, interrupted saves finished.

    `other=True` opens it read-only to read beside the connection (`.using()`, `ln.DB()`).
    """

    if config.dialect == "sqlite" and not create and not config.sqlite_path().exists():
        raise NotConnected(
            f"the database file {config.sqlite_path()} of instance {config.name!r} is missing: restore it "
            f"from a backup, or rebuild the artifact registry from the files in {config.storage_root} "
            f"with `lamella check --reindex`"
        )
    reason = access.USING if other else access.REQUESTED if read_only else None
    if reason is None and config.dialect == "sqlite" and not create:
        reason = access.sqlite_refusal(config.sqlite_path())
    database = Database(config, read_only_reason=reason)
    user = cfg.read_user()
    user_id: int | None
    try:
        with database.engine.connect() as connection:
            revision = schema.current_revision(connection)
            if not database.read_only and config.dialect == "postgresql" and revision is not None:
                refusal = access.pg_refusal(connection)
                if refusal is not None:
                    database.mark_read_only(refusal)
        if revision is None and create:
            schema.create_schema(database.engine)
        else:
            schema.check_revision(revision, config.name)
        for module in config.modules:  # the tables of the instance's modules (`--modules bionty`)
            if database.read_only:
                schema.load_module(module)
            else:
                schema.create_module_tables(database.engine, module)
        if not database.read_only:
            try:
                user_id, storage_id = _ensure_base_rows(database, config, user)
            except ReadOnlyError:  # the database refused the write: it only reads (marked by now)
                database.mark_read_only(database.read_only_reason or "the database refused a write")
        if database.read_only:
            user_id, storage_id = _lookup_base_rows(database, config, user)
    except Exception as e:
        database.dispose()

        if isinstance(e, OperationalError):
            raise NotConnected(f"cannot connect to the database of instance {config.name!r}: {e.orig}") from e
        raise
    instance = state.Instance(
        config=config,
        db=database,
        user=user,
        user_id=user_id,
        storage_id=storage_id,
        storage_root=config.current_storage_root,
        read_only_requested=read_only or other,
        other=other,
    )
    if other:  # the records its sessions load carry it (models/core/other_instances.py)
        database.tag_records(state.SESSION_KEY, instance)
    if database.read_only and not (read_only or other):
        logger.info(f"connected instance {config.name!r} read-only: {database.read_only_reason}")
    if not database.read_only:  # a reader must not move or delete anyone's files
        _sweep_interrupted_saves(instance)
    return instance


def _lookup_base_rows(
    database: Any, config: cfg.InstanceConfig, user: cfg.UserConfig
) -> tuple[int | None, int]:
    """The ids `_ensure_base_rows` would give, without writing: a user the instance has never seen is None."""

    session = database.session()
    user_id = session.execute(select(User.id).where(User.uid == user.uid)).scalar_one_or_none()
    if user_id is None:
        user_id = session.execute(select(User.id).where(User.handle == user.handle)).scalar_one_or_none()
    storage_id = session.execute(
        select(Storage.id).where(Storage.root == config.current_storage_root)
    ).scalar_one_or_none()
    if storage_id is None:
        storage_id = session.execute(
            select(Storage.id).where(Storage.instance_uid == config.uid).order_by(Storage.id).limit(1)
        ).scalar_one_or_none()
    if storage_id is None:
        raise NotConnected(
            f"instance {config.name!r} has no storage record for {config.current_storage_root} and is "
            f"read-only ({database.read_only_reason}); connect once with write access to register it"
        )
    return user_id, storage_id


def _ensure_base_rows(database: Any, config: cfg.InstanceConfig, user: cfg.UserConfig) -> tuple[int, int]:
    """The rows every instance needs: branches, the default space, this user, the default storage."""

    users, storages, branches = User.__table__.c, Storage.__table__.c, Branch.__table__.c
    # one round trip on the tables, not the ORM: every connect runs it, and it finds them all but once
    found = (
        database.session()
        .execute(
            select(
                select(users.id).where(users.uid == user.uid).scalar_subquery(),
                select(storages.id).where(storages.root == config.current_storage_root).scalar_subquery(),
                select(branches.id).where(branches.id == 1).scalar_subquery(),
            )
        )
        .one()
    )
    user_id, storage_id, has_branches = found
    if user_id is not None and storage_id is not None and has_branches is not None:
        return user_id, storage_id
    with database.write("lamella:setup") as session:
        if session.execute(select(Branch.id).where(Branch.id == 1)).scalar_one_or_none() is None:
            now = datetime.now(UTC)
            for branch in base_rows.BRANCHES:
                session.add(Branch(id=branch.id, uid=branch.uid, name=branch.name, created_at=now))
            space = base_rows.DEFAULT_SPACE
            session.add(Space(id=space.id, uid=space.uid, name=space.name, created_at=now))
            session.flush()
        user_row = session.execute(select(User).where(User.uid == user.uid)).scalar_one_or_none()
        if user_row is None:
            user_row = session.execute(select(User).where(User.handle == user.handle)).scalar_one_or_none()
            if user_row is None:
                user_row = User(uid=user.uid, handle=user.handle, name=user.name)
                session.add(user_row)
                session.flush()
        storage_row = session.execute(
            select(Storage).where(Storage.root == config.current_storage_root)
        ).scalar_one_or_none()
        if storage_row is None:
            storage_row = Storage(
                root=config.current_storage_root,
                type=base_rows.storage_type(config.current_storage_root),
                instance_uid=config.uid,
                description=base_rows.DEFAULT_STORAGE_DESCRIPTION,
                created_by_id=user_row.id,
            )
            session.add(storage_row)
            session.flush()
        return user_row.id, storage_row.id


def _sweep_interrupted_saves(instance: state.Instance) -> None:
    try:
        sweep_pending(instance)
    except Exception as e:  # a sweep failure must never block connecting
        logger.debug(f"could not clean up interrupted saves: {e}")
    try:  # in-memory data staged by processes that died before saving it
        removed = sweep_staging(staging_folder(state.cache_dir()))
        if removed:
            logger.info(f"removed {removed} staged file(s) of processes that ended before saving them")
    except Exception as e:
        logger.debug(f"could not clean up staged files: {e}")


def migrate(modules: str | list[str] | None = None) -> tuple[str | None, str]:
    """Upgrade the current instance's schema; `modules="bionty"` also adds that module's tables."""
    name = cfg.current_instance_name()
    config = cfg.InstanceConfig.load(name) if name else None
    if config is None:
        raise NotConnected("no current instance to migrate; run `lamella connect NAME` first")
    added = [m for m in instances.parse_modules(modules) if m not in config.modules]
    engine = create_engine_for(config)
    try:
        before, after = schema.migrate(engine)
        for module in [*config.modules, *added]:
            schema.migrate_module(engine, module)
        if added:
            with cfg.settings_lock():
                config.modules = [*config.modules, *added]
                config.save()
            logger.info(f"added the module(s) {', '.join(added)} to instance {config.name!r}")
            current = state.peek()
            if current is not None and current.config.name == config.name:
                current.config.modules = list(config.modules)
        return before, after
    finally:
        engine.dispose()
