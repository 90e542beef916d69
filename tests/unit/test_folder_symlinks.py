"""Symlinks in folder artifacts: links that stay inside the folder are followed, links that leave it,
dangling links and link cycles are left out with a warning; hash and n_files describe what is stored."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import blake3
import pytest

from lamella.errors import InvalidArgument

STORED = ["link_inside.txt", "regular.txt", "sub/a.txt", "sublink/a.txt"]
LEFT_OUT = ["dangling", "link_outside.txt", "outdir", "sub/loop", "sublink/loop"]


def content_hash(data: bytes) -> str:
    """A new instance's hash of `data`: BLAKE3's 16-byte output in url-safe base64."""
    return base64.urlsafe_b64encode(blake3.blake3(data).digest(length=16)).decode()[:22]


def make_folder(root: Path, outside: Path) -> Path:
    """Every kind of entry: a file, links to a file and a folder inside and outside, a dangling link, a cycle."""
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_text("SECRET outside file")
    (outside / "dir" / "x.txt").write_text("SECRET outside folder")
    (root / "sub").mkdir(parents=True)
    (root / "regular.txt").write_text("regular")
    (root / "sub" / "a.txt").write_text("inside a")
    (root / "link_inside.txt").symlink_to("regular.txt")
    (root / "link_outside.txt").symlink_to(outside / "secret.txt")
    (root / "sublink").symlink_to("sub", target_is_directory=True)
    (root / "outdir").symlink_to(outside / "dir", target_is_directory=True)
    (root / "dangling").symlink_to(root / "missing.txt")
    (root / "sub" / "loop").symlink_to("..", target_is_directory=True)
    return root


def expected_hash(root: Path) -> str:
    return content_hash("".join(sorted(content_hash((root / rel).read_bytes()) for rel in STORED)).encode())


def stored_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def assert_warned_about_left_out(caplog: pytest.LogCaptureFixture) -> None:
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings, "no warning about the left-out entries"
    text = "\n".join(warnings)
    for rel in LEFT_OUT:
        assert rel in text, f"the warning does not name {rel}"
    assert "outside" in text and "dangling" in text and "cycle" in text


@pytest.fixture
def caplog(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The "lamella" logger does not propagate to the root logger; hand its records to caplog."""
    logger = logging.getLogger("lamella")
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "study", tmp_path / "elsewhere")


def test_folder_stores_links_inside_and_leaves_out_the_rest(
    ln: ModuleType, linked: Path, storage_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="lamella"):
        artifact = ln.Artifact(linked, key="studies/linked").save()
    assert_warned_about_left_out(caplog)
    stored = Path(str(artifact.path))
    files = stored_files(stored)
    assert sorted(files) == STORED
    assert files["link_inside.txt"] == b"regular"
    assert files["sublink/a.txt"] == b"inside a"
    assert not any(p.is_symlink() for p in stored.rglob("*"))
    assert artifact.n_files == 4
    assert artifact.size == sum(len(data) for data in files.values())
    assert artifact.hash == expected_hash(linked)
    for path in storage_root.rglob("*"):
        if path.is_file() and not path.name.startswith("lamella.db"):
            assert b"SECRET" not in path.read_bytes(), f"outside content was stored in {path}"


def test_folder_in_storage_is_registered_with_the_same_policy(
    ln: ModuleType, storage_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    in_place = make_folder(storage_root / "studies" / "linked", tmp_path / "elsewhere")
    with caplog.at_level(logging.WARNING, logger="lamella"):
        artifact = ln.Artifact(in_place).save()
    assert_warned_about_left_out(caplog)
    assert artifact.key == "studies/linked"
    assert artifact.n_files == 4
    assert artifact.hash == expected_hash(in_place)


def test_from_dir_follows_the_same_policy(
    ln: ModuleType, linked: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="lamella"):
        artifacts = ln.Artifact.from_dir(linked, key="linked")
    assert sorted(a.key for a in artifacts) == [f"linked/{rel}" for rel in STORED]
    assert_warned_about_left_out(caplog)


def test_listing_reports_each_left_out_entry_and_why(linked: Path) -> None:
    from lamella._storage.listing import list_local, scan_local

    listing = scan_local(linked)
    assert [rel for rel, _ in listing.files] == STORED
    reasons = {entry.rel: entry.reason for entry in listing.left_out}
    assert sorted(reasons) == LEFT_OUT
    assert "outside" in reasons["link_outside.txt"] and "outside" in reasons["outdir"]
    assert "dangling" in reasons["dangling"]
    assert "cycle" in reasons["sub/loop"]
    assert list_local(linked) == listing.files


def test_folder_of_only_left_out_entries_is_an_error(ln: ModuleType, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("outside")
    folder = tmp_path / "only_links"
    folder.mkdir()
    (folder / "a.txt").symlink_to(outside)
    (folder / "b.txt").symlink_to(tmp_path / "missing.txt")
    with pytest.raises(InvalidArgument, match=r"(?s)a\.txt: link to .*outside.*b\.txt: dangling"):
        ln.Artifact(folder, key="links")


def test_folder_reached_through_a_symlink_is_stored(ln: ModuleType, linked: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(linked, target_is_directory=True)
    artifact = ln.Artifact(alias, key="studies/alias").save()
    assert artifact.n_files == 4
    assert sorted(stored_files(Path(str(artifact.path)))) == STORED
    assert os.path.islink(alias)
