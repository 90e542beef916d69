"""Versions: a family shares a 16-character stem uid; exactly one version outside the trash is the latest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from lamella.errors import InvalidArgument


def save_version(
    ln: ModuleType, tmp_path: Path, content: str, key: str = "data/table.txt", **kwargs: Any
) -> Any:
    path = tmp_path / "inputs" / Path(key).name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return ln.Artifact(path, key=key, **kwargs).save()


def latest_of(ln: ModuleType, stem: str) -> list[str]:
    return ln.Artifact.filter(uid__startswith=stem, is_latest=True, branch_id=None).to_list("uid")


def test_same_key_new_content_is_a_new_version(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one", description="my table")
    v2 = save_version(ln, tmp_path, "two")
    v3 = save_version(ln, tmp_path, "three")
    assert len({v1.uid, v2.uid, v3.uid}) == 3
    assert v1.uid[:16] == v2.uid[:16] == v3.uid[:16]
    assert [v.uid[16:] for v in (v1, v2, v3)] == ["0000", "0001", "0002"]
    assert v1.stem_uid == v3.stem_uid == v1.uid[:16]
    assert latest_of(ln, v1.stem_uid) == [v3.uid]
    assert ln.Artifact.get(v1.uid).is_latest is False
    assert ln.Artifact.get(v2.uid).is_latest is False
    assert v3.is_latest is True
    assert v3.description == "my table"  # inherited from the family
    assert ln.Artifact.filter(key="data/table.txt").count() == 3
    assert ln.Artifact.get(key="data/table.txt") == v3


def test_each_version_keeps_its_bytes(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    assert v1.load() == "one"
    assert v2.load() == "two"
    assert Path(str(v1.path)) != Path(str(v2.path))
    assert Path(str(v2.path)).name == f"{v2.uid}.txt"


def test_same_content_again_is_not_a_new_version(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    again = save_version(ln, tmp_path, "two")
    assert again.id == v2.id
    older = save_version(ln, tmp_path, "one")  # the bytes of an older version
    assert older.id == v1.id
    assert v2.versions.count() == 2
    assert latest_of(ln, v1.stem_uid) == [v2.uid]


def test_another_key_is_another_family(ln: ModuleType, tmp_path: Path) -> None:
    a = save_version(ln, tmp_path, "a", key="data/a.txt")
    b = save_version(ln, tmp_path, "b", key="data/b.txt")
    assert a.stem_uid != b.stem_uid
    assert a.is_latest and b.is_latest
    assert a.uid.endswith("0000") and b.uid.endswith("0000")


def test_versions_queryset(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    save_version(ln, tmp_path, "other", key="data/other.txt")
    for member in (v1, v2):
        assert member.versions.to_list("uid") == [v1.uid, v2.uid]
    assert v1.versions.count() == 2
    df = v2.versions.to_dataframe()
    assert list(df["uid"]) == [v1.uid, v2.uid]
    assert list(df["is_latest"]) == [False, True]
    assert v2.versions.filter(is_latest=True).one() == v2


def test_version_property_and_tag(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two", version="2.0")
    assert v1.version == "1"  # its number in the family, as users count
    assert v2.version == "2.0"
    assert v2.version_tag == "2.0"
    assert v1.version != v2.version
    assert ln.Artifact.filter(version_tag="2.0").one() == v2
    v1.version = "1.0"
    v1.save()
    assert ln.Artifact.get(v1.uid).version == "1.0"
    assert ln.Artifact.filter(uid=v1.uid).to_list("version_tag") == ["1.0"]  # read back from the database


def test_revises_without_a_key(ln: ModuleType) -> None:
    df = pd.DataFrame({"a": [1, 2]})
    a1 = ln.Artifact.from_dataframe(df, description="Just a description").save()
    a2 = ln.Artifact.from_dataframe(df.assign(a=[3, 4]), revises=a1).save()
    assert a2.key is None
    assert a2.stem_uid == a1.stem_uid
    assert a2.uid.endswith("0001")
    assert a2.description == "Just a description"
    assert a2.version != a1.version
    assert a2.is_latest and not ln.Artifact.get(a1.uid).is_latest
    a3 = ln.Artifact.from_dataframe(df.assign(a=[5, 6]), revises=a2, description="new words").save()
    assert a3.description == "new words"
    assert a3.uid.endswith("0002")
    assert latest_of(ln, a1.stem_uid) == [a3.uid]


def test_revises_an_older_version_appends_to_the_family(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    path = tmp_path / "inputs" / "from_old.txt"
    path.write_text("three")
    v3 = ln.Artifact(path, revises=v1, key="data/table.txt").save()
    assert v3.uid.endswith("0002")
    assert latest_of(ln, v1.stem_uid) == [v3.uid]
    assert not ln.Artifact.get(v2.uid).is_latest


def test_revises_inherits_the_key(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    path = tmp_path / "inputs" / "anything.txt"
    path.write_text("two")
    v2 = ln.Artifact(path, revises=v1).save()
    assert v2.key == "data/table.txt"
    assert v2.stem_uid == v1.stem_uid


def test_revises_needs_a_saved_artifact(ln: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("x")
    unsaved = ln.Artifact(path, key="x.txt")
    with pytest.raises(InvalidArgument, match="save"):
        ln.Artifact(path, key="x.txt", revises=unsaved)
    with pytest.raises(InvalidArgument, match="Artifact"):
        ln.Artifact(path, key="x.txt", revises="not an artifact")


def test_get_by_stem_returns_the_latest(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    assert ln.Artifact.get(v1.stem_uid) == v2
    assert ln.Artifact.get(v1.uid) == v1


# ---- deleting and restoring versions ----------------------------------------------------------------


def test_trashing_the_latest_hands_latest_to_the_previous(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    v2.delete()
    assert ln.Artifact.get(v1.uid).is_latest is True
    assert ln.Artifact.get(v2.uid).is_latest is False
    assert ln.Artifact.get(key="data/table.txt") == v1
    assert ln.Artifact.get(v1.stem_uid) == v1
    assert latest_of(ln, v1.stem_uid) == [v1.uid]


def test_restoring_the_newest_takes_latest_back(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    v2.delete()
    v2.restore()
    assert ln.Artifact.get(v2.uid).is_latest is True
    assert ln.Artifact.get(v1.uid).is_latest is False
    assert latest_of(ln, v1.stem_uid) == [v2.uid]
    assert ln.Artifact.get(key="data/table.txt") == v2


def test_restoring_an_older_version_keeps_the_newest_latest(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    v1.delete()
    assert latest_of(ln, v1.stem_uid) == [v2.uid]
    v1.restore()
    assert latest_of(ln, v1.stem_uid) == [v2.uid]


def test_permanently_deleting_the_latest_hands_latest_to_the_previous(
    ln: ModuleType, tmp_path: Path, managed_files: Callable[[], list[str]]
) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    v3 = save_version(ln, tmp_path, "three")
    v3.delete(permanent=True)
    assert latest_of(ln, v1.stem_uid) == [v2.uid]
    assert managed_files() == sorted([f"{v1.uid}.txt", f"{v2.uid}.txt"])
    v2.delete(permanent=True)
    assert latest_of(ln, v1.stem_uid) == [v1.uid]
    assert ln.Artifact.get(key="data/table.txt") == v1


def test_a_new_version_after_trashing_the_latest(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    v2.delete()
    v3 = save_version(ln, tmp_path, "three")
    assert v3.stem_uid == v1.stem_uid
    assert v3.uid.endswith("0002")  # numbers are never reused
    assert latest_of(ln, v1.stem_uid) == [v3.uid]
    v2.restore()  # the restored version is older than the latest
    assert latest_of(ln, v1.stem_uid) == [v3.uid]


def test_trashing_every_version_leaves_no_latest_outside_the_trash(ln: ModuleType, tmp_path: Path) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    v2.delete()
    v1.delete()
    assert ln.Artifact.filter(key="data/table.txt").count() == 0
    assert ln.Artifact.filter(uid__startswith=v1.stem_uid, is_latest=True).count() == 0
    v1.restore()
    assert latest_of(ln, v1.stem_uid) == [v1.uid]


def test_many_versions_stay_consistent(ln: ModuleType, tmp_path: Path) -> None:
    versions = [save_version(ln, tmp_path, f"content {i}") for i in range(12)]
    assert [v.uid[16:] for v in versions] == [f"{i:04d}" if i < 10 else f"000{chr(ord('A') + i - 10)}"
                                              for i in range(12)]  # fmt: skip
    assert latest_of(ln, versions[0].stem_uid) == [versions[-1].uid]
    assert versions[0].versions.count() == 12


def test_transform_versions_by_stem(ln: ModuleType) -> None:
    transform = ln.Transform(key="pipeline.py", kind="script").save()
    assert len(transform.uid) == 16 and transform.uid.endswith("0000")
    assert transform.stem_uid == transform.uid[:12]
    assert transform.version == "1"
    assert transform.versions.one() == transform
    assert ln.Transform.get(transform.stem_uid) == transform


def test_versions_are_numbered_as_users_count_and_filter_by_that_number(
    ln: ModuleType, tmp_path: Path
) -> None:
    v1 = save_version(ln, tmp_path, "one")
    v2 = save_version(ln, tmp_path, "two")
    v3 = save_version(ln, tmp_path, "three", version="final")
    assert [v1.version, v2.version, v3.version] == ["1", "2", "final"]
    assert v3.versions.filter(version="2").one() == v2
    assert v3.versions.filter(version="final").one() == v3
    assert set(v3.versions.filter(version__in=["1", "final"])) == {v1, v3}
    assert v3.versions.exclude(version="1").count() == 2
    assert ln.Artifact.filter(version="3").count() == 0  # the third is called "final"


def test_transform_revises_makes_the_next_version(ln: ModuleType) -> None:
    first = ln.Transform(key="pipeline.py", kind="script", description="the pipeline").save()
    second = ln.Transform(revises=first, source_code="print(2)\n", version="2.0").save()
    assert second.uid == first.stem_uid + "0001" and second.stem_uid == first.stem_uid
    assert (second.key, second.kind, second.description) == ("pipeline.py", "script", "the pipeline")
    assert second.version == "2.0" and second.is_latest
    assert not first.is_latest and ln.Transform.get(first.uid).is_latest is False
    third = ln.Transform(key="renamed.py", revises=first).save()  # revising an older version appends
    assert third.uid.endswith("0002") and third.key == "renamed.py"
    assert ln.Transform.get(first.stem_uid) == third
    assert [t.uid[12:] for t in first.versions] == ["0000", "0001", "0002"]
    assert ln.Transform.filter(uid__startswith=first.stem_uid, is_latest=True).one() == third
    with pytest.raises(InvalidArgument, match="revises= takes a Transform"):
        ln.Transform(revises=ln.ULabel(name="x"))
    with pytest.raises(InvalidArgument, match="never saved"):
        ln.Transform(revises=ln.Transform(key="unsaved.py"))
