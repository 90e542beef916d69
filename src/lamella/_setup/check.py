"""`lamella check`: is the database sound, are the stored bytes what the records say, is anything left over.

Checking only reads: the instance is opened read-only, so a check never moves, deletes or registers
anything, and works on an instance the user may not write. `repair=True` then does what is safe:
orphaned files are moved to `.lamella/_orphaned/` (never deleted: they may be the only copy of
something), and staged saves whose writer died are finished or undone as on connect. Bytes that are
missing or changed are reported, never "repaired" by deleting records: only a backup can fix them.
`reindex=True` rebuilds artifact records from the storage's files (see `reindex.py`); on a damaged
SQLite file it first moves the file aside (kept, never deleted) and starts a new one.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from lamella import _storage
from lamella._instance import access, state
from lamella._instance import config as cfg
from lamella._instance.database import create_engine_for
from lamella._logging import logger
from lamella._setup import check_storage, reindex, schema
from lamella._setup.check_report import DATABASE, LEFTOVER, CheckReport, Problem
from lamella._setup.connect import _open
from lamella._setup.sqlite_snapshot import create_instance_database
from lamella.errors import NotConnected
from lamella.models.artifact.artifact import Artifact
from lamella.models.artifact.store import pending_saves, storage_location, sweep_pending
from lamella.models.core.instance_records import Storage

if TYPE_CHECKING:
    from lamella._instance.state import Instance

_REBUILD_HINT = (
    "`lamella check --reindex` rebuilds the artifact registry from the stored files (keys, features "
    "and lineage cannot be recovered); or restore the database from a backup"
)


def check(name: str | None = None, *, repair: bool = False, reindex: bool = False) -> CheckReport:
    """Check the instance `name` (default: the current one); see the module docstring."""
    config = _config(name)
    started = time.perf_counter()
    report = CheckReport(instance=config.name)
    problem = database_problem(config)
    if problem is not None:
        report.problems.append(problem)
        if not reindex:
            report.notes.append("the stored artifacts were not checked: the database must be sound first")
            report.seconds = time.perf_counter() - started
            return report
        _rebuild_database(config, problem)
    if reindex:
        _reindex(config, report)

    instance = _open(config, create=False, read_only=True)
    try:
        storages = _managed_storages(instance)
        leftovers = [p for _storage_id, root in storages for p in _leftovers(root)]
        report.problems.extend(leftovers)
        if repair and leftovers:  # first: finishing a save puts bytes in place that are checked next
            _finish_staged_saves(instance, storages, leftovers)
        registered = _check_artifacts(instance, storages, report)
        for storage_id, root in storages:
            orphans, seen = check_storage.find_orphans(root, registered.get(storage_id, set()))
            orphans = _still_unregistered(instance, orphans)
            report.files_seen += seen
            report.problems.extend(orphans)
            if repair:
                _move_orphans_aside(orphans)
    finally:
        instance.db.dispose()
    report.seconds = time.perf_counter() - started
    return report


def _config(name: str | None) -> cfg.InstanceConfig:
    name = name or cfg.current_instance_name()
    if name is None:
        raise NotConnected("no current instance to check; run `lamella connect NAME` first")
    config = cfg.InstanceConfig.load(name)
    if config is None:
        raise NotConnected(f"no instance named {name!r}; `lamella list` shows the instances")
    return config


# --- the database ----------------------------------------------------------------------------------


def database_problem(config: cfg.InstanceConfig) -> Problem | None:
    """The database is missing, damaged (SQLite's integrity check) or has no Lamella schema."""
    if config.dialect == "postgresql":
        return _postgres_problem(config)
    path = config.sqlite_path()
    if not path.exists():
        return Problem(DATABASE, str(path), "the database file is missing", _REBUILD_HINT)
    try:
        connection = sqlite3.connect(access.sqlite_read_only_uri(path), uri=True)
        try:
            # integrity_check reads every page: it finds damage anywhere, not only in the header
            lines = [row[0] for row in connection.execute("PRAGMA integrity_check(20)")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as e:
        lines = [str(e)]
    if lines == ["ok"]:
        return None
    detail = "damaged: " + "; ".join(lines[:5]) + ("; ..." if len(lines) > 5 else "")
    return Problem(
        DATABASE, str(path), detail, _REBUILD_HINT.replace("rebuilds", "moves it aside and rebuilds")
    )


def _postgres_problem(config: cfg.InstanceConfig) -> Problem | None:

    engine = create_engine_for(config, read_only=True)
    try:
        with engine.connect() as connection:
            revision = schema.current_revision(connection)
    except OperationalError as e:
        raise NotConnected(f"cannot connect to the database of instance {config.name!r}: {e.orig}") from e
    finally:
        engine.dispose()
    if revision is None:
        return Problem(
            DATABASE, config.name, "the database has no Lamella schema (lost, or new)", _REBUILD_HINT
        )
    return None


def _rebuild_database(config: cfg.InstanceConfig, problem: Problem) -> None:

    current = state.peek()
    if current is not None and current.config.name == config.name:
        state.set_current(None)  # this process's connection points at the file being replaced
        current.db.dispose()
    if config.dialect == "postgresql":
        _open(config, create=True).db.dispose()
        problem.repaired = True
        problem.detail += "; created the Lamella schema"
        return

    path = config.sqlite_path()
    if path.exists():
        aside = path.with_name(f"{path.name}.damaged-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        os.replace(path, aside)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():  # holds committed pages of the damaged file: keep them with it
            os.replace(wal, aside.with_name(aside.name + "-wal"))
        path.with_name(path.name + "-shm").unlink(missing_ok=True)
        problem.detail += f"; moved to {aside}"
    create_instance_database(config, cfg.read_user())
    problem.repaired = True
    problem.detail += "; created a new database"


# --- the artifacts and files -----------------------------------------------------------------------


def _managed_storages(instance: Instance) -> list[tuple[int, str]]:

    rows = instance.db.session().execute(
        select(Storage.id, Storage.root)
        .where(Storage.instance_uid == instance.config.uid)
        .order_by(Storage.id)
    )
    return [(int(row[0]), str(row[1])) for row in rows]


def _check_artifacts(
    instance: Instance, storages: list[tuple[int, str]], report: CheckReport
) -> dict[int, set[str]]:
    """Verify every artifact of the managed storages; returns their uids per storage."""

    roots = dict(storages)
    c = Artifact.__table__.c
    rows = instance.db.session().execute(  # every branch and kind: trashed and internal bytes are stored too
        select(
            c.uid, c.key, c.suffix, c.size, c.hash, c._hash_type, c.n_files, c._key_is_virtual, c.storage_id
        )
        .where(c.storage_id.in_(list(roots)))
        .order_by(c.id)
    )
    items: list[check_storage.Recorded] = []
    registered: dict[int, set[str]] = {}
    for uid, key, suffix, size, digest, hash_type, n_files, virtual, storage_id in rows:
        root = roots[storage_id]
        registered.setdefault(storage_id, set()).add(uid)
        location = storage_location(root, uid, suffix or "") if virtual else f"{root.rstrip('/')}/{key}"
        items.append(check_storage.Recorded(uid, location, size, digest, hash_type, n_files))
    total = sum(item.size or 0 for item in items)
    with _storage.progress_bar(total, "checking artifacts") as advance:
        for problem, hashed, n_bytes in check_storage.verify_artifacts(items, advance):
            if problem is not None:
                report.problems.append(problem)
            elif not hashed:
                report.artifacts_unverified += 1
            report.bytes_hashed += n_bytes
    report.artifacts_checked = len(items)
    return registered


def _leftovers(root: str) -> list[Problem]:

    return [
        Problem(
            LEFTOVER,
            location,
            "a save whose process ended before it finished",
            "`lamella check --repair` finishes it if its record was committed, and removes it otherwise",
        )
        for location, abandoned in pending_saves(root)
        if abandoned
    ]


def _still_unregistered(instance: Instance, orphans: list[Problem]) -> list[Problem]:
    """The orphans that still have no record: a save may have committed since the records were read.

    Without this, a save finishing during `--repair` would see its bytes moved aside.
    """

    uids = {
        match["uid"]: problem
        for problem in orphans
        if (match := check_storage.ARTIFACT_NAME.match(problem.subject.rsplit("/", 1)[-1])) is not None
    }
    if not uids:
        return orphans
    c = Artifact.__table__.c
    now_registered = set(instance.db.session().execute(select(c.uid).where(c.uid.in_(list(uids)))).scalars())
    return [p for p in orphans if not any(uids.get(uid) is p for uid in now_registered)]


def _move_orphans_aside(orphans: list[Problem]) -> None:
    for problem in orphans:
        try:
            target = check_storage.move_aside(problem.subject)
        except OSError as e:
            problem.detail += f"; could not move it aside: {e}"
            continue
        problem.repaired = True
        problem.detail += f"; moved to {target}"


def _finish_staged_saves(
    instance: Instance, storages: list[tuple[int, str]], leftovers: list[Problem]
) -> None:

    for _storage_id, root in storages:
        try:
            sweep_pending(dataclasses.replace(instance, storage_root=root))
        except OSError as e:
            logger.warning(f"could not clean up the staged saves in {root}: {e}")
    still_there = {location for _storage_id, root in storages for location, _ in pending_saves(root)}
    for problem in leftovers:
        if problem.subject not in still_there:
            problem.repaired = True
            problem.detail += "; cleaned up"


def _reindex(config: cfg.InstanceConfig, report: CheckReport) -> None:

    instance = _open(config, create=False)
    try:
        if instance.read_only or instance.user_id is None:
            raise instance.db.read_only_error("rebuild artifact records")
        registered = reindex.registered_uids(instance.db)
        hash_type = instance.hash_type  # files found are hashed as a save would hash them
        for storage_id, root in _managed_storages(instance):
            found = reindex.unregistered_files(root, registered)
            if not found:
                continue
            bar = _storage.progress_bar(len(found), f"registering files of {root}", unit="files")
            with bar as advance, ThreadPoolExecutor(4, thread_name_prefix="lamella-reindex") as pool:
                list(pool.map(lambda item: reindex.measure(item, hash_type, lambda _n: advance(1)), found))
            report.reindexed.extend(
                reindex.insert_records(
                    instance.db, found, storage_id=storage_id, user_id=instance.user_id, root=root
                )
            )
            registered.update(item.uid for item in found)
    finally:
        instance.db.dispose()
    if report.reindexed:
        report.notes.append(
            f"registered {len(report.reindexed)} artifact(s) found in storage; their keys, features and "
            f"lineage are unknown: each record's description names the file it was rebuilt from"
        )
