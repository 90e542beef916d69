"""Search on PostgreSQL: pg_trgm's GIN indexes serve it, and without pg_trgm it scans, says so, and
`lamella migrate` adds the indexes once a superuser enabled the extension."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import lamella as ln
import servers
from lamella._instance import search_index, state

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]


def trigram_indexes(url: str) -> dict[str, str]:
    rows = servers.query(url, "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'ix%trgm'")
    return {str(name): str(definition) for name, definition in rows}


def explain(queryset: object) -> str:
    """EXPLAIN of the statement the QuerySet runs, with its parameters as it sends them."""
    engine = state.current().db.engine
    compiled = queryset._statement().compile(dialect=engine.dialect)  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN " + compiled.string, compiled.params).scalars()
        return "\n".join(rows)


def add_artifacts(url: str, count: int) -> None:
    """`count` artifacts made by SQL, keyed `project{i % 100}/sample{i}.parquet`, a description on
    every fourth; then VACUUM ANALYZE, as autovacuum would run (it moves the rows from the GIN indexes'
    pending lists into the indexes proper, and gathers the statistics the planner and search read)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO artifact (uid, key, description, storage_id, suffix, size, hash, _key_is_virtual, "
            "is_latest, created_at, updated_at, created_by_id, branch_id, space_id) "
            "SELECT 'g' || lpad(i::text, 15, '0') || '0000', 'project' || mod(i, 100) || '/sample' || i || "
            "'.parquet', CASE WHEN mod(i, 4) = 0 THEN 'measurement ' || i END, 1, '.parquet', i, 'h' || i, true, "
            "true, now(), now(), 1, 1, 1 FROM generate_series(0, %s) AS i",
            (count - 1,),
        )
        connection.execute("VACUUM ANALYZE artifact")


def test_a_new_instance_has_trigram_indexes_that_serve_search(fresh_pg_db: str, tmp_path: Path) -> None:
    ln.setup.init(storage=tmp_path / "data", name="trgm", db=fresh_pg_db)
    indexes = trigram_indexes(fresh_pg_db)
    assert set(indexes) == set(search_index.pg_index_names())
    assert "USING gin (lower((key)::text) gin_trgm_ops)" in indexes["ix_artifact_key_trgm"]
    assert state.current().search_index == search_index.TRIGRAM

    add_artifacts(fresh_pg_db, 20_000)
    found = ln.Artifact.search("sample123")
    plan = explain(found)
    assert "Bitmap Index Scan on ix_artifact_key_trgm" in plan, plan
    assert "Bitmap Index Scan on ix_artifact_description_trgm" in plan, plan
    # every key holds "sample": the index looks up a rarer part, the whole word is checked
    looked_up = re.search(r"on ix_artifact_key_trgm .*\n\s*Index Cond: .* ~~ '%(\w+)%'", plan)
    assert looked_up is not None, plan
    assert looked_up.group(1) in "sample123" and looked_up.group(1) != "sample123", plan
    assert "strpos(lower((key)::text), 'sample123'" in plan, plan
    # no exact or prefix match: substrings, the shortest key first, then by id
    assert [a.key for a in found] == [
        "project23/sample123.parquet",
        *(f"project{i % 100}/sample{i}.parquet" for i in range(1230, 1240)),
        *(f"project{i % 100}/sample{i}.parquet" for i in range(12300, 12309)),  # project0-8: as short
    ]
    exact = ln.Artifact.search("Measurement 1232").to_list("key")
    assert exact[:2] == ["project32/sample1232.parquet", "project20/sample12320.parquet"]
    two_words = ln.Artifact.search("sample1 project1/")
    assert "Bitmap Index Scan on ix_artifact_key_trgm" in explain(two_words)
    assert all(a.key.startswith("project1") and "sample1" in a.key for a in two_words)


@pytest.fixture
def role_without_extensions(postgres_url: str) -> Iterator[str]:
    """The URL of a new database for a role that may create tables in it but not extensions (no
    CREATE privilege on the database, which even pg_trgm, a trusted extension, needs)."""
    role = f"limited_{uuid.uuid4().hex[:8]}"
    url = servers.create_database(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"CREATE ROLE {role} LOGIN")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {role}")
    yield url.replace("://lamella@", f"://{role}@")
    state.process.reset()
    servers.drop_database(postgres_url, url)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"DROP ROLE {role}")


def test_without_pg_trgm_search_scans_warns_and_migrate_adds_the_indexes_later(
    role_without_extensions: str, postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = role_without_extensions
    with caplog.at_level(logging.WARNING, logger="lamella"):
        ln.setup.init(storage=tmp_path / "data", name="no-trgm", db=url)
    created = [r.getMessage() for r in caplog.records if "search scans whole tables" in r.getMessage()]
    assert len(created) == 1 and "CREATE EXTENSION pg_trgm" in created[0] and "lamella migrate" in created[0]
    assert trigram_indexes(url) == {}
    assert not state.current().read_only  # the refusal is not taken for a read-only database

    for name in ("T cell", "T cell receptor", "Regulatory T cell", "Neuron"):
        ln.ULabel(name=name).save()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lamella"):
        assert ln.ULabel.search("t cell").to_list("name") == [
            "T cell",
            "T cell receptor",
            "Regulatory T cell",
        ]
        assert ln.ULabel.search("neuron").to_list("name") == ["Neuron"]
    warned = [r.getMessage() for r in caplog.records if "search scans whole tables" in r.getMessage()]
    assert len(warned) == 1  # once, at the first search

    # a superuser enables pg_trgm; `lamella migrate` (already at the head revision) builds the indexes
    superuser_url = url.split("://", 1)[0] + "://lamella@" + url.split("@", 1)[1]
    with psycopg.connect(superuser_url, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION pg_trgm")
    ln.setup.migrate()
    assert set(trigram_indexes(url)) == set(search_index.pg_index_names())
    state.process.reset()
    ln.connect("no-trgm")
    assert state.current().search_index == search_index.TRIGRAM
    assert ln.ULabel.search("t cell").to_list("name") == ["T cell", "T cell receptor", "Regulatory T cell"]
