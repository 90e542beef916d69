"""The database schema's version, owned by Alembic.

A new database is created from the models in one step and stamped with the head revision (what
Alembic's documentation recommends for fresh databases; much faster than replaying migrations).
Existing databases are upgraded with `lamella migrate`, which runs the Alembic migrations. A test
checks that the migrations and the models describe the same schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, inspect, text

from lamella._instance.database import advisory_lock_id
from lamella._setup.sqlite_snapshot import SNAPSHOT
from lamella.errors import NotConnected
from lamella.models import Base

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

# the newest migration in migrations/versions; a test keeps this in step with Alembic's head
HEAD_REVISION = "0002"
KNOWN_REVISIONS = ("0001", "0002")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# the advisory lock (PostgreSQL) under which a new database gets its schema
SCHEMA_LOCK = "lamella:schema"


def current_revision(connection: Connection) -> str | None:

    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def create_schema(engine: Engine) -> bool:
    """Create the tables and stamp the head revision, unless another process did it first.

    Several processes may initialize one empty database at once. The creation runs in one
    transaction that first takes the database's write lock (SQLite) or an advisory lock
    (PostgreSQL, whose DDL is transactional) and then looks for the schema again: the processes
    that waited find it complete and leave it alone. Returns whether this call created it.
    """

    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (advisory_lock_id(SCHEMA_LOCK),))
        try:
            if current_revision(connection) is not None:
                connection.exec_driver_sql("COMMIT")
                return False
            Base.metadata.create_all(connection)
            connection.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
                )
            )
            connection.execute(text("DELETE FROM alembic_version"))
            connection.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD_REVISION}
            )
        except BaseException:
            try:
                connection.exec_driver_sql("ROLLBACK")
            except Exception:
                pass  # a broken connection has no transaction left; the original error is what matters
            raise
        connection.exec_driver_sql("COMMIT")
    return True


def check_revision(revision: str | None, instance_name: str) -> None:
    if revision == HEAD_REVISION:
        return
    if revision is None:
        raise NotConnected(
            f"the database of instance {instance_name!r} has no Lamella schema; "
            f"create it with `lamella init` or check the --db URL"
        )
    if revision in KNOWN_REVISIONS:
        raise NotConnected(
            f"the database of instance {instance_name!r} has an older schema ({revision}, current is "
            f"{HEAD_REVISION}): run `lamella migrate`"
        )
    raise NotConnected(
        f"the database of instance {instance_name!r} was written by a newer Lamella (schema {revision}); "
        f"upgrade Lamella: pip install -U lamella"
    )


def alembic_config(url: str) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Upgrade the database to the head revision; returns (before, after)."""
    from alembic import command

    with engine.connect() as connection:
        before = current_revision(connection)
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        config.attributes["connection"] = connection  # type: ignore[attr-defined]
        command.upgrade(config, "head")  # type: ignore[arg-type]
    with engine.connect() as connection:
        after = current_revision(connection)
    return before, after or HEAD_REVISION


def render_sqlite_snapshot() -> str:
    """The DDL SQLAlchemy emits for the models on SQLite, in creation order, plus Alembic's stamp."""
    engine = create_engine("sqlite://")
    create_schema(engine)
    with engine.connect() as connection:
        # each table in creation order, then its indexes by name (SQLAlchemy keeps indexes in a set)
        statements = connection.exec_driver_sql(
            "SELECT s.sql FROM sqlite_master AS s JOIN sqlite_master AS t "
            "ON t.type = 'table' AND t.name = s.tbl_name "
            "WHERE s.sql IS NOT NULL AND s.name NOT LIKE 'sqlite_%' "
            "ORDER BY t.rowid, s.type != 'table', s.name"
        ).scalars()
        ddl = ";\n".join(statements) + ";\n"
    engine.dispose()
    return ddl + f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD_REVISION}');\n"


if __name__ == "__main__":
    SNAPSHOT.write_text(render_sqlite_snapshot())
    print(f"wrote {SNAPSHOT}")
