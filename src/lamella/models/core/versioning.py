"""Versions of artifacts, collections and transforms: one stem uid per family, a 4-char suffix per version.

The suffix is base62 and starts at 0000. Exactly one version of a family is `is_latest` among the
records that are not in the trash; a partial unique index enforces "at most one" in the database,
and new versions are numbered inside the registry's write lock, so concurrent writers cannot
collide. (Artifacts add one exception, for one latest version per key: a family restored from the
trash after another family took over its key comes back without a latest version; see
_artifact_family.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Boolean, Index, String, event, func, literal_column, select, update
from sqlalchemy.orm import Mapped, mapped_column

from lamella._query.queryset import QuerySet
from lamella._uid import base62, decode_version, encode_version

if TYPE_CHECKING:
    from lamella._query.queryset import QuerySet

VERSION_CHARS = 4


def stem_expression(uid_column: Any, uid_length: int) -> Any:
    """`substr(uid, 1, n)` with literal arguments, so the planners match it to the expression index."""
    return func.substr(uid_column, literal_column("1"), literal_column(str(uid_length - VERSION_CHARS)))


def latest_version_index(table: str, uid_length: int) -> Any:
    """At most one `is_latest` row per family (same uid stem)."""

    def build(cls: Any) -> Index:
        stem = stem_expression(cls.uid, uid_length)
        Index(f"ix_{table}_stem", stem)  # a family's versions, found without scanning the table
        latest = cls.is_latest.is_(True)
        index = Index(f"uq_{table}_latest_per_stem", stem, unique=True, sqlite_where=latest)

        # PostgreSQL's `where` is given only when a PostgreSQL database gets the table: naming a
        # `postgresql_*` option here would import SQLAlchemy's PostgreSQL dialect on every SQLite
        # instance's first query (~20 ms)
        def partial_on_postgresql(_table: Any, connection: Any, **_kw: Any) -> None:
            if connection.dialect.name == "postgresql":
                index.dialect_options["postgresql"]["where"] = latest

        event.listen(cls.__table__, "before_create", partial_on_postgresql)
        return index

    return build


class IsVersioned:
    _uid_length: ClassVar[int]

    if TYPE_CHECKING:
        uid: str
        __table__: Any
    version_tag: Mapped[str | None] = mapped_column(String(30), index=True)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)

    @classmethod
    def _new_uid(cls) -> str:
        return base62(cls._uid_length - VERSION_CHARS) + encode_version(0)

    @property
    def stem_uid(self) -> str:
        return self.uid[: self._uid_length - VERSION_CHARS]

    @property
    def version(self) -> str:
        """The user's version tag if set, else the version's number in its family: "1", "2", …

        (The number is kept in the uid's last four characters, counting from 0000.)"""
        return self.version_tag or str(decode_version(self.uid[-VERSION_CHARS:]) + 1)

    @version.setter
    def version(self, tag: str | None) -> None:
        self.version_tag = tag

    @property
    def initial_version(self) -> Any:
        """The first version of this record's family (0.x's `initial_version`)."""
        return self.versions.first()

    @classmethod
    def _stem_expression(cls) -> Any:
        return stem_expression(cls.uid, cls._uid_length)

    @property
    def versions(self) -> QuerySet[Any]:

        cls = type(self)
        return QuerySet(cls).filter_expression(cls._stem_expression() == self.stem_uid).order_by("uid")

    def _next_version_uid(
        self, session: Any, stem: str, *, still_in_use: Callable[[str], bool] | None = None
    ) -> str:
        """The next free uid of the family `stem`; call inside the registry's write lock.

        The number of a version deleted for good can come free again; `still_in_use` says whether
        something outside the database (an artifact's bytes being deleted) still goes by a uid.
        """
        cls = type(self)
        uids = (
            session.execute(select(cls.__table__.c.uid).where(cls._stem_expression() == stem)).scalars().all()
        )
        version = max((decode_version(uid[-VERSION_CHARS:]) for uid in uids), default=-1) + 1
        while still_in_use is not None and still_in_use(stem + encode_version(version)):
            version += 1
        return stem + encode_version(version)

    def _demote_family(self, session: Any, stem: str) -> None:
        cls = type(self)
        session.execute(
            update(cls)
            .where(cls._stem_expression() == stem, cls.is_latest.is_(True))
            .values(is_latest=False)
            .execution_options(synchronize_session="fetch")
        )

    def _elect_latest(self, session: Any, *, excluding: int | None = None) -> None:
        """Make the newest version outside the trash the latest one (after a delete or restore)."""
        cls = type(self)
        stem = self.stem_uid
        session.flush()
        self._demote_family(session, stem)
        conditions = [cls._stem_expression() == stem, cls.branch_id != -1]  # type: ignore[attr-defined]
        if excluding is not None:
            conditions.append(cls.__table__.c.id != excluding)
        newest = session.execute(
            select(cls).where(*conditions).order_by(cls.__table__.c.uid.desc()).limit(1)
        ).scalar_one_or_none()
        if newest is not None:
            newest.is_latest = True
            session.flush()

    # The hooks below elect unconditionally: `self.is_latest` may be stale (another process may have
    # saved a newer version, or elected this one, since it was loaded), and trusting it would leave
    # a family with two latest versions or none.

    def _on_trash(self, session: Any) -> None:
        self.is_latest = False
        session.add(self)
        session.flush()
        self._elect_latest(session)

    def _on_restore(self, session: Any) -> None:
        self._elect_latest(session)

    def _on_delete_permanently(self, session: Any) -> None:
        self.is_latest = False
        session.add(self)
        session.flush()
        self._elect_latest(session, excluding=self.__dict__.get("id"))
