"""`ln.setup`: create and manage instances from Python (the same functions the CLI calls)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

from lamella._instance import config as cfg
from lamella._instance import state
from lamella._setup.check import check
from lamella._setup.connect import connect as _connect
from lamella._setup.connect import init, migrate
from lamella._setup.instances import delete, disconnect, list_instances, login
from lamella._setup.settings import settings as runtime
from lamella.errors import DoesNotExist, InvalidArgument
from lamella.models import Branch

__all__ = [
    "check",
    "connect",
    "delete",
    "disconnect",
    "init",
    "list_instances",
    "login",
    "migrate",
    "settings",
    "switch",
]


def connect(name: str, *, read_only: bool = False) -> state.Instance:
    """Connect to `name` and make it the default; `read_only=True` refuses every write."""
    return _connect(name, persist=True, read_only=read_only)


class InstanceInfo:
    """What `ln.setup.settings.instance` shows: name, dialect, database, storage, hash type."""

    def __init__(self, instance: state.Instance) -> None:
        self._instance = instance

    @property
    def name(self) -> str:
        return self._instance.config.name

    @property
    def uid(self) -> str:
        return self._instance.config.uid

    @property
    def dialect(self) -> str:
        return self._instance.config.dialect

    @property
    def db(self) -> str:
        config = self._instance.config
        if config.db:
            return make_url(config.url()).render_as_string(hide_password=True)
        return config.url()

    @property
    def storage(self) -> Any:

        return runtime.storage

    @property
    def read_only(self) -> bool:
        return self._instance.read_only

    @property
    def modules(self) -> list[str]:
        return list(self._instance.config.modules)

    @property
    def hash_type(self) -> str:
        """The algorithm the instance hashes artifacts' bytes with: "blake3", or "md5" if created before."""
        return self._instance.hash_type

    @property
    def slug(self) -> str:
        return f"{self._instance.user.handle}/{self.name}"

    def __repr__(self) -> str:
        return (
            f"Instance(name={self.name!r}, dialect={self.dialect!r}, db={self.db!r}, "
            f"storage={self._instance.storage_root!r}, modules={self.modules}, hash_type={self.hash_type!r}"
            + (", read_only=True)" if self.read_only else ")")
        )


class SetupSettings:
    @property
    def instance(self) -> InstanceInfo:
        return InstanceInfo(state.current())

    @property
    def user(self) -> cfg.UserConfig:
        instance = state.peek()
        return instance.user if instance is not None else cfg.read_user()


settings = SetupSettings()


def switch(branch: Any, *, create: bool = False) -> Any:
    """Work on `branch` (a name or an `ln.Branch`) in this process: new records go there, and queries
    see main and that branch. `create=True` makes the branch first; `ln.setup.switch("main")` returns.
    A run's own branch (`ln.track(branch=...)`) still wins for the records of that run."""
    record = branch if isinstance(branch, Branch) else Branch.filter(name=str(branch)).first()
    if record is None:
        if not create:
            raise DoesNotExist(
                f"no branch named {branch!r}; create it with ln.setup.switch({branch!r}, create=True) "
                f"or ln.Branch(name={branch!r}).save()"
            )
        record = Branch(name=str(branch)).save()
    if record.id in (-1, 0):  # the trash and the archive
        raise InvalidArgument(
            f"branch {record.name!r} holds trashed or archived records; switch to a working branch"
        )
    state.process.branch_id = int(record.id)
    return record
