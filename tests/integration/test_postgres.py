"""An instance whose metadata lives in a real PostgreSQL server, checked against the SQLite behaviour.

The query-language checks run on both backends (`backend` fixture) so the two dialects are held to
the same results; the instance, artifact and multi-process checks run on PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import lamella as ln
from lamella.errors import DoesNotExist, InvalidArgument, NotConnected

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]


def with_password(url: str, password: str) -> str:
    """postgresql://lamella@host/db -> postgresql://lamella:password@host/db (trust auth ignores it)."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{password}@{host}"


def uids(records: Any) -> set[str]:
    return {record.uid for record in records}


def names(records: Any) -> set[str]:
    return {record.name for record in records}


# --- the instance ----------------------------------------------------------------------------------


def test_cli_init_with_db_makes_a_postgresql_instance(
    fresh_pg_db: str, children: Any, tmp_path: Path
) -> None:
    url = with_password(fresh_pg_db, "s3cr3t-pw")
    storage = tmp_path / "team-data"
    proc = children.cli("init", "--storage", str(storage), "--db", url, "--name", "team")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "s3cr3t-pw" not in proc.stdout + proc.stderr

    # this process picks up the instance the CLI made current
    info = ln.setup.settings.instance
    assert info.name == "team"
    assert info.dialect == "postgresql"
    assert info.db.startswith("postgresql")
    assert "s3cr3t-pw" not in info.db and "***" in info.db
    assert fresh_pg_db.rsplit("/", 1)[1] in info.db
    assert "s3cr3t-pw" not in repr(info)
    assert str(ln.settings.storage.root) == str(storage.resolve())
    # the embedded database is not used: no SQLite file next to the data
    assert not (storage / ".lamella" / "lamella.db").exists()

    shown = children.cli("info")
    assert shown.returncode == 0, shown.stderr
    assert "postgresql" in shown.stdout and "s3cr3t-pw" not in shown.stdout

    listed = children.cli("list")
    assert listed.returncode == 0 and "team" in listed.stdout and "postgresql" in listed.stdout


def test_init_rejects_a_non_postgresql_db_url(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="PostgreSQL"):
        ln.setup.init(storage=tmp_path / "data", name="bad", db="mysql://user@localhost/db")


def test_init_with_an_unreachable_server_raises_not_connected(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    url = f"postgresql://lamella:pw@127.0.0.1:{port}/nowhere"
    with pytest.raises(NotConnected) as info:
        ln.setup.init(storage=tmp_path / "data", name="nowhere", db=url)
    assert ":pw@" not in str(info.value)
    assert all(c.name != "nowhere" for c in ln.setup.list_instances())


def test_init_twice_connects_to_the_same_instance(fresh_pg_db: str, tmp_path: Path) -> None:
    storage = tmp_path / "data"
    first = ln.setup.init(storage=storage, name="twice", db=fresh_pg_db)
    ln.ULabel(name="kept").save()
    again = ln.setup.init(storage=storage, name="twice", db=fresh_pg_db)
    assert again.config.uid == first.config.uid
    assert ln.ULabel.filter(name="kept").count() == 1
    assert ln.Storage.filter(root=str(storage.resolve())).count() == 1


# --- the query language on both backends -----------------------------------------------------------


class World:
    """A small, fixed set of records that every query below is checked against."""

    def __init__(self, tmp_path: Path) -> None:
        files = tmp_path / "files"
        files.mkdir()

        def artifact(key: str, text: str, **kwargs: Any) -> Any:
            path = files / key.replace("/", "-")
            path.write_text(text)
            return ln.Artifact(path, key=key, **kwargs).save()

        self.t_a = ln.Transform(key="pipeline_a").save()
        self.t_b = ln.Transform(key="pipeline_b").save()
        self.r1 = ln.Run(
            transform=self.t_a,
            params={"learning_rate": 0.01, "batch_size": 32, "optimizer": "adam", "nested": {"depth": 3}},
        ).save()
        self.r2 = ln.Run(
            transform=self.t_a, params={"learning_rate": 0.1, "batch_size": 8, "optimizer": "sgd"}
        ).save()
        self.r3 = ln.Run(transform=self.t_b, params={"learning_rate": 0.001, "batch_size": 16}).save()
        self.r4 = ln.Run(transform=self.t_b).save()

        self.a1 = artifact("a_b/one.txt", "1" * 10, description="first", run=self.r1)
        self.a2 = artifact("aXb/two.txt", "2" * 20, run=self.r2)
        self.a3 = artifact("pct/three.txt", "3" * 30, description="100% complete", run=self.r3)
        self.a4 = artifact("plain/four.txt", "4" * 40, description="Fourth ONE")

        labels = ["raw_data", "rawXdata", "100% pure", "100 pure", "Alpha", "alpha-beta", "beta"]
        self.labels = {name: ln.ULabel(name=name).save() for name in labels}
        self.a1.ulabels.add(self.labels["raw_data"], self.labels["rawXdata"])
        self.a2.ulabels.add(self.labels["raw_data"])
        self.a3.ulabels.add(self.labels["beta"])


@pytest.fixture
def world(shared_instance_factory: Any, connect_shared: Any) -> World:
    """The same records on SQLite and on PostgreSQL, made once per backend; the tests only read them."""

    def setup(shared: Any) -> None:
        assert ln.setup.settings.instance.dialect == shared.backend
        shared.data["world"] = World(shared.storage.parent)

    shared = shared_instance_factory(setup)
    connect_shared(shared)
    return shared.data["world"]  # type: ignore[no-any-return]


def test_like_lookups_treat_underscore_and_percent_literally(world: World) -> None:
    assert uids(ln.Artifact.filter(key__startswith="a_b/")) == {world.a1.uid}
    assert names(ln.ULabel.filter(name__startswith="100%")) == {"100% pure"}
    assert names(ln.ULabel.filter(name__contains="_")) == {"raw_data"}
    assert names(ln.ULabel.filter(name__contains="%")) == {"100% pure"}
    assert names(ln.ULabel.filter(name__endswith="_data")) == {"raw_data"}
    assert uids(ln.Artifact.filter(description__contains="100%")) == {world.a3.uid}
    # LIKE is case-sensitive on both backends
    assert names(ln.ULabel.filter(name__startswith="alpha")) == {"alpha-beta"}


def test_case_insensitive_lookups(world: World) -> None:
    assert names(ln.ULabel.filter(name__icontains="ALPHA")) == {"Alpha", "alpha-beta"}
    assert names(ln.ULabel.filter(name__istartswith="AL")) == {"Alpha", "alpha-beta"}
    assert names(ln.ULabel.filter(name__iendswith="BETA")) == {"alpha-beta", "beta"}
    assert names(ln.ULabel.filter(name__iexact="alpha")) == {"Alpha"}
    assert names(ln.ULabel.filter(name__icontains="_D")) == {"raw_data"}
    assert uids(ln.Artifact.filter(description__icontains="one")) == {world.a4.uid}


def test_in_with_lists_and_querysets(world: World) -> None:
    pipeline_a_runs = ln.Run.filter(transform__key="pipeline_a")
    assert uids(ln.Artifact.filter(run__in=pipeline_a_runs)) == {world.a1.uid, world.a2.uid}
    assert names(ln.ULabel.filter(id__in=ln.ULabel.filter(name__startswith="raw"))) == {
        "raw_data",
        "rawXdata",
    }
    assert names(ln.ULabel.filter(name__in=["beta", "gamma"])) == {"beta"}
    assert ln.ULabel.filter(name__in=[]).count() == 0
    assert uids(ln.Artifact.filter(key__in=["a_b/one.txt", "plain/four.txt"])) == {world.a1.uid, world.a4.uid}
    assert uids(ln.Artifact.filter(run__in=[world.r3])) == {world.a3.uid}


def test_isnull_range_and_comparisons(world: World) -> None:
    assert uids(ln.Artifact.filter(description__isnull=True)) == {world.a2.uid}
    assert uids(ln.Artifact.filter(description__isnull=False)) == {world.a1.uid, world.a3.uid, world.a4.uid}
    assert uids(ln.Artifact.filter(run__isnull=True)) == {world.a4.uid}
    assert uids(ln.Artifact.filter(size__range=(15, 35))) == {world.a2.uid, world.a3.uid}
    assert uids(ln.Artifact.filter(size__range=(10, 10))) == {world.a1.uid}  # bounds are inclusive
    assert uids(ln.Artifact.filter(size__gt=20, size__lte=40)) == {world.a3.uid, world.a4.uid}
    first, last = world.a1.created_at, world.a4.created_at
    assert uids(ln.Artifact.filter(created_at__range=(first, last))) == {
        world.a1.uid,
        world.a2.uid,
        world.a3.uid,
        world.a4.uid,
    }
    assert ln.Artifact.filter(created_at__gt=last).count() == 0
    assert ln.Artifact.filter(created_at__gte=first.isoformat()).count() == 4


def test_regex_lookups(world: World) -> None:
    assert uids(ln.Artifact.filter(key__regex=r"^a.b/")) == {world.a1.uid, world.a2.uid}
    assert uids(ln.Artifact.filter(key__regex=r"^a_b/")) == {world.a1.uid}
    assert names(ln.ULabel.filter(name__regex=r"^[0-9]+ ")) == {"100 pure"}
    assert names(ln.ULabel.filter(name__iregex=r"^alpha$")) == {"Alpha"}
    assert names(ln.ULabel.filter(name__regex=r"^alpha$")) == set()


def test_foreign_key_traversal(world: World) -> None:
    assert uids(ln.Artifact.filter(run__transform__key="pipeline_a")) == {world.a1.uid, world.a2.uid}
    assert uids(ln.Artifact.filter(run__transform__key__startswith="pipeline_")) == {
        world.a1.uid,
        world.a2.uid,
        world.a3.uid,
    }
    assert uids(ln.Artifact.filter(run__transform=world.t_b)) == {world.a3.uid}
    assert uids(ln.Artifact.filter(run__params__optimizer="sgd")) == {world.a2.uid}
    assert {r.uid for r in ln.Run.filter(transform__key="pipeline_b")} == {world.r3.uid, world.r4.uid}
    assert uids(ln.Transform.filter(runs__params__batch_size=16)) == {world.t_b.uid}


def test_many_to_many_lookups_never_repeat_rows(world: World) -> None:
    both = ln.Artifact.filter(ulabels__name__in=["raw_data", "rawXdata"])
    assert [a.uid for a in both].count(world.a1.uid) == 1
    assert uids(both) == {world.a1.uid, world.a2.uid}
    assert both.count() == 2 == len(list(both))
    assert len(both.to_dataframe()) == 2
    assert uids(ln.Artifact.filter(ulabels__name="raw_data")) == {world.a1.uid, world.a2.uid}
    assert uids(ln.Artifact.filter(ulabels=world.labels["beta"])) == {world.a3.uid}
    assert uids(ln.Artifact.filter(ulabels__isnull=True)) == {world.a4.uid}
    assert uids(ln.Artifact.exclude(ulabels__name="raw_data")) == {world.a3.uid, world.a4.uid}
    assert names(ln.ULabel.filter(artifacts__key__startswith="a_b/")) == {"raw_data", "rawXdata"}
    assert names(world.a1.ulabels.all()) == {"raw_data", "rawXdata"}


def test_q_objects_combine_and_negate(world: World) -> None:
    from lamella import Q

    either = ln.Artifact.filter(Q(key__startswith="a_b/") | Q(description__icontains="fourth"))
    assert uids(either) == {world.a1.uid, world.a4.uid}
    assert uids(ln.Artifact.filter(~Q(key__startswith="a"))) == {world.a3.uid, world.a4.uid}
    both = ln.Artifact.filter(Q(key__startswith="a") & Q(description__isnull=True))
    assert uids(both) == {world.a2.uid}
    assert uids(ln.Artifact.filter(~(Q(key__startswith="a") | Q(size__gt=35)))) == {world.a3.uid}
    # Django semantics: negating a comparison keeps the rows where the field is NULL
    assert uids(ln.Artifact.filter(~Q(description="first"))) == {world.a2.uid, world.a3.uid, world.a4.uid}


def test_exclude_keeps_null_rows(world: World) -> None:
    assert uids(ln.Artifact.exclude(description="first")) == {world.a2.uid, world.a3.uid, world.a4.uid}
    assert uids(ln.Artifact.exclude(description__icontains="one")) == {
        world.a1.uid,
        world.a2.uid,
        world.a3.uid,
    }
    assert uids(ln.Artifact.exclude(description__isnull=True)) == {world.a1.uid, world.a3.uid, world.a4.uid}
    assert uids(ln.Artifact.exclude(run__transform__key="pipeline_a")) == {world.a3.uid, world.a4.uid}
    assert uids(ln.Artifact.filter(key__startswith="a").exclude(description="first")) == {world.a2.uid}


def test_json_lookups_on_run_params(world: World) -> None:
    assert uids(ln.Run.filter(params__learning_rate=0.01)) == {world.r1.uid}
    assert uids(ln.Run.filter(params__batch_size__gt=16)) == {world.r1.uid}
    assert uids(ln.Run.filter(params__batch_size__gte=16)) == {world.r1.uid, world.r3.uid}
    assert uids(ln.Run.filter(params__batch_size=32)) == {world.r1.uid}
    assert uids(ln.Run.filter(params__learning_rate__lt=0.05)) == {world.r1.uid, world.r3.uid}
    assert uids(ln.Run.filter(params__batch_size__in=[8, 16])) == {world.r2.uid, world.r3.uid}
    assert uids(ln.Run.filter(params__optimizer="adam")) == {world.r1.uid}
    assert uids(ln.Run.filter(params__optimizer__startswith="s")) == {world.r2.uid}
    assert uids(ln.Run.filter(params__nested__depth=3)) == {world.r1.uid}
    assert uids(ln.Run.filter(params__optimizer__isnull=True)) == {world.r3.uid, world.r4.uid}
    assert uids(ln.Run.exclude(params__optimizer="adam")) == {world.r2.uid, world.r3.uid, world.r4.uid}
    assert uids(ln.Run.filter(params__isnull=True)) == {world.r4.uid}


def test_unknown_fields_raise_with_the_valid_ones(world: World) -> None:
    with pytest.raises(InvalidArgument, match="valid fields"):
        ln.Artifact.filter(nonexistent_field="x").count()
    with pytest.raises(DoesNotExist):
        ln.Artifact.get(key="no/such.txt")


def test_a_uniqueness_violation_is_reported_as_an_integrity_error(
    backend: str, db_url: str | None, tmp_path: Path
) -> None:
    from sqlalchemy.exc import IntegrityError as SAIntegrityError

    from lamella.errors import IntegrityError

    ln.setup.init(storage=tmp_path / "data", name=f"unique-{backend}", db=db_url)
    first = ln.ULabel(name="first").save()
    with pytest.raises((IntegrityError, SAIntegrityError)):
        ln.ULabel(name="second", uid=first.uid).save()
    assert names(ln.ULabel.filter()) == {"first"}
    assert ln.ULabel(name="third").save().id is not None  # the failed transaction was rolled back


# --- artifacts on PostgreSQL -----------------------------------------------------------------------


@pytest.fixture
def pg_instance(fresh_pg_db: str, tmp_path: Path) -> Path:
    storage = tmp_path / "data"
    ln.setup.init(storage=storage, name="pgteam", db=fresh_pg_db)
    return storage


def test_artifact_save_load_versions_and_delete(pg_instance: Path, tmp_path: Path) -> None:
    import pandas as pd

    df1 = pd.DataFrame({"gene": ["CD8A", "CD4"], "count": [1, 2]})
    v1 = ln.Artifact.from_dataframe(df1, key="tables/counts.parquet", description="counts").save()
    assert v1.id is not None and v1.is_latest and v1.uid.endswith("0000")
    assert Path(str(v1.path)).is_file()
    pd.testing.assert_frame_equal(v1.load(), df1)

    # the same content again: the existing record, no second copy
    again = ln.Artifact.from_dataframe(df1, key="tables/counts.parquet").save()
    assert again.uid == v1.uid
    assert ln.Artifact.filter(key="tables/counts.parquet").count() == 1

    df2 = pd.DataFrame({"gene": ["CD8A"], "count": [5]})
    v2 = ln.Artifact.from_dataframe(df2, key="tables/counts.parquet").save()
    df3 = pd.DataFrame({"gene": ["CD3E"], "count": [7]})
    v3 = ln.Artifact.from_dataframe(df3, revises=v2).save()
    assert v2.stem_uid == v1.stem_uid == v3.stem_uid
    assert [a.uid[-4:] for a in v1.versions] == ["0000", "0001", "0002"]
    assert v3.key == "tables/counts.parquet" and v3.description == "counts"
    latest = ln.Artifact.filter(key="tables/counts.parquet", is_latest=True).one()
    assert latest.uid == v3.uid
    assert ln.Artifact.get(v1.stem_uid).uid == v3.uid  # a stem uid names the latest version
    pd.testing.assert_frame_equal(ln.Artifact.get(v2.uid).load(), df2)

    # trash the latest version: the previous one becomes latest; restore it again
    v3.delete()
    assert ln.Artifact.filter(key="tables/counts.parquet", is_latest=True).one().uid == v2.uid
    assert ln.Artifact.filter(key="tables/counts.parquet").count() == 2
    assert Path(str(v3.path)).exists()
    v3.restore()
    assert ln.Artifact.filter(key="tables/counts.parquet", is_latest=True).one().uid == v3.uid

    # permanent deletion of an older version removes its record and bytes, the latest stays
    location = Path(str(v1.path))
    v1.delete(permanent=True)
    assert not location.exists()
    assert ln.Artifact.filter(uid=v1.uid).count() == 0
    assert [a.uid for a in v2.versions] == [v2.uid, v3.uid]
    assert ln.Artifact.filter(key="tables/counts.parquet", is_latest=True).one().uid == v3.uid


def test_permanently_deleting_the_latest_version_elects_the_previous_one(pg_instance: Path) -> None:
    import pandas as pd

    v1 = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key="t/v.parquet").save()
    v2 = ln.Artifact.from_dataframe(pd.DataFrame({"a": [2]}), key="t/v.parquet").save()
    location = Path(str(v2.path))
    v2.delete(permanent=True)
    assert not location.exists()
    assert ln.Artifact.filter(uid=v2.uid).count() == 0
    assert ln.Artifact.filter(key="t/v.parquet", is_latest=True).one().uid == v1.uid


def test_file_and_folder_artifacts(pg_instance: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello postgres")
    note = ln.Artifact(text, key="docs/notes.txt").save()
    assert note.load() == "hello postgres" and note.size == len("hello postgres")
    assert ln.Artifact.get(key="docs/notes.txt").hash == note.hash
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.bin").write_bytes(bytes([i]) * 100)
    tree = ln.Artifact(folder, key="images/batch").save()
    assert tree.n_files == 3 and tree.size == 300
    assert sorted(p.name for p in Path(str(tree.cache())).iterdir()) == ["0.bin", "1.bin", "2.bin"]
    tree.delete(permanent=True)
    assert not Path(str(tree.path)).exists()


def test_a_too_long_value_rolls_back_and_removes_the_bytes(pg_instance: Path, tmp_path: Path) -> None:
    """PostgreSQL enforces VARCHAR lengths: the failed insert must not leave the copied bytes behind."""
    source = tmp_path / "x.txt"
    source.write_text("bytes that must not stay")
    with pytest.raises(Exception):  # noqa: B017 - the driver's error, whatever its class
        ln.Artifact(source, key="x/x.txt", version="v" * 200).save()
    assert ln.Artifact.filter(key="x/x.txt").count() == 0
    stored = [p.name for p in (pg_instance / ".lamella").rglob("*") if p.is_file()]
    assert stored == [], stored
    # the session is usable again after the rollback
    ok = ln.Artifact(source, key="x/x.txt").save()
    assert ok.id is not None and ln.Artifact.filter(key="x/x.txt").count() == 1


SECOND_PROCESS = """
import json, sys
import lamella as ln
out = {
    "dialect": ln.setup.settings.instance.dialect,
    "keys": sorted(a.key for a in ln.Artifact.filter()),
    "labels": sorted(l.name for l in ln.ULabel.filter()),
    "loaded": ln.Artifact.get(key="shared/hello.txt").load(),
}
ln.ULabel(name="from-child").save()
ln.Artifact.from_dataframe(__import__("pandas").DataFrame({"x": [1]}), key="shared/child.parquet").save()
print(json.dumps(out))
"""


def test_a_second_process_sees_and_adds_records(pg_instance: Path, tmp_path: Path, children: Any) -> None:
    source = tmp_path / "hello.txt"
    source.write_text("hello from the parent")
    ln.Artifact(source, key="shared/hello.txt").save()
    ln.ULabel(name="from-parent").save()

    proc = children.python(SECOND_PROCESS)
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["dialect"] == "postgresql"
    assert seen["keys"] == ["shared/hello.txt"]
    assert seen["labels"] == ["from-parent"]
    assert seen["loaded"] == "hello from the parent"

    # without reconnecting, this process reads what the child committed
    assert names(ln.ULabel.filter()) == {"from-parent", "from-child"}
    child_artifact = ln.Artifact.get(key="shared/child.parquet")
    assert child_artifact.load()["x"].tolist() == [1]
    # a name the child created is found, not duplicated, by this process
    assert ln.ULabel(name="from-child").save().id == ln.ULabel.get(name="from-child").id
    assert ln.ULabel.filter(name="from-child").count() == 1
