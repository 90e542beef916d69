"""Finding or creating the Transform of a script, notebook or function from its key and source code.

The same source under the same key reuses the transform; changed source makes a new version of it
(same 12-character stem, next suffix, `is_latest` moves). A stem uid given by the user
(`ln.track("<stem>")`) names the family instead of the key. The lookup and the insert happen inside
the transform registry's write lock, so concurrent processes running the same script share one
transform.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import select

from lamella._instance import state
from lamella._logging import logger
from lamella._tracking.redact import redact_source
from lamella.errors import InvalidArgument
from lamella.models import Transform

if TYPE_CHECKING:
    from lamella.models import Transform


def source_hash(source: str) -> str:
    return base64.urlsafe_b64encode(hashlib.md5(source.encode()).digest()).decode()[:22]


def transform_for_source(
    key: str, kind: str, source: str, *, description: str | None = None
) -> tuple[Transform, bool]:
    """(transform, created): the transform of `key` whose source is `source`, made if missing."""

    source = redact_source(source)
    digest = source_hash(source)
    instance = state.current()
    table = Transform.__table__.c
    with instance.db.write("lamella:transform") as session:
        same = session.execute(
            select(table.id)
            .where(table.key == key, table.hash == digest, table.branch_id != -1)
            .order_by(table.id.desc())
            .limit(1)
        ).first()
        if same is not None:
            existing = session.get(Transform, same[0], populate_existing=True)
            assert existing is not None
            if description and existing.description != description:
                existing.description = description
                session.add(existing)
            return existing, False
        latest_id = session.execute(
            select(table.id)
            .where(table.key == key, table.is_latest.is_(True), table.branch_id != -1)
            .limit(1)
        ).first()
        transform = Transform(key=key, kind=kind, source_code=source, hash=digest, description=description)
        transform.branch_id = state.MAIN_BRANCH  # lineage stays on main, whatever branch the run uses
        if latest_id is not None:
            latest = session.get(Transform, latest_id[0], populate_existing=True)
            assert latest is not None
            transform.uid = transform._next_version_uid(session, latest.stem_uid)
            transform._demote_family(session, latest.stem_uid)
            if description is None:
                transform.description = latest.description
            logger.info(
                f"the source of {key} changed: new version {transform.uid} of transform {latest.stem_uid}"
            )
        transform._fill_defaults(instance)
        session.add(transform)
        session.flush()
        return transform, True


def transform_for_stem(
    stem: str, key: str, kind: str, source: str, *, version: str | None = None, description: str | None = None
) -> Transform:
    """The transform of family `stem` for `source`: the version with this source (and tag `version`,
    if given), else a new version of the family (the first one, `<stem>0000`, if it has none).

    LaminDB's `ln.track("<stem uid>")` and 0.x's `ln.settings.transform.stem_uid` / `.version`. A
    version tag whose transform has other source code is refused: bump the tag.
    """

    source = redact_source(source)
    digest = source_hash(source)
    instance = state.current()
    table = Transform.__table__.c
    with instance.db.write("lamella:transform") as session:
        rows = session.execute(
            select(table.id, table.hash, table.version_tag, table.is_latest)
            .where(Transform._stem_expression() == stem, table.branch_id != -1)
            .order_by(table.uid.desc())
        ).all()
        if version is not None:
            tagged = [row for row in rows if row.version_tag == version]
            if tagged and tagged[0].hash != digest:
                raise InvalidArgument(
                    f"version {version!r} of transform {stem} has other source code; give the changed "
                    f"source a new version (ln.settings.transform.version = ...), or drop the version tag"
                )
            same = tagged
        else:
            same = [row for row in rows if row.hash == digest]
        if same:
            existing = session.get(Transform, same[0].id, populate_existing=True)
            assert existing is not None
            return existing
        transform = Transform(
            key=key, kind=kind, source_code=source, hash=digest, description=description, version=version
        )
        transform.branch_id = state.MAIN_BRANCH
        transform.uid = transform._next_version_uid(session, stem)
        if rows:
            transform._demote_family(session, stem)
            if description is None:
                latest = session.get(Transform, rows[0].id)
                transform.description = latest.description if latest is not None else None
        transform._fill_defaults(instance)
        session.add(transform)
        session.flush()
        logger.info(f"created version {transform.uid} of transform {stem} ({key})")
        return transform


def update_source(transform: Transform, source: str) -> None:
    """Store the final source of a notebook at finish(), when it changed since track()."""

    source = redact_source(source)
    digest = source_hash(source)
    if transform.hash == digest:
        return
    with state.current().db.write(*transform._lock_names()) as session:
        transform.source_code, transform.hash = source, digest
        session.add(transform)
