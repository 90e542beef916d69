"""PostgreSQL instances that can only be read: a SELECT-only role, read_only=True, and `lamella check`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest

import lamella as ln
from lamella._instance import config as cfg
from lamella.errors import ReadOnlyError

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]


def _as_role(url: str, role: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}"


def _make_role(url: str, *grants: str) -> str:
    """A LOGIN role (cluster-wide, so uniquely named) with SELECT on every table, plus `grants`."""
    role = f"reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        for grant in grants:
            conn.execute(grant.format(role=role))
    return role


def _users(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute('SELECT handle FROM "user" ORDER BY id')]


@pytest.fixture
def instance(fresh_pg_db: str, tmp_path: Path, forget_connection: Any) -> Iterator[dict[str, str]]:
    """A PostgreSQL instance "owner" with a DataFrame artifact and a label, then disconnected."""
    ln.setup.init(storage=tmp_path / "data", name="owner", db=fresh_pg_db)
    artifact = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1, 2, 3]}), key="t.parquet").save()
    ln.ULabel(name="kept").save()
    forget_connection()
    yield {"url": fresh_pg_db, "uid": artifact.uid, "storage": str(tmp_path / "data")}


def _instance_for(name: str, url: str) -> None:
    """Another name for the owner's instance, reached with another database URL (same uid and storage)."""
    owner = cfg.InstanceConfig.load("owner")
    assert owner is not None
    cfg.InstanceConfig(name=name, uid=owner.uid, storage_root=owner.storage_root, db=url).save()


def test_a_select_only_role_reads_and_a_new_user_leaves_no_row(instance: dict[str, str]) -> None:
    role = _make_role(instance["url"])
    _instance_for("reader", _as_role(instance["url"], role))
    users = _users(instance["url"])
    ln.setup.login("visitor")
    connected = ln.connect("reader")
    assert connected.read_only and not connected.read_only_requested
    assert role in (connected.db.read_only_reason or "") and connected.user_id is None
    artifact = ln.Artifact.get(instance["uid"])
    assert artifact.load()["a"].tolist() == [1, 2, 3]
    assert artifact.cache().exists()
    assert ln.ULabel.filter(name="kept").count() == 1
    with pytest.raises(ReadOnlyError, match=r"read-only .*may only read.*role that may INSERT"):
        ln.ULabel(name="new").save()
    with pytest.raises(ReadOnlyError, match="cannot save an artifact"):
        ln.Artifact.from_dataframe(pd.DataFrame({"b": [1]}), key="b.parquet").save()
    with pytest.raises(ReadOnlyError):
        artifact.delete(permanent=True)
    assert artifact.path.exists()
    assert not list((Path(instance["storage"]) / ".lamella" / "_pending").glob("*"))
    assert _users(instance["url"]) == users


def test_a_write_the_server_refuses_becomes_a_read_only_error(instance: dict[str, str]) -> None:
    # may insert artifacts and users (so connecting looks writable) but not labels
    role = _make_role(
        instance["url"],
        'GRANT INSERT ON artifact, "user" TO {role}',
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}",
    )
    _instance_for("partial", _as_role(instance["url"], role))
    connected = ln.connect("partial")
    assert not connected.read_only
    with pytest.raises(ReadOnlyError, match=r"the database refused a write.*permission denied"):
        ln.ULabel(name="new").save()
    assert connected.read_only  # later writes are refused before any work
    assert ln.ULabel.filter(name="new").count() == 0


def test_read_only_requested_on_a_role_that_could_write(instance: dict[str, str]) -> None:
    connected = ln.connect("owner", read_only=True)
    assert connected.read_only
    assert ln.Artifact.get(instance["uid"]).load().shape == (3, 1)
    with pytest.raises(ReadOnlyError, match="read_only=True"):
        ln.ULabel(name="new").save()
    from sqlalchemy import text

    # the server refuses too (the sessions are read-only), should a write get past Lamella
    session = connected.db.session()
    with pytest.raises(ReadOnlyError):
        session.execute(text("INSERT INTO branch (id, uid, name, created_at) VALUES (7, 'x', 'x', now())"))


def test_check_and_reindex_a_lost_postgresql_database(
    instance: dict[str, str], postgres_url: str, forget_connection: Any
) -> None:
    ln.setup.connect("owner")
    report = ln.setup.check()
    assert report.ok and report.artifacts_checked == 1
    forget_connection()
    name = f"lost_{uuid.uuid4().hex[:8]}"  # the database is gone; the storage is not: a new, empty one
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    empty = postgres_url.rsplit("/", 1)[0] + "/" + name
    try:
        owner = cfg.InstanceConfig.load("owner")
        assert owner is not None
        owner.db = empty
        owner.save()
        report = ln.setup.check()
        assert [p.kind for p in report.remaining] == ["database"]
        assert "no Lamella schema" in report.problems[0].detail
        report = ln.setup.check(reindex=True)
        assert report.ok and report.reindexed == [instance["uid"]]
        ln.setup.connect("owner")
        assert ln.Artifact.get(instance["uid"]).load()["a"].tolist() == [1, 2, 3]
    finally:
        forget_connection()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
