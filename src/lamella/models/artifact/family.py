"""Which artifacts share a key or a path in storage, and the rules that keep them apart.

Keys. An artifact's key names its family: a new save under a key joins the family that has it,
also when every version of that family is in the trash, so one key never starts a second family
by accident. Restoring and renaming keep "one latest version per key, storage and branch": a
rename onto a key another family holds is refused, and a family restored while another one took
over its key comes back without a latest version (the other family keeps the key).

Paths of artifacts registered in place (`_key_is_virtual` False, bytes at `<root>/<key>`). The
user owns these bytes and may overwrite them at any time, so several records can name one path:
- the newest record at a path *holds* it. Registering an edited file again makes a new version
  that takes the path over; the older versions' content was overwritten by the user before Lamella
  saw it, so it is gone. They keep their records (hash, size, lineage) but loading them raises a
  StorageError naming the version that holds the path now; deleting them removes only the record.
- a folder and files inside it may both be registered (annotating a run folder and its key files
  is common), but deleting the bytes of one of them would change the other, so a permanent delete
  that would remove shared bytes is refused and names the other artifacts (delete with
  `storage=False` to remove only the record).
- the key of an in-place artifact is its file's place in storage, so it cannot be renamed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, inspect, or_, select, update
from sqlalchemy.orm.base import NO_VALUE

from lamella import _storage
from lamella._logging import logger
from lamella.errors import IntegrityError, InvalidArgument

# the registry is imported as a module: it imports this module back (registry and behaviour call each other)
from lamella.models.artifact import artifact as registry

if TYPE_CHECKING:
    from lamella.models.artifact.artifact import Artifact

TRASH = -1


def _columns() -> Any:

    return registry.Artifact.__table__.c


# --- families by key -------------------------------------------------------------------------------


def family_to_extend(artifact: Artifact, session: Any) -> Artifact | None:
    """The version a new save revises: `revises=`, else the family that has the key (trash included).

    The latest version outside the trash wins; when the whole family is in the trash, its newest
    record, so the save continues that family and a later restore finds one family, not two.
    """

    revises = artifact.__dict__.get("_revises")
    if revises is not None:
        return revises
    if artifact.key is None:
        return None
    c = _columns()
    same_key = [c.key == artifact.key, c.storage_id == artifact.storage_id]
    found = session.execute(
        select(c.id).where(*same_key, c.is_latest.is_(True), c.branch_id != TRASH).limit(1)
    ).first()
    if found is None:
        found = session.execute(select(c.id).where(*same_key).order_by(c.id.desc()).limit(1)).first()
    return None if found is None else session.get(registry.Artifact, found[0], populate_existing=True)


def other_family_holding(
    session: Any, *, key: str, storage_id: int, branch_id: int, stem: str
) -> tuple[str, int] | None:
    """(uid, id) of the latest version of another family with this key in this branch, if any."""

    c = _columns()
    row = session.execute(
        select(c.uid, c.id)
        .where(
            c.key == key,
            c.storage_id == storage_id,
            c.branch_id == branch_id,
            c.is_latest.is_(True),
            registry.Artifact._stem_expression() != stem,
        )
        .limit(1)
    ).first()
    return None if row is None else (str(row[0]), int(row[1]))


def require_key_free(artifact: Artifact, session: Any, key: str) -> None:
    """Refuse to give `artifact`'s family a key that another family's latest version has."""
    if artifact.branch_id == TRASH:
        return  # a record in the trash holds no key; restoring it reconciles
    holder = other_family_holding(
        session, key=key, storage_id=artifact.storage_id, branch_id=artifact.branch_id, stem=artifact.stem_uid
    )
    if holder is not None:
        raise InvalidArgument(
            f"cannot give artifact {artifact.uid} the key {key!r}: artifact {holder[0]} already has it. "
            f"Save the data as a new version of {holder[0]} with ln.Artifact(data, revises=...), "
            f"or choose another key"
        )


def reconcile_restored(artifact: Artifact, session: Any) -> None:
    """After a restore: if another family took over the key meanwhile, that family keeps it."""

    c = _columns()
    stem = artifact.stem_uid
    latest = session.execute(
        select(c.uid, c.key, c.storage_id, c.branch_id).where(
            registry.Artifact._stem_expression() == stem, c.is_latest.is_(True), c.branch_id != TRASH
        )
    ).first()
    if latest is None or latest.key is None:
        return
    holder = other_family_holding(
        session, key=latest.key, storage_id=latest.storage_id, branch_id=latest.branch_id, stem=stem
    )
    if holder is None:
        return
    session.execute(
        update(registry.Artifact)
        .where(registry.Artifact._stem_expression() == stem, registry.Artifact.is_latest.is_(True))
        .values(is_latest=False)
        .execution_options(synchronize_session="fetch")
    )
    logger.warning(
        f"restored artifact {artifact.uid}, but key {latest.key!r} belongs to artifact {holder[0]} now "
        f"(saved while {artifact.uid} was in the trash): {artifact.uid} stays an older, not-latest version"
    )


# --- renaming ----------------------------------------------------------------------------------------


def check_key_change(artifact: Artifact, new_key: str | None, session: Any | None) -> None:
    """Validate a new key of a saved artifact; with a session, also that no other family has it."""

    if new_key == _committed_key(artifact):
        return
    if new_key is None:
        if not artifact._key_is_virtual:
            raise _in_place_rename(artifact, new_key)
        return
    suffix = artifact.suffix or None
    _storage.validate_key(new_key, data_suffix=suffix)
    if not artifact._key_is_virtual:
        raise _in_place_rename(artifact, new_key)
    if session is not None:
        require_key_free(artifact, session, new_key)


def _in_place_rename(artifact: Artifact, new_key: str | None) -> InvalidArgument:
    return InvalidArgument(
        f"cannot change the key of artifact {artifact.uid} to {new_key!r}: it is registered in place, "
        f"so its key {stored_key(artifact)!r} is the path of its bytes in storage. Move the file in "
        f"storage and register it again with ln.Artifact(path).save(), or describe it with "
        f"artifact.description instead"
    )


_UNKNOWN = object()


def _committed_key(artifact: Artifact) -> object:
    """The key as committed to the database (the attribute may hold an unsaved change), or _UNKNOWN."""

    state = inspect(artifact)
    if "key" in state.committed_state:  # changed since loaded: the loaded value is kept here
        old = state.committed_state["key"]
        return _UNKNOWN if old is NO_VALUE else old
    return artifact.__dict__.get("key", _UNKNOWN)


def stored_key(artifact: Artifact) -> str | None:
    """The committed key if known, else the current one (which path resolution then checks)."""
    committed = _committed_key(artifact)
    return artifact.key if committed is _UNKNOWN else committed  # type: ignore[return-value]


# --- in-place paths ------------------------------------------------------------------------------------


def newer_at_same_path(artifact: Artifact, session: Any) -> str | None:
    """The uid of a newer record registered in place at this artifact's path (it holds the bytes)."""
    key = stored_key(artifact)
    if artifact._key_is_virtual or key is None:
        return None
    c = _columns()
    row = session.execute(
        select(c.uid)
        .where(
            c.storage_id == artifact.storage_id,
            c.key == key,
            c._key_is_virtual.is_(False),
            c.id > artifact.id,
        )
        .order_by(c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else str(row[0])


def not_stale_at_same_path(storage_id: int, key: str) -> Any:
    """A condition excluding the records at this in-place path that no longer hold it (all but the newest)."""
    c = _columns()
    holder = (
        select(c.id)
        .where(c.storage_id == storage_id, c.key == key, c._key_is_virtual.is_(False))
        .order_by(c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    # spelled without NOT: a NULL key or flag must not make the whole condition NULL
    return or_(
        c._key_is_virtual.is_(True),
        c.key.is_(None),
        c.key != key,
        c.storage_id != storage_id,
        c.id == holder,
    )


def overlapping_in_place(artifact: Artifact, session: Any) -> list[tuple[str, str]]:
    """(uid, key) of in-place artifacts inside this one's folder, or whose folder contains this one."""
    key = stored_key(artifact)
    if artifact._key_is_virtual or not key:
        return []
    c = _columns()
    segments = key.split("/")
    ancestors = ["/".join(segments[:i]) for i in range(1, len(segments))]
    # a prefix compared exactly: LIKE ignores case on SQLite, and "run_1/" would need escaping
    nested = func.substr(c.key, 1, len(key) + 1) == key + "/"
    condition = or_(nested, c.key.in_(ancestors)) if ancestors else nested
    rows = session.execute(
        select(c.uid, c.key)
        .where(
            c.storage_id == artifact.storage_id,
            c._key_is_virtual.is_(False),
            condition,
        )
        .order_by(c.key, c.id)
        .limit(21)
    ).all()
    return [(str(uid), str(k)) for uid, k in rows]


def refuse_shared_bytes(artifact: Artifact, overlapping: list[tuple[str, str]]) -> IntegrityError:
    shown = ", ".join(f"{uid} ({key!r})" for uid, key in overlapping[:20])
    more = " and more" if len(overlapping) > 20 else ""
    return IntegrityError(
        f"cannot delete the bytes of artifact {artifact.uid} (key {artifact.key!r}): they overlap those "
        f"of other artifacts registered in place: {shown}{more}. Delete those first, or delete only "
        f"this record with artifact.delete(permanent=True, storage=False)"
    )
