"""`lamella check`: artifact bytes against their records, orphans, staged leftovers, --repair, --reindex."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from lamella._cli.main import cli
from lamella.errors import ReadOnlyError

Run = Callable[..., subprocess.CompletedProcess[str]]
DEAD_PID = 4_000_000  # above the kernel's pid_max: never a live process


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["check", *args])


@pytest.fixture
def stored(ln: ModuleType, tmp_path: Path) -> dict[str, ModuleType | str | Path]:
    """A DataFrame (two versions), a text file, a folder and a trashed file; their uids by name."""
    first = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1, 2]}), key="tables/t.parquet").save()
    second = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1, 2, 3]}), key="tables/t.parquet").save()
    text = tmp_path / "note.txt"
    text.write_text("hello world")
    note = ln.Artifact(text, key="notes/note.txt").save()
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("bb")
    tree = ln.Artifact(folder, key="folders/f").save()
    gone = tmp_path / "trashed.txt"
    gone.write_text("in the trash, still stored")
    trashed = ln.Artifact(gone, key="trashed.txt").save()
    trashed.delete()
    return {"v1": first.uid, "v2": second.uid, "note": note.uid, "tree": tree.uid, "trashed": trashed.uid}


def _managed(storage_root: Path) -> Path:
    return storage_root / ".lamella"


def _file_of(storage_root: Path, uid: str) -> Path:
    (match,) = [p for p in _managed(storage_root).iterdir() if p.name.startswith(uid)]
    return match


def test_a_healthy_instance_passes(ln: ModuleType, stored: dict[str, str]) -> None:
    report = ln.setup.check()
    assert report.ok and report.problems == []
    assert report.artifacts_checked == 5  # the trashed one is stored too
    assert report.artifacts_unverified == 0
    assert report.bytes_hashed > 0 and report.files_seen == 5
    result = invoke()
    assert result.exit_code == 0, result.output
    assert "5 artifact(s) checked" in result.output and "→ ok" in result.output


def test_repair_leaves_the_bytes_of_a_save_that_finished_during_the_check(
    ln: ModuleType,
    stored: dict[str, str],
    storage_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lamella._setup import check as check_module

    read_records = check_module._check_artifacts
    saved: list[str] = []

    def a_save_commits_meanwhile(*args: object) -> object:
        registered = read_records(*args)  # type: ignore[arg-type]
        late = tmp_path / "late.txt"
        late.write_text("saved while the check ran")
        saved.append(ln.Artifact(late, key="late.txt").save().uid)
        return registered

    monkeypatch.setattr(check_module, "_check_artifacts", a_save_commits_meanwhile)
    report = ln.setup.check(repair=True)
    assert report.problems == [], report.problems
    assert _file_of(storage_root, saved[0]).read_text() == "saved while the check ran"
    assert not (_managed(storage_root) / "_orphaned").exists()


def test_check_finds_each_kind_of_problem_and_repair_fixes_what_it_safely_can(
    ln: ModuleType, stored: dict[str, str], storage_root: Path
) -> None:
    note = _file_of(storage_root, stored["note"])
    original_note = note.read_bytes()
    note.write_bytes(b"J" + original_note[1:])  # one byte changed, same size
    v1 = _file_of(storage_root, stored["v1"])
    v1_bytes = v1.read_bytes()
    v1.unlink()
    tree_file = _file_of(storage_root, stored["tree"]) / "sub" / "b.txt"
    tree_file.write_text("xx")  # a file inside a folder artifact
    trashed = _file_of(storage_root, stored["trashed"])
    trashed.write_bytes(trashed.read_bytes()[:-3])  # shorter
    orphan = _managed(storage_root) / "ABCDEFGHIJKLMNOP0000.csv"
    orphan.write_text("x,y\n1,2\n")
    pending = _managed(storage_root) / "_pending"
    pending.mkdir(exist_ok=True)
    leftover = pending / f"QRSTUVWXYZabcdef0000~{socket.gethostname()}~{DEAD_PID}.txt"
    leftover.write_text("staged by a process that died")

    report = ln.setup.check()
    kinds = sorted(p.kind for p in report.problems)
    assert kinds == ["hash", "hash", "leftover", "missing", "orphan", "size"], report.problems
    by_kind = {p.kind: p for p in report.problems}
    assert stored["v1"] in by_kind["missing"].subject and "backup" in by_kind["missing"].fix
    assert stored["trashed"] in by_kind["size"].subject
    assert {stored["note"], stored["tree"]} == {
        p.subject.split()[0] for p in report.problems if p.kind == "hash"
    }
    assert by_kind["orphan"].subject.endswith(orphan.name) and by_kind["leftover"].subject == str(leftover)
    assert orphan.exists() and leftover.exists()  # checking changes nothing

    result = invoke()
    assert result.exit_code == 1
    assert "6 problem(s) remain" in result.output and stored["v1"] in result.output

    result = invoke("--repair")
    assert result.exit_code == 1  # missing and changed bytes need a backup: they remain
    assert "4 problem(s) remain" in result.output
    assert not orphan.exists() and not leftover.exists()
    moved = _managed(storage_root) / "_orphaned" / orphan.name
    assert moved.read_text() == "x,y\n1,2\n"  # set aside, not deleted

    note.write_bytes(original_note)  # restored from a backup
    v1.write_bytes(v1_bytes)
    tree_file.write_text("bb")
    ln.Artifact.get(stored["trashed"]).delete(permanent=True, storage=True)
    result = invoke()
    assert result.exit_code == 0, result.output


def test_repair_finishes_a_save_whose_record_committed(
    ln: ModuleType, stored: dict[str, str], storage_root: Path
) -> None:
    final = _file_of(storage_root, stored["note"])
    staged = _managed(storage_root) / "_pending" / f"{stored['note']}~{socket.gethostname()}~{DEAD_PID}.txt"
    staged.parent.mkdir(exist_ok=True)
    os.replace(final, staged)  # died after committing, before moving the bytes in place
    assert sorted(p.kind for p in ln.setup.check().problems) == ["leftover", "missing"]
    report = ln.setup.check(repair=True)
    assert report.ok and [p.kind for p in report.repaired] == ["leftover"]
    assert final.read_text() == "hello world"
    assert ln.Artifact.get(stored["note"]).cache().read_text() == "hello world"


def _lose_database(storage_root: Path, forget_connection: Callable[[], None]) -> None:
    forget_connection()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{_managed(storage_root) / 'lamella.db'}{suffix}").unlink(missing_ok=True)


def test_reindex_rebuilds_the_artifacts_after_the_database_is_lost(
    ln: ModuleType, stored: dict[str, str], storage_root: Path, forget_connection: Callable[[], None]
) -> None:
    orphan = _managed(storage_root) / "ABCDEFGHIJKLMNOP0000.txt"
    orphan.write_text("set aside earlier")
    assert ln.setup.check(repair=True).ok  # moves the orphan to _orphaned/
    _lose_database(storage_root, forget_connection)

    result = invoke()
    assert result.exit_code == 1 and "the database file is missing" in result.output
    result = invoke("--reindex")
    assert result.exit_code == 0, result.output
    assert "registered 6 artifact(s)" in result.output

    forget_connection()
    ln.connect("data")
    assert ln.Artifact.get(stored["v1"]).load()["a"].tolist() == [1, 2]
    assert ln.Artifact.get(stored["v2"]).load()["a"].tolist() == [1, 2, 3]
    assert ln.Artifact.get(stored["note"]).cache().read_text() == "hello world"
    assert ln.Artifact.get(stored["trashed"]).cache().read_text() == "in the trash, still stored"
    assert ln.Artifact.get("ABCDEFGHIJKLMNOP0000").cache().read_text() == "set aside earlier"
    tree = ln.Artifact.get(stored["tree"])
    assert tree.n_files == 2 and (tree.cache() / "sub" / "b.txt").read_text() == "bb"
    family = ln.Artifact.get(stored["v2"]).versions.to_list()
    assert [a.uid for a in family] == [stored["v1"], stored["v2"]]
    assert [a.is_latest for a in family] == [False, True]
    assert all(a.key is None and "recovered" in (a.description or "") for a in family)

    again = ln.setup.check(reindex=True)  # idempotent: everything is registered already
    assert again.ok and again.reindexed == [] and again.artifacts_checked == 6


def test_reindex_moves_a_damaged_database_aside(
    ln: ModuleType, stored: dict[str, str], storage_root: Path, forget_connection: Callable[[], None]
) -> None:
    forget_connection()
    db = _managed(storage_root) / "lamella.db"
    import sqlite3

    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    with db.open("r+b") as fh:
        fh.write(b"\0" * 100)  # the header
    report = ln.setup.check(reindex=True)
    assert report.ok and len(report.reindexed) == 5
    (aside,) = [p for p in _managed(storage_root).glob("lamella.db.damaged-*") if not p.name.endswith("-wal")]
    assert aside.read_bytes()[:100] == b"\0" * 100  # kept for whoever can salvage more from it
    assert "moved to" in report.problems[0].detail
    assert ln.Artifact.get(stored["v2"]).load().shape == (3, 1)
    assert not any(
        p.name.startswith("lamella.db.damaged") for p in _managed(storage_root).glob("_orphaned/*")
    )
    assert ln.setup.check().ok  # the set-aside file is not an orphan


def test_reindex_needs_write_access(
    ln: ModuleType,
    stored: dict[str, str],
    storage_root: Path,
    forget_connection: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _lose_database(storage_root, forget_connection)
    ln.setup.check(reindex=True)  # rebuilt
    orphan = _managed(storage_root) / "ABCDEFGHIJKLMNOP0000.txt"
    orphan.write_text("new")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if mode == os.W_OK else real_access(path, mode)
    )
    with pytest.raises(ReadOnlyError, match="cannot rebuild artifact records"):
        ln.setup.check(reindex=True)
    report = ln.setup.check()  # checking needs no write access
    assert [p.kind for p in report.problems] == ["orphan"]
    result = invoke("--reindex")
    assert result.exit_code == 1 and result.stderr.startswith("error: cannot rebuild artifact records")


def test_the_installed_command(
    ln: ModuleType, stored: dict[str, str], run_lamella: Run, storage_root: Path
) -> None:
    assert run_lamella("check", check=True).stdout.strip().endswith("→ ok")
    _file_of(storage_root, stored["note"]).unlink()
    result = run_lamella("check", "--name", "data")
    assert result.returncode == 1 and "missing" in result.stdout and "Traceback" not in result.stderr
    result = run_lamella("check", "--name", "nope")
    assert result.returncode == 1 and result.stderr.startswith("error: no instance named 'nope'")
