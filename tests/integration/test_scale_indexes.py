"""Indexes for instances of millions of rows: new and migrated instances of both backends have them,
the number copies are filled in by the migration, and PostgreSQL plans the queries over them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, inspect, text

import lamella as ln
import servers
from lamella._instance import state
from lamella._setup import schema
from statements import statements_of

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]

# every link table is found from its target with the index alone
REVERSE_INDEXES = {  # those of artifact links end in the copy of the artifact's branch
    "artifact_ulabel": ["ulabel_id", "artifact_id", "feature_id", "owner_branch_id"],
    "artifact_record": ["record_id", "artifact_id", "feature_id", "owner_branch_id"],
    "artifact_featurevalue": ["featurevalue_id", "artifact_id", "owner_branch_id"],
    "collection_artifact": ["artifact_id", "collection_id"],
    "run_input_artifact": ["artifact_id", "run_id"],
    "record_ulabel": ["ulabel_id", "record_id", "feature_id"],
    "schema_feature": ["feature_id", "schema_id"],
}
NUMBER_INDEXES = {
    "artifact_featurevalue": ["feature_id", "value_num", "artifact_id", "owner_branch_id"],
    "run_featurevalue": ["feature_id", "value_num", "run_id"],
    "record_json": ["feature_id", "value_num", "record_id"],
}


ARTIFACT_LINKS = (
    "artifact_featurevalue",
    "artifact_project",
    "artifact_record",
    "artifact_reference",
    "artifact_schema",
    "artifact_ulabel",
)


def _triggers(url: str) -> set[tuple[str, str]]:
    """(trigger, table it is on) of the copies of the artifact's branch."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                rows = connection.exec_driver_sql(
                    "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"
                ).all()
            else:
                rows = connection.exec_driver_sql(
                    "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
                ).all()
        return {(str(n), str(t)) for n, t in rows if "owner_branch" in n or "follows_artifact" in n}
    finally:
        engine.dispose()


def _check_triggers(url: str, backend: str) -> None:
    expected = set()
    for table in ARTIFACT_LINKS:
        expected |= {(f"{table}_owner_branch", table), (f"{table}_follows_artifact", "artifact")}
        if backend == "sqlite":  # SQLite's triggers fire on one event: moving a link has its own
            expected.add((f"{table}_owner_branch_moved", table))
    assert _triggers(url) == expected


def _indexes(url: str) -> dict[str, list[str]]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        inspector = inspect(engine)
        found = {}
        for table in inspector.get_table_names():
            for index in inspector.get_indexes(table):
                found[str(index["name"])] = [str(c) for c in index["column_names"]]
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                definition = connection.execute(
                    text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_artifact_key_pattern'")
                ).scalar_one_or_none()
            found["__key_pattern_definition"] = [str(definition)]
        return found
    finally:
        engine.dispose()


def _check_indexes(url: str, backend: str) -> None:
    found = _indexes(url)
    for table, columns in REVERSE_INDEXES.items():
        assert found[f"ix_{table}_reverse"] == columns
    for table, columns in NUMBER_INDEXES.items():
        assert found[f"ix_{table}_number"] == columns
    # the keys' one-column indexes are gone: every insert paid for them, the indexes above cover them
    for gone in (
        "ix_artifact_ulabel_ulabel_id",
        "ix_artifact_ulabel_artifact_id",
        "ix_record_json_feature_id",
    ):
        assert gone not in found
    if backend == "postgresql":
        definition = found["__key_pattern_definition"][0]
        assert "varchar_pattern_ops" in definition and "INCLUDE (id)" in definition
    else:
        assert "ix_artifact_key_pattern" not in found  # SQLite ranges LIKE over the plain key index


def _annotate(tmp_path: Path) -> dict[str, Any]:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="count", dtype=int).save()
    ln.Feature(name="tissue", dtype=str).save()
    artifacts = {}
    for position, (name, temperature) in enumerate((("cold", 4.0), ("warm", 20.25), ("hot", 37.5))):
        path = tmp_path / f"{name}.txt"
        path.write_text(name)
        artifact = ln.Artifact(path, key=f"samples/{name}.txt").save()
        artifact.features.add_values({"temperature": temperature, "tissue": name, "count": 10 + position})
        artifacts[name] = artifact
    sheet = ln.Record(name="measurements", is_type=True).save()
    record = ln.Record(name="m1", type=sheet).save()
    record.features.add_values({"temperature": 21.0})
    return artifacts


def _check_queries(artifacts: dict[str, Any]) -> None:
    warm = ln.Artifact.filter(temperature__gt=20, temperature__lt=21)
    assert [a.key for a in warm] == ["samples/warm.txt"]
    assert {a.key for a in ln.Artifact.filter(temperature__range=(4, 20.25))} == {
        "samples/cold.txt",
        "samples/warm.txt",
    }
    assert ln.Artifact.filter(temperature=37.5).one().key == "samples/hot.txt"
    assert ln.Artifact.filter(count=11).one().key == "samples/warm.txt"
    assert [a.key for a in ln.Artifact.filter(count__gt=11)] == ["samples/hot.txt"]
    assert ln.Artifact.filter(count__in=[10, 12]).count() == 2
    assert [r.name for r in ln.Record.filter(temperature__gte=21)] == ["m1"]
    assert ln.Artifact.filter(temperature__isnull=False).count() == 3


def test_a_new_instance_has_the_indexes_and_fills_the_number_copies(
    backend: str, db_url: str | None, tmp_path: Path
) -> None:
    instance = ln.setup.init(storage=tmp_path / "data", name=f"new-{backend}", db=db_url)
    assert instance is not None
    _check_indexes(instance.config.url(), backend)
    _check_triggers(instance.config.url(), backend)
    _check_queries(_annotate(tmp_path))


def test_migrating_an_instance_copies_its_numbers_and_builds_the_indexes(
    backend: str, db_url: str | None, tmp_path: Path, forget_connection: Any
) -> None:
    from alembic import command

    instance = ln.setup.init(storage=tmp_path / "data", name=f"old-{backend}", db=db_url)
    assert instance is not None
    url = instance.config.url()
    artifacts = _annotate(tmp_path)
    forget_connection()
    command.downgrade(schema.alembic_config(url), "0004")  # type: ignore[arg-type]
    assert "ix_artifact_ulabel_reverse" not in _indexes(url)

    assert ln.setup.migrate() == ("0004", schema.HEAD_REVISION)
    _check_indexes(url, backend)
    _check_triggers(url, backend)
    ln.connect(f"old-{backend}")
    copies = servers.query(
        db_url or url.removeprefix("sqlite:///"),
        "SELECT DISTINCT owner_branch_id FROM artifact_featurevalue",
    )
    assert [r[0] for r in copies] == [1]  # filled by the migration
    rows = servers.query(
        db_url or url.removeprefix("sqlite:///"),
        "SELECT l.value_num FROM artifact_featurevalue AS l JOIN feature AS f ON f.id = l.feature_id "
        "WHERE f.name = 'temperature' ORDER BY l.value_num",
    )
    assert [r[0] for r in rows] == [4.0, 20.25, 37.5]
    _check_queries(artifacts)


# --- plans on PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def collated_pg_db(postgres_url: str) -> Iterator[str]:
    """A database with a collation other than "C", as most servers have: the default index operator
    class cannot range `LIKE 'x%'` there."""
    import psycopg

    url = servers.server_url(postgres_url, "collated")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "collated" WITH (FORCE)')
        conn.execute(
            "CREATE DATABASE \"collated\" TEMPLATE template0 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )
    yield url
    servers.drop_database(postgres_url, url)


def _plans_of(call: Any) -> list[str]:
    """The plans PostgreSQL makes for the statements `call` runs (sequential scans off: with a few rows
    a scan would win; this asks which index the query's shape can use)."""
    engine = state.current().db.engine
    statements: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    plans = []
    with engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars()
            plans.append("\n".join(rows))
    return plans


def _uses(plans: list[str], index: str) -> bool:
    return any(
        re.search(rf"Index (Only )?Scan (Backward )?using {index}\b|Bitmap Index Scan on {index}\b", p)
        for p in plans
    )


def _grow(connection: Any, n: int) -> None:
    """`n` more artifacts, copies of a saved one with their own uid, key and temperature, so that the
    planner weighs its indexes against a table of some size."""
    columns = [
        row[0]
        for row in connection.exec_driver_sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'artifact' "
            "AND column_name NOT IN ('id', 'uid', 'key', 'hash')"
        )
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    connection.exec_driver_sql(
        f"INSERT INTO artifact (uid, key, hash, {listed}) "
        f"SELECT substr(md5(g::text), 1, 20), 'bulk/' || g || '.txt', substr(md5(g::text), 1, 22), {listed} "
        f"FROM artifact, generate_series(1, {n}) AS g WHERE artifact.key = 'samples/cold.txt'"
    )
    connection.exec_driver_sql(  # each made a moment after the one before, as saved ones are
        "UPDATE artifact SET created_at = created_at + id * interval '1 millisecond' WHERE key LIKE 'bulk/%%'"
    )
    connection.exec_driver_sql(
        "INSERT INTO artifact_featurevalue (artifact_id, featurevalue_id, feature_id, value_num, created_at) "
        "SELECT a.id, l.featurevalue_id, l.feature_id, mod(a.id, 400) / 10.0, l.created_at "
        "FROM artifact AS a, artifact_featurevalue AS l JOIN feature AS f ON f.id = l.feature_id "
        "WHERE a.key LIKE 'bulk/%%' AND f.name = 'temperature' AND l.value_num = 4.0"
    )
    connection.exec_driver_sql(
        "INSERT INTO artifact_ulabel (artifact_id, ulabel_id, created_at) "
        "SELECT a.id, (SELECT min(id) FROM ulabel) + mod(a.id, 20), a.created_at "  # 1 of 20 labels
        "FROM artifact AS a WHERE a.key LIKE 'bulk/%%' AND mod(a.id, 3) = 0"
    )


def test_postgresql_answers_prefix_range_and_label_queries_from_the_indexes(
    collated_pg_db: str, tmp_path: Path
) -> None:
    ln.setup.init(storage=tmp_path / "data", name="plans", db=collated_pg_db)
    _annotate(tmp_path)
    label = ln.ULabel(name="label_3").save()
    ln.save([ln.ULabel(name=f"other_{j}") for j in range(19)])
    ln.Artifact.get(key="samples/warm.txt").ulabels.add(label)
    with state.current().db.engine.begin() as connection:
        _grow(connection, 20_000)
    with state.current().db.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")

    prefix = _plans_of(lambda: ln.Artifact.filter(key__startswith="samples/").count())
    assert _uses(prefix, "ix_artifact_key_pattern"), prefix
    by_range = _plans_of(lambda: ln.Artifact.filter(temperature__gt=20, temperature__lt=20.5).count())
    assert _uses(by_range, "ix_artifact_featurevalue_number"), by_range
    # both bounds in one range of one subquery: the number index is read once
    assert sum(p.count("ix_artifact_featurevalue_number") for p in by_range) == 1, by_range
    by_label = _plans_of(lambda: ln.Artifact.filter(ulabels__name="label_3").count())
    assert _uses(by_label, "ix_artifact_ulabel_reverse"), by_label
    # both counts come from the link index alone: no lookup of each artifact's branch and kind
    for plans, index in (
        (by_range, "ix_artifact_featurevalue_number"),
        (by_label, "ix_artifact_ulabel_reverse"),
    ):
        counted = plans[-1]  # after the feature's or label's lookup
        assert _uses([counted], index) and not re.search(r" on artifact\b(?!_)", counted), plans
    newest = ln.Artifact.filter(key__startswith="bulk/").order_by("-created_at")
    last_of_first_page = list(newest[:100])[-1]
    deep = _plans_of(lambda: list(newest.after(last_of_first_page)[:100]))
    assert _uses(deep, "ix_artifact_created_at"), deep
    # an estimate from the statistics, close for a whole table, fine with any lookup
    exact = ln.Artifact.filter().count()
    assert abs(ln.Artifact.filter().estimate_count() - exact) <= exact // 10
    assert ln.Artifact.filter(key__in=["samples/warm.txt", "bulk/7.txt"]).estimate_count() >= 1
    labelled = ln.Artifact.filter(ulabels__name="label_3").to_list("key")
    assert "samples/warm.txt" in labelled and all(
        k.startswith("bulk/") for k in labelled if k != "samples/warm.txt"
    )
    assert ln.Artifact.filter(temperature__gt=20, temperature__lt=20.5).count() == 1 + len(
        [i for i in ln.Artifact.filter(key__startswith="bulk/").to_list("id") if 200 < i % 400 < 205]
    )


def test_pages_after_a_row_on_both_backends(backend: str, db_url: str | None, tmp_path: Path) -> None:
    ln.setup.init(storage=tmp_path / "data", name=f"pages-{backend}", db=db_url)
    ln.save([ln.ULabel(name=f"p{i:03d}") for i in range(120)])
    qs = ln.ULabel.filter(name__startswith="p").order_by("-created_at")
    expected = [x.name for x in qs]
    seen, page = [], list(qs[:50])
    while page:
        seen += [x.name for x in page]
        page = list(qs.after(page[-1])[:50])
    assert seen == expected
    assert [x.name for x in qs.iterator(chunk_size=33)] == expected
    if backend == "sqlite":  # exact where counting is fast
        assert qs.estimate_count() == 120


def test_artifact_links_follow_their_artifact_and_counts_read_them(
    backend: str, db_url: str | None, tmp_path: Path
) -> None:
    instance = ln.setup.init(storage=tmp_path / "data", name=f"copies-{backend}", db=db_url)
    assert instance is not None
    where = db_url or instance.config.url().removeprefix("sqlite:///")
    artifacts = _annotate(tmp_path)
    label = ln.ULabel(name="label_3").save()
    for artifact in artifacts.values():
        artifact.ulabels.add(label)

    def copies() -> dict[str, int | None]:
        rows = servers.query(
            where,
            "SELECT a.key, l.owner_branch_id FROM artifact_ulabel AS l JOIN artifact AS a ON a.id = l.artifact_id",
        )
        return {str(key): branch for key, branch in rows}

    def counts() -> list[int]:
        # through the links' copies, and the same filters counted on the artifacts (branch_id given)
        through_links = [
            ln.Artifact.filter(ulabels=label).count(),
            ln.Artifact.filter(temperature__gt=0, temperature__lt=30).count(),
            ln.Artifact.filter(ulabels__name="label_3", temperature__gt=10).count(),
        ]
        on_artifacts = [
            ln.Artifact.filter(ulabels=label, branch_id=1).count(),
            ln.Artifact.filter(temperature__gt=0, temperature__lt=30, branch_id=1).count(),
            ln.Artifact.filter(ulabels__name="label_3", temperature__gt=10, branch_id=1).count(),
        ]
        assert through_links == on_artifacts
        return through_links

    assert set(copies().values()) == {1}
    assert counts() == [3, 2, 2]
    statements = statements_of(lambda: ln.Artifact.filter(ulabels=label).count())
    assert "FROM artifact_ulabel" in statements[-1] and "FROM artifact " not in statements[-1]

    artifacts["warm"].delete()  # to the trash: its links follow
    assert copies()["samples/warm.txt"] == -1
    assert counts() == [2, 1, 1]
    ln.Artifact.filter(branch_id=-1).one().restore()
    assert copies()["samples/warm.txt"] == 1
    assert counts() == [3, 2, 2]

    # an internal kind (run reports) is never shown by default queries: its links copy no branch
    servers.execute(where, "UPDATE artifact SET kind = '__lamella_report' WHERE key = 'samples/hot.txt'")
    assert copies()["samples/hot.txt"] is None
    assert counts() == [2, 2, 1]
    # a query that sets its own kind or branch counts on the artifacts
    assert ln.Artifact.filter(ulabels=label, kind="__lamella_report").count() == 1
    assert ln.Artifact.filter(ulabels=label, branch_id=None).count() == 2  # every branch, kinds shown
