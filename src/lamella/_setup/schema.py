"""The database schema's version, owned by Alembic.

A new database is created from the models in one step and stamped with the head revision (what
Alembic's documentation recommends for fresh databases; much faster than replaying migrations).
Existing databases are upgraded with `lamella migrate`, which runs the Alembic migrations. A test
checks that the migrations and the models describe the same schema.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, create_engine, insert, inspect, text

from lamella._instance import search_index
from lamella._instance.config import OPTIONAL_MODULES
from lamella._instance.database import advisory_lock_id
from lamella._setup import search_indexes
from lamella._setup.base_rows import NEW_INSTANCE_SETTINGS
from lamella._setup.sqlite_snapshot import SNAPSHOT
from lamella.errors import NotConnected
from lamella.models import all_tables
from lamella.models.artifact.artifact import KEY_PATTERN_INDEX
from lamella.models.core.instance_records import InstanceSetting

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

# the newest migration in migrations/versions; a test keeps this in step with Alembic's head
HEAD_REVISION = "0007"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# the advisory lock (PostgreSQL) under which a new database gets its schema
SCHEMA_LOCK = "lamella:schema"


def current_revision(connection: Connection) -> str | None:

    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


# indexes the models create with DDL of one dialect (see models/artifact/artifact.py)
INDEXES_BY_DDL = frozenset({KEY_PATTERN_INDEX})

# tables of optional modules are named after them (`bionty_celltype`): the core schema leaves them out
MODULE_TABLE_PREFIXES = tuple(f"{module}_" for module in OPTIONAL_MODULES)


def is_core_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's `include_object`: the core migrations leave modules' tables (and their indexes) out,
    and the indexes no model describes: the search indexes (`_instance/search_index.py`) and those
    made by DDL of one dialect."""
    if type_ == "index" and name in INDEXES_BY_DDL:
        return False
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    if search_index.is_search_object(name or "") or search_index.is_search_object(table or ""):
        return False
    return not (table or "").startswith(MODULE_TABLE_PREFIXES)


def core_tables() -> list[Table]:
    """The tables of the core schema, in creation order (without any module's tables)."""
    return [t for t in all_tables().sorted_tables if not t.name.startswith(MODULE_TABLE_PREFIXES)]


def load_module(module: str) -> None:
    """Import an optional module (`lamella.bionty`), which declares its tables; a clear error if missing."""
    try:
        importlib.import_module(f"lamella.{module}")
    except ImportError as e:
        raise NotConnected(
            f"this instance uses the module {module!r}, which cannot be imported ({e}); "
            f"install it with pip install 'lamella[{module}]'"
        ) from e


def _module_migrations(module: str) -> Any:
    """`lamella.<module>.migrations`: HEAD_REVISION, KNOWN_REVISIONS, VERSION_TABLE, MIGRATIONS_DIR."""
    return importlib.import_module(f"lamella.{module}.migrations")


def module_revision(connection: Connection, module: str) -> str | None:
    table = _module_migrations(module).VERSION_TABLE
    if not inspect(connection).has_table(table):
        return None
    return connection.execute(text(f'SELECT version_num FROM "{table}"')).scalar_one_or_none()


def create_module_tables(engine: Engine, module: str) -> bool:
    """Give the database the tables of `module` and stamp its revision, under the schema lock.

    A database that has them already is checked: an older revision asks for `lamella migrate`.
    Returns whether the tables were created now.
    """
    load_module(module)
    migrations = _module_migrations(module)
    with engine.connect() as connection:
        revision = module_revision(connection, module)
    if revision is not None:
        _check_module_revision(revision, module, migrations)
        return False
    metadata = all_tables()
    tables = [t for t in metadata.sorted_tables if t.name.startswith(f"{module}_")]

    def build(connection: Connection) -> None:
        metadata.create_all(connection, tables=tables, checkfirst=True)
        _stamp(connection, migrations.VERSION_TABLE, migrations.HEAD_REVISION)

    return _create_under_lock(engine, lambda c: module_revision(c, module) is not None, build)


def _check_module_revision(revision: str, module: str, migrations: Any) -> None:
    if revision == migrations.HEAD_REVISION:
        return
    if revision in migrations.KNOWN_REVISIONS:
        raise NotConnected(
            f"the {module} tables have an older schema ({revision}, current is "
            f"{migrations.HEAD_REVISION}): run `lamella migrate`"
        )
    raise NotConnected(
        f"the {module} tables were written by a newer Lamella (schema {revision}); "
        f"upgrade Lamella: pip install -U lamella"
    )


def migrate_module(engine: Engine, module: str) -> None:
    """Upgrade the tables of `module` to its head revision (creating them when they are missing)."""
    from alembic import command

    load_module(module)
    migrations = _module_migrations(module)
    with engine.connect() as connection:
        revision = module_revision(connection, module)
    if revision is None:
        create_module_tables(engine, module)
        return
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)), migrations.MIGRATIONS_DIR)
    with engine.connect() as connection:  # one transaction per revision (see migrate)
        config.attributes["connection"] = connection  # type: ignore[attr-defined]
        command.upgrade(config, "head")  # type: ignore[arg-type]


def create_schema(engine: Engine) -> bool:
    """Create the tables and stamp the head revision, unless another process did it first.

    Several processes may initialize one empty database at once. The creation runs in one
    transaction that first takes the database's write lock (SQLite) or an advisory lock
    (PostgreSQL, whose DDL is transactional) and then looks for the schema again: the processes
    that waited find it complete and leave it alone. Returns whether this call created it.
    """

    def build(connection: Connection) -> None:
        all_tables().create_all(connection, tables=core_tables())
        # in the same transaction as the tables: no client ever sees the instance without its settings
        connection.execute(
            insert(InstanceSetting),
            [{"name": name, "value": value} for name, value in NEW_INSTANCE_SETTINGS],
        )
        search_indexes.create(connection)
        _stamp(connection, "alembic_version", HEAD_REVISION)

    return _create_under_lock(engine, lambda c: current_revision(c) is not None, build)


def _create_under_lock(
    engine: Engine, done: Callable[[Connection], bool], build: Callable[[Connection], None]
) -> bool:
    """Run `build` in one transaction under the schema lock, unless `done` finds it done meanwhile.

    The lock is the database's write lock (SQLite) or an advisory lock (PostgreSQL, whose DDL is
    transactional); processes that waited for it find the work done and leave it alone.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (advisory_lock_id(SCHEMA_LOCK),))
        try:
            if done(connection):
                connection.exec_driver_sql("COMMIT")
                return False
            build(connection)
        except BaseException:
            try:
                connection.exec_driver_sql("ROLLBACK")
            except Exception:
                pass  # a broken connection has no transaction left; the original error is what matters
            raise
        connection.exec_driver_sql("COMMIT")
    return True


def _stamp(connection: Connection, table: str, revision: str) -> None:
    """Alembic's version table with one row: the revision the tables were created at."""
    connection.execute(
        text(f'CREATE TABLE IF NOT EXISTS "{table}" (version_num VARCHAR(32) NOT NULL PRIMARY KEY)')
    )
    connection.execute(text(f'DELETE FROM "{table}"'))
    connection.execute(text(f'INSERT INTO "{table}" (version_num) VALUES (:v)'), {"v": revision})


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


def alembic_config(url: str, migrations_dir: Path | None = None) -> object:
    """Alembic's config for the core migrations, or a module's (`migrations_dir`)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir or MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Upgrade the database to the head revision; returns (before, after)."""
    from alembic import command

    with engine.connect() as connection:
        before = current_revision(connection)
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    # not in a transaction of ours: Alembic runs its own, which a migration may leave for an
    # autocommit block (0006 builds PostgreSQL's search indexes CONCURRENTLY)
    with engine.connect() as connection:
        config.attributes["connection"] = connection  # type: ignore[attr-defined]
        command.upgrade(config, "head")  # type: ignore[arg-type]
    with engine.connect() as connection:
        after = current_revision(connection)
    if after == HEAD_REVISION:
        search_indexes.retry(engine)  # an instance whose search scans: the indexes may be possible now
    return before, after or HEAD_REVISION


def render_sqlite_snapshot() -> str:
    """The DDL SQLAlchemy emits for the models on SQLite, in creation order, plus Alembic's stamp.

    Without the search indexes: `sqlite_snapshot` adds them from `_instance/search_index.py` when
    this process's SQLite can have them.
    """
    engine = create_engine("sqlite://")
    create_schema(engine)
    with engine.connect() as connection:
        # each table in creation order, then its indexes by name (SQLAlchemy keeps indexes in a set)
        rows = connection.exec_driver_sql(
            "SELECT s.name, s.tbl_name, s.sql FROM sqlite_master AS s JOIN sqlite_master AS t "
            "ON t.type = 'table' AND t.name = s.tbl_name "
            "WHERE s.sql IS NOT NULL AND s.name NOT LIKE 'sqlite_%' "
            "ORDER BY t.rowid, s.type != 'table', s.name"
        ).all()
        statements = [
            sql
            for name, table, sql in rows
            if not (search_index.is_search_object(name) or search_index.is_search_object(table))
        ]
        ddl = ";\n".join(statements) + ";\n"
    engine.dispose()
    return ddl + f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD_REVISION}');\n"


if __name__ == "__main__":
    SNAPSHOT.write_text(render_sqlite_snapshot())
    print(f"wrote {SNAPSHOT}")
