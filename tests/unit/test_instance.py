"""Instances and settings: init, connect, list, disconnect, delete, login, zero-config, schema revisions."""

from __future__ import annotations

import json
import sqlite3
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import lamella
from lamella._instance import config as cfg
from lamella._instance import state
from lamella._setup import schema
from lamella.errors import InvalidArgument, NotConnected


def _db_file(storage: Path) -> Path:
    return storage / ".lamella" / "lamella.db"


# ---- init -----------------------------------------------------------------------------------------


def test_init_derives_the_name_from_the_storage_folder(tmp_path: Path, home: Path) -> None:
    storage = tmp_path / "my-lab_data.v2"
    instance = lamella.setup.init(storage=storage)
    assert instance.name == "my-lab_data.v2"
    assert lamella.setup.settings.instance.name == "my-lab_data.v2"
    assert storage.is_dir()
    assert _db_file(storage.resolve()).is_file()
    saved = json.loads((home / "instances" / "my-lab_data.v2.json").read_text())
    assert saved["name"] == "my-lab_data.v2"
    assert saved["storage_root"] == str(storage.resolve())
    assert json.loads((home / "settings.json").read_text())["current_instance"] == "my-lab_data.v2"


def test_settings_files_are_readable_by_their_owner_only(tmp_path: Path, home: Path) -> None:
    # an instance's file holds its --db URL, password included
    lamella.setup.init(storage=tmp_path / "data")
    for path in (home / "instances" / "data.json", home / "settings.json"):
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_both_ways_of_creating_an_instance_write_the_same_base_rows(tmp_path: Path) -> None:
    import sqlite3

    from lamella._setup import base_rows

    def rows(storage: Path) -> list[list[tuple[object, ...]]]:
        with sqlite3.connect(_db_file(storage.resolve())) as connection:
            return [
                connection.execute("SELECT id, uid, name FROM branch ORDER BY id DESC").fetchall(),
                connection.execute("SELECT id, uid, name FROM space").fetchall(),
                connection.execute(
                    "SELECT type, description, instance_uid IS NOT NULL FROM storage"
                ).fetchall(),
            ]

    lamella.setup.init(storage=tmp_path / "from-snapshot")  # the DDL snapshot, standard library only
    orm = tmp_path / "through-orm"
    _db_file(orm.resolve()).parent.mkdir(parents=True)
    _db_file(orm.resolve()).touch()  # an empty file: the schema and rows come through SQLAlchemy
    lamella.setup.init(storage=orm)
    expected = [
        [tuple(row) for row in base_rows.BRANCHES],
        [tuple(base_rows.DEFAULT_SPACE)],
        [("local", base_rows.DEFAULT_STORAGE_DESCRIPTION, 1)],
    ]
    assert rows(tmp_path / "from-snapshot") == rows(orm) == expected


def test_init_cleans_a_folder_name_that_is_no_valid_instance_name(tmp_path: Path) -> None:
    instance = lamella.setup.init(storage=tmp_path / "my data")
    assert instance.name == "my-data"


def test_init_with_a_name(tmp_path: Path) -> None:
    instance = lamella.setup.init(storage=tmp_path / "data", name="lab")
    assert instance.name == "lab"
    assert [c.name for c in lamella.setup.list_instances()] == ["lab"]


def test_init_resolves_a_relative_storage_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lamella.setup.init(storage="./rel")
    assert lamella.settings.storage.root_as_str == str((tmp_path / "rel").resolve())


def test_init_rejects_an_invalid_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="bad/name"):
        lamella.setup.init(storage=tmp_path / "data", name="bad/name")
    assert lamella.setup.list_instances() == []


def test_init_rejects_empty_storage() -> None:
    with pytest.raises(InvalidArgument, match="storage"):
        lamella.setup.init(storage="  ")


def test_init_rejects_a_non_postgres_db(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"mysql://x"):
        lamella.setup.init(storage=tmp_path / "data", db="mysql://x")
    assert lamella.setup.list_instances() == []


def test_init_rejects_an_unknown_module(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="nonesuch"):
        lamella.setup.init(storage=tmp_path / "data", modules="nonesuch")


def test_reinit_with_the_same_settings_is_idempotent(
    tmp_path: Path, forget_connection: Callable[[], None]
) -> None:
    first = lamella.setup.init(storage=tmp_path / "data")
    label = lamella.ULabel(name="kept").save()
    forget_connection()
    again = lamella.setup.init(storage=tmp_path / "data")
    assert again.config.uid == first.config.uid
    assert lamella.ULabel.get(name="kept").uid == label.uid
    assert [c.name for c in lamella.setup.list_instances()] == ["data"]
    # and once more while still connected
    assert lamella.setup.init(storage=tmp_path / "data").config.uid == first.config.uid


def test_conflicting_reinit_names_the_instance(tmp_path: Path) -> None:
    lamella.setup.init(storage=tmp_path / "one", name="lab")
    with pytest.raises(InvalidArgument, match="'lab'") as info:
        lamella.setup.init(storage=tmp_path / "two", name="lab")
    assert "lamella delete lab" in str(info.value) or "--name" in str(info.value)
    assert cfg.InstanceConfig.load("lab").storage_root == str((tmp_path / "one").resolve())
    assert not (tmp_path / "two" / ".lamella").exists()


# ---- connect, list, disconnect, delete ------------------------------------------------------------


def test_connect_to_an_unknown_instance(tmp_path: Path) -> None:
    with pytest.raises(NotConnected, match="'nowhere'") as info:
        lamella.setup.connect("nowhere")
    assert "lamella init" in str(info.value)  # says how to fix it
    assert isinstance(info.value, RuntimeError)


def test_connect_to_an_unknown_instance_lists_the_known_ones(tmp_path: Path) -> None:
    lamella.setup.init(storage=tmp_path / "data", name="known-one")
    with pytest.raises(NotConnected, match="known-one"):
        lamella.connect("unknown-one")
    assert lamella.setup.settings.instance.name == "known-one"  # still connected to the old one


def test_list_instances(tmp_path: Path) -> None:
    assert lamella.setup.list_instances() == []
    lamella.setup.init(storage=tmp_path / "b", name="bravo")
    lamella.setup.init(storage=tmp_path / "a", name="alpha")
    listed = lamella.setup.list_instances()
    assert [c.name for c in listed] == ["alpha", "bravo"]
    assert {c.storage_root for c in listed} == {
        str((tmp_path / "a").resolve()),
        str((tmp_path / "b").resolve()),
    }
    assert all(c.dialect == "sqlite" for c in listed)


def test_disconnect(ln: ModuleType) -> None:
    ln.ULabel(name="x").save()
    ln.setup.disconnect()
    assert state.peek() is None
    assert cfg.current_instance_name() is None
    with pytest.raises(NotConnected, match="lamella connect") as info:
        ln.ULabel.filter().count()
    assert "data" in str(info.value)
    ln.setup.connect("data")
    assert ln.ULabel.filter().count() == 1


def test_delete_keeps_the_stored_files(ln: ModuleType, tmp_path: Path, storage_root: Path) -> None:
    source = tmp_path / "sample.txt"
    source.write_text("hello")
    artifact = ln.Artifact(source, key="samples/sample.txt").save()
    stored = Path(str(artifact.path))
    assert stored.exists()
    ln.setup.delete("data", force=True)
    assert ln.setup.list_instances() == []
    assert cfg.current_instance_name() is None
    assert state.peek() is None
    assert not _db_file(storage_root).exists()
    assert stored.read_text() == "hello"  # the bytes are kept
    assert source.read_text() == "hello"
    with pytest.raises(NotConnected, match="'data'"):
        ln.setup.connect("data")


def test_delete_an_unknown_instance() -> None:
    with pytest.raises(NotConnected, match="'ghost'"):
        lamella.setup.delete("ghost", force=True)


def test_delete_another_instance_keeps_the_current_one(tmp_path: Path) -> None:
    lamella.setup.init(storage=tmp_path / "one")
    lamella.setup.init(storage=tmp_path / "two")
    lamella.setup.delete("one", force=True)
    assert lamella.setup.settings.instance.name == "two"
    assert cfg.current_instance_name() == "two"
    assert [c.name for c in lamella.setup.list_instances()] == ["two"]


# ---- users ----------------------------------------------------------------------------------------


def test_login_changes_the_handle_and_the_creator_of_new_records(ln: ModuleType) -> None:
    before = ln.ULabel(name="before").save()
    old_handle = before.created_by.handle
    assert ln.setup.settings.user.handle == old_handle
    user = ln.setup.login("alice")
    assert user.handle == "alice" and len(user.uid) == 8
    assert ln.setup.settings.user.handle == "alice"
    after = ln.ULabel(name="after").save()
    assert after.created_by.handle == "alice"
    assert ln.ULabel.get(name="before").created_by.handle == old_handle
    assert ln.ULabel.filter(created_by__handle="alice").to_list("name") == ["after"]
    assert ln.User.filter(handle="alice").count() == 1
    # logging in again with the same handle keeps the user
    assert ln.setup.login("alice").uid == user.uid


def test_login_rejects_an_invalid_handle(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="no spaces"):
        ln.setup.login("no spaces")


# ---- zero configuration -----------------------------------------------------------------------------


def test_first_use_creates_the_default_instance_and_says_so_once(
    run_python: Callable[[str], Any], home: Path
) -> None:
    result = run_python(
        "import lamella as ln\n"
        "label = ln.ULabel(name='first').save()\n"
        "print('RESULT', ln.setup.settings.instance.name, ln.ULabel.filter().count())\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "RESULT default 1"
    messages = lines[:-1]
    assert len(messages) == 1, messages  # one line tells where the default instance lives
    assert "default" in messages[0]
    assert (home / "instances" / "default.json").is_file()
    assert _db_file(home / "data" / "default").is_file()
    # the next process connects to the same instance silently
    again = run_python("import lamella as ln; print('RESULT', ln.ULabel.filter().count())")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ["RESULT 1"]


def test_first_use_in_process_creates_the_default_instance(home: Path) -> None:
    assert lamella.ULabel.filter().count() == 0
    assert lamella.setup.settings.instance.name == "default"
    assert lamella.settings.storage.root_as_str == str((home / "data" / "default").resolve())


def test_import_has_no_side_effects(run_python: Callable[[str], Any], home: Path) -> None:
    result = run_python(
        "import sys\n"
        "import lamella as ln\n"
        "names = ln.__all__\n"
        "heavy = [m for m in ('sqlalchemy', 'pandas', 'pyarrow', 'anndata', 'fsspec', 'numpy')"
        " if m in sys.modules]\n"
        "print('HEAVY', ','.join(heavy))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["HEAVY "]
    assert not home.exists()  # nothing was written


# ---- switching instances ----------------------------------------------------------------------------


def test_switching_instances_within_a_process(tmp_path: Path) -> None:
    lamella.setup.init(storage=tmp_path / "first")
    lamella.ULabel(name="only-in-first").save()
    lamella.setup.init(storage=tmp_path / "second")
    assert lamella.setup.settings.instance.name == "second"
    assert lamella.ULabel.filter(name="only-in-first").count() == 0
    lamella.ULabel(name="only-in-second").save()
    lamella.connect("first")
    assert lamella.setup.settings.instance.name == "first"
    assert lamella.ULabel.filter().to_list("name") == ["only-in-first"]
    lamella.setup.connect("second")
    assert lamella.ULabel.filter().to_list("name") == ["only-in-second"]
    assert cfg.current_instance_name() == "second"


def test_artifacts_of_each_instance_live_in_its_storage(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("a")
    lamella.setup.init(storage=tmp_path / "first")
    first = lamella.Artifact(source, key="a.txt").save()
    lamella.setup.init(storage=tmp_path / "second")
    second = lamella.Artifact(source, key="a.txt").save()  # same content, but another instance
    assert second.uid != first.uid
    assert str(second.path).startswith(str((tmp_path / "second").resolve()))
    assert Path(str(second.path)).read_text() == "a"


# ---- settings ---------------------------------------------------------------------------------------


def test_setup_settings_instance(ln: ModuleType, storage_root: Path) -> None:
    instance = ln.setup.settings.instance
    assert instance.name == "data"
    assert instance.dialect == "sqlite"
    assert instance.db == f"sqlite:///{_db_file(storage_root)}"
    assert str(instance.storage.root) == str(storage_root)
    assert len(instance.uid) == 12
    assert "data" in repr(instance)


def test_settings_storage(ln: ModuleType, storage_root: Path) -> None:
    storage = ln.settings.storage
    assert Path(str(storage.root)) == storage_root
    assert storage.root_as_str == str(storage_root)
    assert storage.type == "local"
    assert storage.record.root == str(storage_root)
    assert storage.record.is_managed


def test_settings_cache_dir(ln: ModuleType, home: Path, tmp_path: Path) -> None:
    assert ln.settings.cache_dir == home / "cache"
    assert ln.settings.cache_dir.is_dir()
    ln.settings.cache_dir = tmp_path / "elsewhere"
    assert ln.settings.cache_dir == (tmp_path / "elsewhere").resolve()
    assert ln.settings.cache_dir.is_dir()


def test_settings_cache_dir_from_the_environment(
    ln: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMELLA_CACHE_DIR", str(tmp_path / "envcache"))
    assert ln.settings.cache_dir == tmp_path / "envcache"


def test_settings_override_restores_values(ln: ModuleType, tmp_path: Path) -> None:
    before = ln.settings.cache_dir
    with ln.settings.override(track_run_inputs=False, cache_dir=tmp_path / "tmpcache"):
        assert ln.settings.track_run_inputs is False
        assert ln.settings.cache_dir == (tmp_path / "tmpcache").resolve()
    assert ln.settings.track_run_inputs is True
    assert ln.settings.cache_dir == before


def test_settings_storage_can_switch_to_another_folder(
    ln: ModuleType, tmp_path: Path, storage_root: Path, forget_connection: Callable[[], None]
) -> None:
    source = tmp_path / "a.txt"
    source.write_text("first")
    before = ln.Artifact(source, key="a.txt").save()
    ln.settings.storage = tmp_path / "more"
    assert Path(str(ln.settings.storage.root)) == (tmp_path / "more").resolve()
    source.write_text("second")
    after = ln.Artifact(source, key="b.txt").save()
    assert Path(str(after.path)).is_relative_to((tmp_path / "more").resolve())
    assert after.storage.root == str((tmp_path / "more").resolve())
    assert before.load() == "first" and after.load() == "second"
    forget_connection()  # the choice persists for the next process
    ln.setup.connect("data")
    assert ln.settings.storage.root_as_str == str((tmp_path / "more").resolve())
    assert ln.Storage.filter().count() == 2


def test_a_broken_settings_file_is_reported(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "settings.json").write_text("{not json")
    with pytest.raises(InvalidArgument, match=r"settings\.json"):
        cfg.current_instance_name()


# ---- schema revisions -------------------------------------------------------------------------------


def _alembic_script() -> Any:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(schema.MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def test_head_revision_is_alembics_head() -> None:
    script = _alembic_script()
    assert script.get_heads() == [schema.HEAD_REVISION]
    assert script.get_current_head() == schema.HEAD_REVISION
    assert set(schema.KNOWN_REVISIONS) == {r.revision for r in script.walk_revisions()}


def test_new_instance_is_stamped_with_the_head_revision(ln: ModuleType, storage_root: Path) -> None:
    with sqlite3.connect(_db_file(storage_root)) as connection:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert rows == [(schema.HEAD_REVISION,)]


def _set_revision(db: Path, revision: str) -> None:
    connection = sqlite3.connect(db)
    try:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        connection.commit()
    finally:
        connection.close()


def test_an_older_schema_asks_for_lamella_migrate(
    ln: ModuleType, storage_root: Path, monkeypatch: pytest.MonkeyPatch, forget_connection: Callable[[], None]
) -> None:
    forget_connection()
    # this Lamella is one revision ahead of the database
    monkeypatch.setattr(schema, "HEAD_REVISION", "0099")
    monkeypatch.setattr(schema, "KNOWN_REVISIONS", (*schema.KNOWN_REVISIONS, "0099"))
    with pytest.raises(NotConnected, match="lamella migrate") as info:
        ln.setup.connect("data")
    assert "'data'" in str(info.value)
    assert state.peek() is None


def test_a_newer_schema_asks_to_upgrade_lamella(
    ln: ModuleType, storage_root: Path, forget_connection: Callable[[], None]
) -> None:
    forget_connection()
    _set_revision(_db_file(storage_root), "zz99")
    with pytest.raises(NotConnected, match="upgrade") as info:
        ln.setup.connect("data")
    assert "zz99" in str(info.value)
    assert "migrate" not in str(info.value)
    # also on the implicit connection of first use
    with pytest.raises(NotConnected, match="upgrade"):
        ln.ULabel.filter().count()


def test_migrate_when_up_to_date(ln: ModuleType) -> None:
    assert ln.setup.migrate() == (schema.HEAD_REVISION, schema.HEAD_REVISION)
    assert ln.Branch.filter(branch_id=None).count() == 3  # still usable


def test_migrate_creates_the_schema_of_an_empty_database(
    ln: ModuleType, storage_root: Path, forget_connection: Callable[[], None]
) -> None:
    forget_connection()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{_db_file(storage_root)}{suffix}").unlink(missing_ok=True)
    with pytest.raises(
        NotConnected, match=r"lamella\.db of instance .data. is missing.*lamella check --reindex"
    ):
        ln.setup.connect("data")
    forget_connection()
    before, after = ln.setup.migrate()
    assert (before, after) == (None, schema.HEAD_REVISION)
    ln.setup.connect("data")
    assert ln.ULabel(name="works").save().id is not None
    assert sorted(ln.Branch.filter(branch_id=None).to_list("id")) == [-1, 0, 1]


def test_migrations_build_the_same_schema_as_the_models(
    tmp_path: Path, ln: ModuleType, storage_root: Path
) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from lamella.models import Base

    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        config = schema.alembic_config(str(engine.url))
        with engine.connect() as connection:  # the revisions begin and commit their own transactions
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with engine.connect() as connection, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # expression-based indexes cannot be reflected; compared below
            context = MigrationContext.configure(connection, opts={"include_object": schema.is_core_object})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []

    # expression-based indexes (one latest version per family) cannot be compared by Alembic on SQLite
    def indexes(db: Path) -> dict[str, str]:
        with sqlite3.connect(db) as connection:
            rows = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall()
        return {name: " ".join((sql or "").split()).lower() for name, sql in rows}

    assert indexes(tmp_path / "migrated.db") == indexes(_db_file(storage_root))
