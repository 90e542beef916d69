"""Alembic migrations against real databases: they build the schema the models describe, and
instances on an older schema are told to migrate (and can be)."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

import lamella as ln
from lamella._instance import search_index
from lamella._setup import schema
from lamella.errors import NotConnected

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]

STEM_INDEXES = {
    "ix_artifact_stem",
    "uq_artifact_latest_per_stem",
    "ix_collection_stem",
    "uq_collection_latest_per_stem",
    "ix_transform_stem",
    "uq_transform_latest_per_stem",
}


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


@pytest.fixture
def empty_db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The SQLAlchemy URL of an empty database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        yield sqlalchemy_url(str(request.getfixturevalue("fresh_pg_db")))


@pytest.fixture
def engine_for() -> Iterator[Any]:
    engines: list[Engine] = []

    def make(url: str) -> Engine:
        engine = create_engine(sqlalchemy_url(url))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(schema.alembic_config(url), revision)  # type: ignore[arg-type]


def schema_differences(engine: Engine) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from lamella.models import all_tables

    with engine.connect() as connection, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # expression-based indexes cannot be reflected: compared below
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": schema.is_core_object},
        )
        # all_tables(): the link tables are defined when first used, which this process may not have done
        return list(compare_metadata(context, all_tables()))


def index_definitions(engine: Engine) -> dict[str, str]:
    """Every index by name with its full definition, as the database reports it."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            ).all()
        else:
            rows = connection.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            ).all()
    return {name: " ".join(str(sql).split()) for name, sql in rows}


def search_objects(engine: Engine) -> dict[str, str]:
    """The search indexes (`_instance/search_index.py`) by name with their definitions: the FTS5
    tables and their triggers on SQLite, the trigram indexes on PostgreSQL."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'trigger')")
            ).all()
            found = {name: sql for name, sql in rows if search_index.is_search_object(name)}
        else:
            rows = connection.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'ix%trgm'")
            ).all()
            found = dict(rows)
        setting = connection.execute(
            text("SELECT value FROM instance_setting WHERE name = :name"),
            {"name": search_index.SEARCH_INDEX_SETTING},
        ).scalar_one_or_none()
    assert setting == search_index.TRIGRAM
    return {name: " ".join(str(sql).split()) for name, sql in found.items()}


def expected_search_objects(backend: str) -> set[str]:
    if backend == "postgresql":
        return set(search_index.pg_index_names())
    suffixes = ("", "_insert", "_update", "_delete")
    return {search_index.fts_table(t) + suffix for t in search_index.SEARCH_FIELDS for suffix in suffixes}


def revision_of(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return schema.current_revision(connection)


# --- the migrations build the models' schema -------------------------------------------------------


def test_alembic_head_is_the_revision_lamella_expects() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(schema.alembic_config("sqlite://"))  # type: ignore[arg-type]
    assert scripts.get_heads() == [schema.HEAD_REVISION]
    assert set(schema.KNOWN_REVISIONS) == {rev.revision for rev in scripts.walk_revisions()}


def _models_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest, engine_for: Any) -> Engine:
    """A second empty database with the schema created from the models (what `init` does)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'models.db'}"
    else:
        from psycopg import connect

        server = str(request.getfixturevalue("postgres_url"))
        name = f"models_{tmp_path.name[-20:].lower().replace('-', '_')}"
        with connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        request.addfinalizer(lambda: _drop(server, name))
        url = sqlalchemy_url(server.rsplit("/", 1)[0] + "/" + name)
    engine = engine_for(url)
    schema.create_schema(engine)
    return engine


def _drop(server: str, name: str) -> None:
    from psycopg import connect

    with connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _without_alembic_version(indexes: dict[str, str]) -> dict[str, str]:
    # Alembic names the key of its own table differently (alembic_version_pkc); that table is not ours
    return {name: sql for name, sql in indexes.items() if "alembic_version" not in name}


def test_upgrade_head_on_an_empty_database_gives_the_models_schema(
    empty_db: str, engine_for: Any, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    upgrade(empty_db)
    engine = engine_for(empty_db)
    assert revision_of(engine) == schema.HEAD_REVISION
    assert schema_differences(engine) == []

    indexes = index_definitions(engine)
    assert set(indexes) >= STEM_INDEXES
    latest = indexes["uq_artifact_latest_per_stem"]
    assert "UNIQUE" in latest and "is_latest" in latest and "WHERE" in latest

    # expression indexes escape autogenerate: compare every index definition with the models' own
    models = _models_database(backend, tmp_path, request, engine_for)
    assert _without_alembic_version(index_definitions(models)) == _without_alembic_version(indexes)
    # the search indexes, made by migration 0006 (CONCURRENTLY on PostgreSQL) as for a new database
    searched = search_objects(engine)
    assert set(searched) >= expected_search_objects(backend)
    assert searched == search_objects(models)

    _check_one_latest_version_per_family(engine)


def _check_one_latest_version_per_family(engine: Engine) -> None:
    """Two latest versions of one family are rejected by the database itself."""
    from sqlalchemy.exc import IntegrityError

    now = "'2025-01-01 00:00:00'"
    with engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO branch (id, uid, name, created_at) VALUES (1, 'main00000000', 'main', {now})")
        )
        connection.execute(
            text(f"INSERT INTO space (id, uid, name, created_at) VALUES (1, 'all000000000', 'all', {now})")
        )
        connection.execute(
            text(
                'INSERT INTO "user" (id, uid, handle, created_at, updated_at) '
                f"VALUES (1, 'u0000000', 'u', {now}, {now})"
            )
        )

    def transform(uid: str, latest: bool) -> None:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO transform (uid, key, kind, is_latest, created_by_id, branch_id, space_id, "
                    f"created_at, updated_at) VALUES (:uid, 'k', 'script', :latest, 1, 1, 1, {now}, {now})"
                ),
                {"uid": uid, "latest": latest},
            )

    transform("abcdefghijkl0000", latest=False)
    transform("abcdefghijkl0001", latest=True)
    with pytest.raises(IntegrityError):
        transform("abcdefghijkl0002", latest=True)
    transform("mnopqrstuvwx0000", latest=True)  # another family has its own latest version


def test_a_new_instance_has_the_models_schema(
    backend: str, db_url: str | None, tmp_path: Path, engine_for: Any, request: pytest.FixtureRequest
) -> None:
    """`init` builds the schema without replaying migrations (a snapshot on SQLite); it must match."""
    instance = ln.setup.init(storage=tmp_path / "data", name=f"fresh-{backend}", db=db_url)
    assert instance is not None
    assert ln.settings.hash_type == "blake3"
    engine = engine_for(instance.config.url())
    assert revision_of(engine) == schema.HEAD_REVISION
    assert schema_differences(engine) == []
    models = _models_database(backend, tmp_path, request, engine_for)
    assert _without_alembic_version(index_definitions(engine)) == _without_alembic_version(
        index_definitions(models)
    )
    assert search_objects(engine) == search_objects(models)  # SQLite: from the snapshot path


def test_downgrade_to_base_removes_every_table(empty_db: str, engine_for: Any) -> None:
    from alembic import command

    upgrade(empty_db)
    command.downgrade(schema.alembic_config(empty_db), "base")  # type: ignore[arg-type]
    engine = engine_for(empty_db)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert revision_of(engine) is None or revision_of(engine) == ""


# --- `lamella migrate` and older schemas -----------------------------------------------------------


def test_migrate_on_an_up_to_date_instance_says_so(
    backend: str, db_url: str | None, tmp_path: Path, children: Any
) -> None:
    args = ["init", "--storage", str(tmp_path / "data"), "--name", f"mig-{backend}"]
    if db_url is not None:
        args += ["--db", db_url]
    created = children.cli(*args)
    assert created.returncode == 0, created.stdout + created.stderr
    for _ in range(2):
        proc = children.cli("migrate")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "up to date" in proc.stdout
        assert schema.HEAD_REVISION in proc.stdout
    assert ln.setup.migrate() == (schema.HEAD_REVISION, schema.HEAD_REVISION)


@pytest.fixture
def newer_lamella(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Pretend this Lamella ships a revision 0099 (which adds a table), one newer than the databases."""
    migrations = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    head = schema.HEAD_REVISION
    (migrations / "versions" / "0099_test_marker.py").write_text(
        f'"""test marker\n\nRevision ID: 0099\nRevises: {head}\n"""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f'revision = "0099"\ndown_revision = "{head}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade():\n"
        '    op.create_table("zz_test_marker", sa.Column("id", sa.Integer, primary_key=True))\n\n\n'
        "def downgrade():\n"
        '    op.drop_table("zz_test_marker")\n'
    )
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", migrations)
    monkeypatch.setattr(schema, "HEAD_REVISION", "0099")
    monkeypatch.setattr(schema, "KNOWN_REVISIONS", (*schema.KNOWN_REVISIONS, "0099"))
    return head


def test_an_older_schema_asks_for_migrate_and_migrate_upgrades_it(
    backend: str,
    db_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    engine_for: Any,
    forget_connection: Any,
) -> None:
    name = f"old-{backend}"
    instance = ln.setup.init(storage=tmp_path / "data", name=name, db=db_url)
    assert instance is not None
    url = instance.config.url()
    ln.ULabel(name="kept across the migration").save()
    forget_connection()

    # a newer Lamella meets the database (patched in only now, so `init` stamped the real head)
    head = request.getfixturevalue("newer_lamella")

    with pytest.raises(NotConnected, match="lamella migrate"):
        ln.connect(name)
    with pytest.raises(NotConnected, match="lamella migrate"):
        ln.ULabel.filter().count()  # autoconnect says the same

    assert ln.setup.migrate() == (head, "0099")
    engine = engine_for(url)
    assert revision_of(engine) == "0099"
    assert inspect(engine).has_table("zz_test_marker")
    ln.connect(name)
    assert ln.ULabel.filter(name="kept across the migration").count() == 1
    assert ln.setup.migrate() == ("0099", "0099")


def test_an_instance_from_before_hash_types_keeps_md5_after_migrate(
    backend: str,
    db_url: str | None,
    tmp_path: Path,
    engine_for: Any,
    forget_connection: Any,
) -> None:
    """An instance created by a Lamella that hashed only with md5 (schema 0003) keeps md5 once migrated,
    so that a file saved again still finds the artifact it saved before."""
    from alembic import command

    name = f"md5-{backend}"
    instance = ln.setup.init(storage=tmp_path / "data", name=name, db=db_url)
    assert instance is not None
    url = instance.config.url()
    forget_connection()
    command.downgrade(schema.alembic_config(url), "0003")  # type: ignore[arg-type]
    assert not inspect(engine_for(url)).has_table("instance_setting")
    with pytest.raises(NotConnected, match="lamella migrate"):
        ln.connect(name)
    assert ln.setup.migrate() == ("0003", schema.HEAD_REVISION)
    ln.connect(name)
    assert ln.settings.hash_type == "md5"
    source = tmp_path / "f.txt"
    source.write_text("saved with md5")
    artifact = ln.Artifact(source, key="f.txt").save()
    assert artifact._hash_type == "md5"
    assert ln.Artifact(source, key="g.txt").save().uid == artifact.uid


def test_migrating_an_instance_indexes_the_records_it_has_for_search(
    backend: str, db_url: str | None, tmp_path: Path, engine_for: Any, forget_connection: Any
) -> None:
    """Migration 0006 on an instance with records: search finds them through the new indexes."""
    from alembic import command

    name = f"search-{backend}"
    instance = ln.setup.init(storage=tmp_path / "data", name=name, db=db_url)
    assert instance is not None
    url = instance.config.url()
    ln.save([ln.ULabel(name=f"sample{i}", description=f"label number {i}") for i in range(50)])
    forget_connection()
    command.downgrade(schema.alembic_config(url), "0004")  # type: ignore[arg-type]
    engine = engine_for(url)
    catalog = (
        "SELECT indexname FROM pg_indexes" if backend == "postgresql" else "SELECT name FROM sqlite_master"
    )
    with engine.connect() as connection:
        assert not set(connection.execute(text(catalog)).scalars()) & expected_search_objects(backend)

    assert ln.setup.migrate() == ("0004", schema.HEAD_REVISION)
    assert set(search_objects(engine)) >= expected_search_objects(backend)
    ln.connect(name)
    assert ln.ULabel.search("sample4").to_list("name") == ["sample4", *(f"sample{i}" for i in range(40, 50))]
    assert ln.ULabel.search("number 17").one().name == "sample17"
    if backend == "sqlite":  # the FTS tables hold exactly the rows there are
        with engine.connect() as connection:
            connection.execute(
                text("INSERT INTO ulabel_fts (ulabel_fts, rank) VALUES ('integrity-check', 1)")
            )
    ln.ULabel(name="sample4x").save()  # and follow new ones
    assert "sample4x" in ln.ULabel.search("sample4").to_list("name")


def test_a_newer_schema_asks_to_upgrade_lamella(
    backend: str, db_url: str | None, tmp_path: Path, children: Any, engine_for: Any, forget_connection: Any
) -> None:
    name = f"new-{backend}"
    instance = ln.setup.init(storage=tmp_path / "data", name=name, db=db_url)
    assert instance is not None
    url = instance.config.url()
    forget_connection()
    with engine_for(url).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    with pytest.raises(NotConnected, match="newer Lamella"):
        ln.connect(name)
    proc = children.cli("connect", name)
    assert proc.returncode == 1
    assert "newer Lamella" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_database_without_the_schema_is_not_mistaken_for_an_instance(
    backend: str, db_url: str | None, tmp_path: Path, engine_for: Any, forget_connection: Any
) -> None:
    name = f"gone-{backend}"
    instance = ln.setup.init(storage=tmp_path / "data", name=name, db=db_url)
    assert instance is not None
    url = instance.config.url()
    forget_connection()
    with engine_for(url).begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    with pytest.raises(NotConnected, match="no Lamella schema"):
        ln.connect(name)
