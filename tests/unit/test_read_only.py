"""Read-only connections, instances that cannot be written, and damaged SQLite files.

Tests run as root, for whom file permissions do not exist; most tests therefore make SQLite itself
refuse writes (mode=ro). One test runs a child process as the unprivileged user `nobody` against
files it really cannot write (skipped where that is not possible).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from click.testing import CliRunner

from lamella._cli.main import cli
from lamella.errors import LamellaError, ReadOnlyError, StorageError

DB = Path(".lamella") / "lamella.db"


@pytest.fixture
def saved(ln: ModuleType, tmp_path: Path) -> dict[str, str]:
    """An instance with a DataFrame, a text file and a label; the uids by name."""
    frame = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1, 2, 3]}), key="tables/a.parquet").save()
    text = tmp_path / "note.txt"
    text.write_text("hello")
    note = ln.Artifact(text, key="notes/note.txt").save()
    ln.ULabel(name="kept").save()
    return {"frame": frame.uid, "note": note.uid}


def _counts(ln: ModuleType) -> tuple[int, int, int]:
    return ln.Artifact.filter().count(), ln.ULabel.filter().count(), ln.User.filter().count()


def _assert_refused(error: pytest.ExceptionInfo[ReadOnlyError], *expected: str) -> None:
    text = str(error.value)
    assert "read-only" in text and "'data'" in text, text
    for part in expected:
        assert part in text, (part, text)


# --- asked for: read_only=True ----------------------------------------------------------------------


def test_read_only_connection_reads_and_refuses_every_write(
    ln: ModuleType,
    saved: dict[str, str],
    forget_connection: Callable[[], None],
    storage_root: Path,
    tmp_path: Path,
) -> None:
    before = _counts(ln)
    forget_connection()
    instance = ln.connect("data", read_only=True)
    assert instance.read_only and ln.setup.settings.instance.read_only
    assert "read_only=True" in repr(ln.setup.settings.instance)
    frame = ln.Artifact.get(saved["frame"])
    assert frame.load()["a"].tolist() == [1, 2, 3]
    assert ln.Artifact.get(saved["note"]).cache().read_text() == "hello"
    assert ln.ULabel.filter(name="kept").one().name == "kept"
    assert ln.Artifact.filter(key__startswith="tables/").count() == 1

    new_file = tmp_path / "new.txt"
    new_file.write_text("new")
    writes: list[tuple[Callable[[], object], str]] = [
        (lambda: ln.ULabel(name="new").save(), "cannot write"),
        (lambda: ln.Artifact(new_file, key="new.txt").save(), "cannot save an artifact"),
        (lambda: frame.delete(), "cannot write"),
        (lambda: frame.delete(permanent=True), "cannot write"),
        (lambda: ln.save([ln.ULabel(name="a"), ln.ULabel(name="b")]), "cannot write"),
        (lambda: ln.Feature(name="score", dtype=float).save(), "cannot write"),
        (lambda: ln.track(), "cannot track a run"),
    ]
    for write, action in writes:
        with pytest.raises(ReadOnlyError) as error:
            write()
        _assert_refused(error, action, "read_only=True", "ln.connect('data')")
    assert isinstance(error.value, PermissionError) and isinstance(error.value, LamellaError)
    assert _counts(ln) == before
    assert frame.path.exists()
    assert not any((storage_root / ".lamella" / "_pending").glob("*"))  # no bytes were staged

    ln.connect("data")  # asking again without read_only writes again
    assert ln.ULabel(name="writable again").save().id is not None


def test_read_only_connection_of_an_unknown_user_creates_no_user_row(
    ln: ModuleType, saved: dict[str, str], forget_connection: Callable[[], None]
) -> None:
    users = ln.User.filter().count()
    forget_connection()
    ln.setup.login("visitor")
    instance = ln.connect("data", read_only=True)
    assert instance.user_id is None
    assert ln.Artifact.get(saved["frame"]).load().shape == (3, 1)
    assert ln.User.filter().count() == users
    assert not ln.User.filter(handle="visitor").exists()


def test_cli_connect_read_only_holds_for_later_processes(
    ln: ModuleType, saved: dict[str, str], run_python: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["connect", "data", "--read-only"])
    assert result.exit_code == 0, result.output
    assert "read-only" in result.output
    assert "read-only" in runner.invoke(cli, ["info"]).output
    code = (
        "import lamella as ln\n"
        "print(ln.Artifact.filter().count(), ln.settings.instance.read_only)\n"
        "try:\n"
        "    ln.ULabel(name='x').save()\n"
        "except ln.errors.ReadOnlyError as e:\n"
        "    print('refused:', e)\n"
    )
    child = run_python(code)
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith("2 True") and "refused: cannot write" in child.stdout
    assert runner.invoke(cli, ["connect", "data"]).exit_code == 0
    child = run_python("import lamella as ln; print(ln.settings.instance.read_only)")
    assert child.stdout.strip() == "False", child.stderr


# --- found out: the database cannot be written ------------------------------------------------------


@pytest.fixture
def sqlite_refuses_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every SQLite connection opens read-only, as for a file the operating system will not let us write
    (root ignores permissions, so the tests cannot simply chmod the file)."""
    from lamella._instance import database

    original = database.create_engine_for
    monkeypatch.setattr(
        database, "create_engine_for", lambda config, read_only=False: original(config, read_only=True)
    )
    yield


def test_connect_goes_read_only_when_the_first_write_is_refused(
    ln: ModuleType,
    saved: dict[str, str],
    forget_connection: Callable[[], None],
    sqlite_refuses_writes: None,
    caplog: pytest.LogCaptureFixture,
    storage_root: Path,
) -> None:
    forget_connection()
    ln.setup.login("newcomer")  # connecting inserts this user's row: the write that is refused
    with caplog.at_level("INFO", logger="lamella"):
        instance = ln.connect("data")
    assert instance.read_only and not instance.read_only_requested and instance.user_id is None
    assert any(
        "read-only" in r.getMessage() and "cannot be written" in r.getMessage() for r in caplog.records
    )
    assert ln.Artifact.get(saved["frame"]).load().shape == (3, 1)
    with pytest.raises(ReadOnlyError) as error:
        ln.ULabel(name="new").save()
    _assert_refused(error, str(storage_root / DB), "write permission")


def test_a_refused_write_on_a_writable_looking_connection_is_a_read_only_error(
    ln: ModuleType, saved: dict[str, str], forget_connection: Callable[[], None], sqlite_refuses_writes: None
) -> None:
    forget_connection()
    instance = ln.connect("data")  # this user's rows exist: connecting writes nothing, so nothing tells yet
    assert not instance.read_only
    with pytest.raises(ReadOnlyError, match="cannot be written"):
        ln.ULabel(name="new").save()
    assert instance.read_only  # from now on writes fail before doing any work
    with pytest.raises(ReadOnlyError, match="cannot save an artifact"):
        ln.Artifact.from_dataframe(pd.DataFrame({"b": [1]}), key="b.parquet").save()


def test_connect_goes_read_only_when_the_file_is_not_writable(
    ln: ModuleType,
    saved: dict[str, str],
    forget_connection: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forget_connection()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if mode == os.W_OK else real_access(path, mode)
    )
    instance = ln.connect("data")
    assert instance.read_only
    assert "is not writable" in (instance.db.read_only_reason or "")
    assert ln.Artifact.filter().count() == 2


# --- really read-only files, as an unprivileged user --------------------------------------------------


def _unprivileged_python() -> list[str]:
    """A command running this interpreter's version as `nobody`, or skip."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root and runuser to run a child as an unprivileged user")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        probe = subprocess.run(
            ["runuser", "-u", "nobody", "--", candidate, "-c", "import sys"], capture_output=True
        )
        if probe.returncode == 0:
            return ["runuser", "-u", "nobody", "--", candidate]
    pytest.skip(f"no {version} that the user nobody may run")


def test_files_the_user_cannot_write(home: Path, forget_connection: Callable[[], None]) -> None:
    """A read-only database connects read-only by itself; a read-only storage refuses saves by name."""
    import lamella as ln

    command = _unprivileged_python()
    base = Path(tempfile.mkdtemp(prefix="lamella-ro-"))  # pytest's tmp_path is closed to other users
    try:
        base.chmod(0o755)
        ro_data, rw_data, locked = base / "ro_data", base / "rw_data", base / "locked_storage"
        ln.setup.init(storage=ro_data, name="ro")
        uid = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1, 2, 3]}), key="a.parquet").save().uid
        users = ln.User.filter().count()
        ln.setup.init(storage=rw_data, name="rostore")
        ln.settings.storage = locked  # new artifacts of rostore go here
        forget_connection()
        for db in (ro_data / DB, rw_data / DB):
            _checkpoint(db)
        child_home = base / "home"
        shutil.copytree(home / "instances", child_home / "instances")
        (child_home / "settings.json").write_text(
            json.dumps({"user": {"handle": "nobody", "uid": "nobody01"}})
        )
        # nobody owns its settings and rostore's database; ro_data and the locked storage stay root's
        subprocess.run(["chown", "-R", "nobody", str(child_home), str(rw_data)], check=True)
        for path in [ro_data, *ro_data.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        script = f"""
import json, pandas, lamella as ln
out = {{}}
ro = ln.connect("ro")
out["ro_read_only"] = ro.read_only
out["ro_reason"] = ro.db.read_only_reason
out["ro_rows"] = ln.Artifact.get("{uid}").load()["a"].tolist()
out["ro_users"] = ln.User.filter().count()
try:
    ln.ULabel(name="x").save()
except ln.errors.ReadOnlyError as e:
    out["ro_write"] = str(e)
ln.connect("rostore")
out["rostore_read_only"] = ln.settings.instance.read_only
try:
    ln.Artifact.from_dataframe(pandas.DataFrame({{"b": [1]}}), key="b.parquet").save()
except ln.errors.StorageError as e:
    out["rostore_save"] = str(e)
out["rostore_label"] = ln.ULabel(name="label still fine").save().id is not None
print(json.dumps(out))
"""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LAMELLA_HOME": str(child_home),
            "LAMELLA_NO_PROGRESS": "1",
            "PYTHONPATH": os.pathsep.join(
                [str(Path(ln.__file__).parents[1]), sysconfig.get_paths()["purelib"]]
            ),
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": str(child_home),
        }
        child = subprocess.run(
            [*command, "-c", script], capture_output=True, text=True, env=env, cwd=base, timeout=120
        )
        assert child.returncode == 0, (child.stdout, child.stderr)
        out = json.loads(child.stdout.strip().splitlines()[-1])
        assert out["ro_read_only"] is True and "not writable" in out["ro_reason"]
        assert out["ro_rows"] == [1, 2, 3]
        assert out["ro_users"] == users  # the new user got no row
        assert "cannot write" in out["ro_write"] and "write permission" in out["ro_write"]
        assert out["rostore_read_only"] is False
        assert str(locked) in out["rostore_save"] and "cannot be written" in out["rostore_save"]
        assert out["rostore_label"] is True
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(base)], check=False)
        shutil.rmtree(base, ignore_errors=True)


# --- damaged files ------------------------------------------------------------------------------------


def _damage(path: Path, offset: int, size: int) -> None:
    import random

    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(random.Random(offset).randbytes(size))


def _checkpoint(db: Path) -> None:
    """Move the WAL's pages into the database file and empty the WAL, as a clean close does."""
    import sqlite3

    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def closed_db(ln: ModuleType, forget_connection: Callable[[], None], storage_root: Path) -> Path:
    """The instance's database with a few thousand rows, closed and checkpointed (no -wal left)."""
    ln.save([ln.ULabel(name=f"label {i} " + "x" * 120, description="y" * 100) for i in range(3000)])
    forget_connection()
    db = storage_root / DB
    _checkpoint(db)
    return db


def test_a_damaged_header_is_a_clear_error_on_connect(ln: ModuleType, closed_db: Path) -> None:
    _damage(closed_db, 0, 100)
    with pytest.raises(StorageError) as error:
        ln.connect("data")
    text = str(error.value)
    assert str(closed_db) in text and "damaged" in text and "lamella check --reindex" in text
    result = CliRunner().invoke(cli, ["connect", "data"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        result.stderr.strip().startswith("error: the database file")
        and len(result.stderr.strip().splitlines()) == 1
    )


def test_garbage_in_the_middle_is_found_by_check_and_never_a_raw_error(
    ln: ModuleType, closed_db: Path
) -> None:
    _damage(closed_db, closed_db.stat().st_size // 2, 8192)
    ln.connect("data")  # opening reads only the first pages
    try:  # whether a query meets the damaged pages depends on the layout; if it does, it says so clearly
        ln.ULabel.filter().to_list()
        ln.ULabel.filter(name__startswith="label 1").count()
    except StorageError as e:
        assert "is damaged" in str(e) and "lamella check" in str(e)
    report = ln.setup.check()
    assert not report.ok
    (problem,) = report.problems
    assert problem.kind == "database" and problem.subject == str(closed_db)
    assert "damaged" in problem.detail and "--reindex" in problem.fix
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 1, result.output
    assert "damaged" in result.output and "1 problem(s) remain" in result.output
