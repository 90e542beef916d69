"""Who and where: users, storage locations, spaces and branches; the instance's own settings."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from lamella import _storage
from lamella._instance import state
from lamella._instance.state import SETTINGS_TABLE
from lamella._process import HOST
from lamella._query.relations import ReverseForeignKey
from lamella.errors import InvalidArgument
from lamella.models.core.columns import BigInt, UTCDateTime, utcnow
from lamella.models.core.record import Base, HasCreatedAt, SQLRecord, TracksUpdates


class User(SQLRecord, HasCreatedAt, TracksUpdates):
    """A person who creates records; identified by a handle (`lamella login HANDLE`)."""

    __tablename__ = "user"
    _uid_length = 8
    _repr_fields = ("uid", "handle", "name")
    _search_fields = ("handle", "name")

    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(150), index=True)

    created_artifacts = ReverseForeignKey("Artifact", "created_by_id")
    created_transforms = ReverseForeignKey("Transform", "created_by_id")
    created_runs = ReverseForeignKey("Run", "created_by_id")


class Storage(SQLRecord, HasCreatedAt, TracksUpdates):
    """A storage location: a local folder or an S3 bucket/prefix.

    Storage managed by an instance has `instance_uid` set; objects in other locations are only
    referenced and never deleted by Lamella.
    """

    __tablename__ = "storage"
    _uid_length = 12
    _repr_fields = ("uid", "root", "type", "region", "instance_uid")
    _search_fields = ("root", "description")

    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    root: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(30))
    region: Mapped[str | None] = mapped_column(String(64))
    instance_uid: Mapped[str | None] = mapped_column(String(12), index=True)
    host: Mapped[str | None] = mapped_column(String(100))  # the machine a local folder is on
    created_by_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("user.id"))
    branch_id: Mapped[int] = mapped_column(Integer, ForeignKey("branch.id"), default=1)

    artifacts = ReverseForeignKey("Artifact", "storage_id")

    def __init__(self, root: str | None = None, *, host: str | None = None, **kwargs: Any) -> None:
        """`ln.Storage(root="/shared/data", host="lab-server-01")`: a folder on a named machine, or
        `root="s3://bucket/prefix"`; the type follows from the root."""
        if self.__dict__.pop("_lamella_existing", False):
            return
        if root is not None:
            text = str(root)
            cloud = _storage.is_cloud(text)
            if host is not None and cloud:
                raise InvalidArgument(
                    f"host={host!r} names the machine of a local folder; {text} is in the cloud"
                )
            if not cloud:
                text = os.path.abspath(os.path.expanduser(text))
                host = host or HOST
            kwargs.setdefault("type", text.split("://", 1)[0] if cloud else "local")
            kwargs["root"] = text
        if host is not None:
            kwargs["host"] = host
        super().__init__(**kwargs)

    @property
    def is_managed(self) -> bool:

        return self.instance_uid is not None and self.instance_uid == state.current().config.uid

    @property
    def path(self) -> object:

        return _storage.to_path(self.root)


class Space(SQLRecord):
    """A space groups records for access control; every record starts in space 1 ("all")."""

    __tablename__ = "space"
    _uid_length = 12

    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("user.id"))

    def _before_insert(self, session: Any) -> None:
        """The next id after the highest (inside the space lock): the space "all" is inserted with its
        id, which leaves PostgreSQL's sequence behind at 1."""
        if self.__dict__.get("id") is None:
            top = session.execute(select(func.max(Space.__table__.c.id))).scalar()
            self.id = int(top or 0) + 1


class Branch(SQLRecord):
    """A branch of records: 1 main, 0 archive, -1 trash; `ln.Branch(name=...).save()` makes one more.

    Records a run saves go to its branch (`ln.track(branch=...)`); queries see main, and during such a
    run also its branch, or the branch they name (`filter(branch_id=...)`).
    """

    __tablename__ = "branch"
    _uid_length = 12
    MAIN: ClassVar[int] = 1
    ARCHIVE: ClassVar[int] = 0
    TRASH: ClassVar[int] = -1

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(BigInt, ForeignKey("user.id"))

    def _before_insert(self, session: Any) -> None:
        """A new branch takes the next id after the built-in ones (inside the branch lock)."""
        table = Branch.__table__.c
        name = self.__dict__.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidArgument("a branch needs a name: ln.Branch(name='my-branch')")
        taken = session.execute(select(table.id).where(func.lower(table.name) == name.lower())).first()
        if taken is not None:
            raise InvalidArgument(
                f"a branch named {name!r} exists already (names are unique, ignoring case); "
                f"use ln.Branch.get(name={name!r})"
            )
        if self.__dict__.get("id") is None:
            top = session.execute(select(func.max(table.id))).scalar()
            self.id = max(int(top or 1), 1) + 1


class InstanceSetting(Base):
    """A setting of the instance every client must agree on, such as the algorithm its bytes are
    hashed with (`name="hash_type"`); written when the instance is created (or by the migration that
    added it), read through `Instance.hash_type`. Not a registry: users neither create nor query it."""

    __tablename__ = SETTINGS_TABLE

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
