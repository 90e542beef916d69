"""The settings files: which instance is current, who the user is, and each instance's description.

Files under LAMELLA_HOME:
- settings.json: {"current_instance": name | null, "current_read_only": true (if asked),
  "user": {"handle": ..., "uid": ...}}
- instances/<name>.json: one per instance (name, uid, storage root, database URL, modules)
Writes go to a temporary file first and are renamed into place, so a crash never leaves a broken file.
Read-modify-write updates run under `settings_lock()`, an exclusive lock on LAMELLA_HOME shared by
all processes, so two processes starting at once neither lose each other's update nor create two
users or two differing configs of one instance.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lamella._instance import paths
from lamella._uid import base62
from lamella.errors import InvalidArgument

# optional modules an instance can use (`lamella init --modules bionty`); each names its tables
# after itself (`bionty_celltype`), which is how the core tells them apart
OPTIONAL_MODULES = ("bionty",)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


_process_lock = threading.RLock()
_lock_depth = 0
_lock_fd: int | None = None


@contextmanager
def settings_lock() -> Iterator[None]:
    """Exclusive access to the settings files across processes; re-entrant within a process.

    A lock of the operating system is released when its holder dies, so a crashed process never
    leaves the settings locked (unlike a lock file that must be deleted).
    """
    global _lock_depth, _lock_fd
    with _process_lock:
        if _lock_depth == 0:
            lock_path = paths.home() / ".settings.lock"
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                _lock_file(fd)
            except BaseException:
                os.close(fd)
                raise
            _lock_fd = fd
        _lock_depth += 1
        try:
            yield
        finally:
            _lock_depth -= 1
            if _lock_depth == 0 and _lock_fd is not None:
                os.close(_lock_fd)  # closing the descriptor releases the lock
                _lock_fd = None


def _lock_file(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock (Windows): only threads of this process are serialized
        return
    fcntl.flock(fd, fcntl.LOCK_EX)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own per writer: two processes (or threads) never write into one temporary file;
    # os.urandom, not the secrets module, which a user's script named secrets.py would shadow
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        # owner-only: an instance's file may hold its database password
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(json.dumps(data, indent=2, sort_keys=True))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as e:
        raise InvalidArgument(f"the settings file {path} is not valid JSON ({e}); fix or delete it") from e
    return data if isinstance(data, dict) else {}


def validate_instance_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"invalid instance name {name!r}: use letters, digits, '-', '_' or '.', starting with a letter or digit"
        )
    return name


@dataclass
class InstanceConfig:
    name: str
    uid: str
    storage_root: str
    db: str | None = None  # a PostgreSQL URL, or None for the embedded SQLite database
    modules: list[str] = field(default_factory=list)
    # where new artifacts go when it is not the storage the instance was created with
    # (`ln.settings.storage = ...`); `storage_root` keeps locating the embedded database
    default_storage: str | None = None

    @property
    def current_storage_root(self) -> str:
        return self.default_storage or self.storage_root

    @property
    def dialect(self) -> str:
        return "postgresql" if self.db else "sqlite"

    def sqlite_path(self) -> Path:
        """The embedded database: beside the data for local storage, under LAMELLA_HOME for cloud storage."""
        if "://" in self.storage_root:
            return paths.instances_dir() / self.name / "lamella.db"
        return Path(self.storage_root) / ".lamella" / "lamella.db"

    def url(self) -> str:
        if self.db:
            url = self.db
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{self.sqlite_path()}"

    def save(self) -> None:
        _write_json(paths.instance_file(self.name), asdict(self))

    def save_new(self) -> InstanceConfig:
        """Save this config unless one of that name exists; returns the config in effect."""
        with settings_lock():
            existing = InstanceConfig.load(self.name)
            if existing is not None:
                return existing
            self.save()
            return self

    @classmethod
    def load(cls, name: str) -> InstanceConfig | None:
        data = _read_json(paths.instance_file(name))
        if not data:
            return None
        return cls(
            name=data["name"],
            uid=data["uid"],
            storage_root=data["storage_root"],
            db=data.get("db"),
            modules=list(data.get("modules") or []),
            default_storage=data.get("default_storage"),
        )

    def remove(self) -> None:
        paths.instance_file(self.name).unlink(missing_ok=True)


def list_instance_configs() -> list[InstanceConfig]:
    folder = paths.instances_dir()
    if not folder.is_dir():
        return []
    configs = [InstanceConfig.load(p.stem) for p in sorted(folder.glob("*.json"))]
    return [c for c in configs if c is not None]


@dataclass
class UserConfig:
    handle: str
    uid: str
    name: str | None = None


def read_global() -> dict[str, Any]:
    return _read_json(paths.settings_file())


def write_global(data: dict[str, Any]) -> None:
    _write_json(paths.settings_file(), data)


def current_instance_name() -> str | None:
    name = read_global().get("current_instance")
    return name if isinstance(name, str) else None


def set_current_instance(name: str | None, *, read_only: bool = False) -> None:
    with settings_lock():
        data = read_global()
        data["current_instance"] = name
        # `lamella connect --read-only` must hold for the processes that connect later
        if read_only:
            data["current_read_only"] = True
        else:
            data.pop("current_read_only", None)
        write_global(data)


def current_read_only() -> bool:
    return read_global().get("current_read_only") is True


def default_handle() -> str:
    try:
        handle = getpass.getuser()
    except Exception:  # no user database entry (containers): fall back to a fixed handle
        handle = "anonymous"
    return re.sub(r"[^A-Za-z0-9_.-]", "-", handle) or "anonymous"


def read_user() -> UserConfig:

    user = _user_from(read_global())
    if user is not None:
        return user
    with settings_lock():  # the first process to get here creates the user; the others read it
        data = read_global()
        user = _user_from(data)
        if user is None:
            user = UserConfig(handle=default_handle(), uid=base62(8))
            data["user"] = asdict(user)
            write_global(data)
        return user


def _user_from(data: dict[str, Any]) -> UserConfig | None:
    user = data.get("user")
    if isinstance(user, dict) and user.get("handle") and user.get("uid"):
        return UserConfig(handle=user["handle"], uid=user["uid"], name=user.get("name"))
    return None


def write_user(config: UserConfig) -> None:
    with settings_lock():
        data = read_global()
        data["user"] = asdict(config)
        write_global(data)
