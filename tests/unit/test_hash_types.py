"""Which hash an instance uses: BLAKE3 for new instances, md5 kept by instances created before; each
artifact records its own hash type, and deduplication, `check` and `reindex` follow it."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import blake3
import pytest
from click.testing import CliRunner

from lamella._cli.main import cli
from lamella._instance import state
from lamella._setup import schema
from lamella.errors import InvalidArgument


def encoded(data: bytes, hash_type: str) -> str:
    digest = hashlib.md5(data).digest() if hash_type == "md5" else blake3.blake3(data).digest(length=16)
    return base64.urlsafe_b64encode(digest).decode()[:22]


def folder_hash(files: dict[str, bytes], hash_type: str) -> str:
    return encoded("".join(sorted(encoded(d, hash_type) for d in files.values())).encode(), hash_type)


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


FILES = {"a.txt": b"alpha", "sub/b.txt": b"beta beta"}


@pytest.fixture
def old_instance(ln: ModuleType, storage_root: Path, forget_connection: Callable[[], None]) -> ModuleType:
    """The `ln` fixture's instance as an earlier Lamella left it (schema 0003, before hash types were
    an instance setting), upgraded by `lamella migrate` and connected again."""
    from alembic import command

    url = state.current().config.url()
    forget_connection()
    command.downgrade(schema.alembic_config(url), "0003")  # type: ignore[arg-type]
    connection = sqlite3.connect(storage_root / ".lamella" / "lamella.db")
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    connection.close()
    assert "instance_setting" not in tables
    assert ln.setup.migrate() == ("0003", schema.HEAD_REVISION)
    ln.connect("data")
    return ln


def test_a_new_instance_hashes_with_blake3(ln: ModuleType, tmp_path: Path) -> None:
    data = b"ACGT" * 10_000
    (tmp_path / "reads.fastq").write_bytes(data)
    assert ln.settings.hash_type == "blake3" == ln.setup.settings.instance.hash_type
    artifact = ln.Artifact(tmp_path / "reads.fastq", key="raw/reads.fastq").save()
    assert (artifact.hash, artifact._hash_type) == (encoded(data, "blake3"), "blake3")
    folder = ln.Artifact(write_tree(tmp_path / "tree", FILES), key="trees/t").save()
    assert (folder.hash, folder._hash_type, folder.n_files) == (folder_hash(FILES, "blake3"), "blake3-d", 2)
    assert "hash_type='blake3'" in repr(ln.settings)


def test_the_hash_type_is_read_once_when_a_hash_is_needed(
    ln: ModuleType, tmp_path: Path, forget_connection: Callable[[], None]
) -> None:
    forget_connection()
    ln.connect("data")
    assert ln.Artifact.filter().count() == 0  # the first query does not read it
    assert state.current()._hash_type is None
    (tmp_path / "x.txt").write_text("x")
    ln.Artifact(tmp_path / "x.txt", key="x.txt").save()
    assert state.current()._hash_type == "blake3"


def test_the_hash_type_cannot_be_changed(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="keeps the hash type it was created with"):
        ln.settings.hash_type = "md5"


def test_dedup_finds_the_same_content_in_a_blake3_instance(ln: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a,b\n1,2\n")
    (tmp_path / "copy.csv").write_text("a,b\n1,2\n")
    first = ln.Artifact(tmp_path / "a.csv", key="a.csv").save()
    again = ln.Artifact(tmp_path / "copy.csv", key="other.csv").save()
    assert again.uid == first.uid and ln.Artifact.filter().count() == 1
    tree = ln.Artifact(write_tree(tmp_path / "t1", FILES), key="t1").save()
    assert ln.Artifact(write_tree(tmp_path / "t2", FILES), key="t2").save().uid == tree.uid


def test_an_instance_from_before_keeps_md5(old_instance: ModuleType, tmp_path: Path) -> None:
    ln = old_instance
    assert ln.settings.hash_type == "md5"
    data = b"saved in an instance created before BLAKE3"
    (tmp_path / "f.txt").write_bytes(data)
    artifact = ln.Artifact(tmp_path / "f.txt", key="f.txt").save()
    assert (artifact.hash, artifact._hash_type) == (encoded(data, "md5"), "md5")
    folder = ln.Artifact(write_tree(tmp_path / "tree", FILES), key="tree").save()
    assert (folder.hash, folder._hash_type) == (folder_hash(FILES, "md5"), "md5-d")
    (tmp_path / "again.txt").write_bytes(data)
    assert ln.Artifact(tmp_path / "again.txt", key="again.txt").save().uid == artifact.uid


def test_a_folder_recorded_before_folder_hash_types_is_still_found_and_checked(
    old_instance: ModuleType, tmp_path: Path
) -> None:
    ln = old_instance
    folder = ln.Artifact(write_tree(tmp_path / "tree", FILES), key="tree").save()
    with state.current().db.write() as session:  # as the earlier Lamella recorded it
        session.execute(
            ln.Artifact.__table__.update()
            .where(ln.Artifact.__table__.c.id == folder.id)
            .values(_hash_type="md5")
        )
    again = ln.Artifact(write_tree(tmp_path / "copy", FILES), key="copy").save()
    assert again.uid == folder.uid
    report = ln.setup.check()
    assert report.ok and report.artifacts_unverified == 0


def test_hashes_of_two_algorithms_never_match_as_duplicates(ln: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one")
    first = ln.Artifact(tmp_path / "a.txt", key="a.txt").save()
    (tmp_path / "b.txt").write_text("two")
    second = ln.Artifact(tmp_path / "b.txt", key="b.txt")
    second.hash, second._hash_type = first.hash, "md5"  # an md5 that happens to equal a BLAKE3 hash
    from lamella.models.artifact.store import _find_duplicate

    assert _find_duplicate(second, state.current().db.session()) is None
    second._hash_type = "blake3"
    assert _find_duplicate(second, state.current().db.session()) == first


@pytest.mark.parametrize("instance", ["new", "old"])
def test_check_verifies_and_reindex_rebuilds_with_the_instance_hash_type(
    request: pytest.FixtureRequest, storage_root: Path, tmp_path: Path, instance: str
) -> None:
    ln = request.getfixturevalue("ln" if instance == "new" else "old_instance")
    hash_type = "blake3" if instance == "new" else "md5"
    (tmp_path / "note.txt").write_text("hello")
    note = ln.Artifact(tmp_path / "note.txt", key="note.txt").save()
    tree = ln.Artifact(write_tree(tmp_path / "tree", FILES), key="tree").save()
    report = ln.setup.check()
    assert report.ok and report.artifacts_checked == 2 and report.artifacts_unverified == 0

    managed = storage_root / ".lamella"
    (managed / f"{note.uid}.txt").write_text("HELLO")  # same size, other bytes
    (managed / tree.uid / "a.txt").write_bytes(b"ALPHA")
    report = ln.setup.check()
    assert sorted(p.kind for p in report.problems) == ["hash", "hash"]

    orphan = managed / "ABCDEFGHIJKLMNOP0000.txt"
    orphan.write_bytes(b"found in storage")
    assert "ABCDEFGHIJKLMNOP0000" in ln.setup.check(reindex=True).reindexed
    found = ln.Artifact.get("ABCDEFGHIJKLMNOP0000")
    assert (found.hash, found._hash_type) == (encoded(b"found in storage", hash_type), hash_type)


def test_lamella_info_shows_the_hash_type(
    request: pytest.FixtureRequest, storage_root: Path, forget_connection: Callable[[], None]
) -> None:
    request.getfixturevalue("ln")
    result = CliRunner().invoke(cli, ["info"])
    assert result.exit_code == 0 and "hashes    blake3" in result.output, result.output
    request.getfixturevalue("old_instance")
    result = CliRunner().invoke(cli, ["info"])
    assert (
        result.exit_code == 0 and "hashes    md5 (full content, md5: created before BLAKE3)" in result.output
    )
