"""Another instance on this machine, read beside the connection (`Registry.using`, `ln.DB`), and its
records copied into the connected instance with their lineage (`record.save()`).

Two instances share this test's LAMELLA_HOME: "src" (made first, holding the data) and "dst" (the
connection). The source runs on every backend in the tests that take `backend`.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from lamella._instance import config as cfg
from lamella._instance import state
from lamella.errors import InvalidArgument, NotConnected, ReadOnlyError

FRAME = pd.DataFrame({"gene": ["CD8A", "CD4"], "count": [10, 20]})


@dataclass
class Source:
    """What the fixture saved in instance "src", by uid."""

    storage: Path
    artifact: str
    text: str
    transform: str
    run: str
    collection: str


def _fill_source(ln: ModuleType, tmp_path: Path, storage: Path, db: str | None = None) -> Source:
    ln.setup.init(storage=storage, name="src", db=db)
    transform = ln.Transform(key="make_tables.py", kind="script").save()
    run = ln.Run(transform).save()
    tumor = ln.ULabel(name="tumor").save()
    ln.ULabel(name="healthy").save()
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="tissue", dtype=ln.ULabel).save()
    artifact = ln.Artifact.from_dataframe(FRAME, key="tables/counts.parquet", run=run).save()
    artifact.ulabels.add(tumor)
    artifact.features.add_values({"temperature": 21.5, "tissue": "tumor"})
    note = tmp_path / "note.txt"
    note.write_text("hello from src")
    text = ln.Artifact(note, key="notes/note.txt", run=run).save()
    collection = ln.Collection([artifact, text], key="both").save()
    return Source(storage, artifact.uid, text.uid, transform.uid, run.uid, collection.uid)


@pytest.fixture
def src(tmp_path: Path) -> Source:
    """Instance "src" with data, then instance "dst", empty and connected."""
    import lamella as ln

    source = _fill_source(ln, tmp_path, tmp_path / "src-data")
    ln.setup.init(storage=tmp_path / "dst-data", name="dst")
    return source


@pytest.fixture
def ln(src: Source) -> ModuleType:  # the package, connected to "dst" (overrides conftest's `ln`)
    import lamella

    return lamella


def _connection() -> tuple[Any, str | None]:
    return state.process.instance, cfg.current_instance_name()


# --- reading -------------------------------------------------------------------------------------------


def test_using_queries_the_other_instance_and_leaves_the_connection(ln: ModuleType, src: Source) -> None:
    connected = _connection()
    artifacts = ln.Artifact.using("src")
    assert artifacts.count() == 2
    assert ln.Artifact.filter().count() == 0  # the connection is "dst", still empty
    assert artifacts.get(key="tables/counts.parquet").uid == src.artifact
    assert artifacts.get(src.text).key == "notes/note.txt"
    assert artifacts.filter(key__startswith="notes/").one().uid == src.text
    assert [a.key for a in artifacts.order_by("-key")] == ["tables/counts.parquet", "notes/note.txt"]
    assert artifacts.filter(suffix=".txt").first().uid == src.text
    assert artifacts.search("counts").first().uid == src.artifact
    assert artifacts.filter(temperature__gt=20).one().uid == src.artifact  # a feature of "src"
    assert artifacts.filter(ulabels__name="tumor").count() == 1
    frame = artifacts.to_dataframe(include="features")
    assert sorted(frame["key"]) == ["notes/note.txt", "tables/counts.parquet"]
    assert ln.ULabel.using("src").filter(name__in=["tumor", "healthy"]).count() == 2
    assert ln.ULabel.filter().count() == 0
    assert _connection() == connected
    assert ln.setup.settings.instance.name == "dst"


def test_an_instance_is_named_as_lamella_list_shows_it(ln: ModuleType, src: Source) -> None:
    handle = cfg.read_user().handle
    assert ln.Artifact.using(f"{handle}/src").count() == 2
    with pytest.raises(NotConnected) as unknown:
        ln.Artifact.using("nonesuch")
    assert "known instances: dst" in str(unknown.value) and f"src ({handle}/src)" in str(unknown.value)
    with pytest.raises(NotConnected, match=f"belong to '{handle}'"):
        ln.Artifact.using("someone-else/src")
    with pytest.raises(NotConnected, match="known instances"):
        ln.DB("no/such/thing")
    with pytest.raises(InvalidArgument):
        ln.Artifact.using(3)


def test_records_carry_their_instance_through_relations(ln: ModuleType, src: Source) -> None:
    artifact = ln.Artifact.using("src").get(src.artifact)
    local_label = ln.ULabel(name="tumor").save()  # same name, other instance, other record
    assert state.instance_of(artifact).config.name == "src"
    assert artifact.run.uid == src.run and artifact.run.transform.uid == src.transform  # lazy to-one
    assert artifact.storage.root == str(src.storage)
    labels = artifact.ulabels.all()
    assert [label.name for label in labels] == ["tumor"]
    label = labels.one()
    assert label != local_label  # ids may be equal: instances differ
    assert [a.uid for a in label.artifacts] == [src.artifact]  # back through the other instance
    assert local_label.artifacts.count() == 0
    assert artifact.features.get_values() == {"temperature": 21.5, "tissue": "tumor"}
    assert artifact.labels.get("tissue").one().name == "tumor"
    assert [v.uid for v in artifact.versions] == [src.artifact]
    run = artifact.run
    assert {a.uid for a in run.output_artifacts} == {src.artifact, src.text}
    assert run.transform.latest_run.uid == src.run
    collection = ln.Collection.using("src").get(src.collection)
    assert [a.uid for a in collection.ordered_artifacts] == [src.artifact, src.text]
    assert local_label not in artifact.ulabels and label in artifact.ulabels


def test_a_pickled_record_reads_its_instance_again(ln: ModuleType, src: Source) -> None:
    artifact = ln.Artifact.using("src").get(src.artifact)
    copy = pickle.loads(pickle.dumps(artifact))
    assert state.instance_of(copy) is state.instance_of(artifact)
    pd.testing.assert_frame_equal(copy.load(), FRAME)
    assert ln.Artifact.filter().count() == 0


def test_load_and_cache_read_the_other_instances_storage(ln: ModuleType, src: Source, capsys: Any) -> None:
    artifact = ln.Artifact.using("src").get(src.artifact)
    assert str(artifact.path).startswith(str(src.storage))
    pd.testing.assert_frame_equal(artifact.load(), FRAME)
    text = ln.Artifact.using("src").get(src.text)
    assert Path(text.cache()).read_text() == "hello from src"
    joined = ln.Collection.using("src").get(src.collection)
    assert len(joined.cache()) == 2
    loaded = ln.Artifact.using("src").filter(suffix=".parquet").load()
    assert list(loaded["gene"]) == ["CD8A", "CD4"]
    artifact.describe()
    shown = capsys.readouterr().out
    assert str(src.storage) in shown and "make_tables.py" in shown and "tumor" in shown
    assert ln.Artifact.filter().count() == 0


def test_reading_another_instance_in_a_tracked_run_copies_what_it_reads_as_inputs(
    ln: ModuleType, src: Source
) -> None:
    run = ln.track(ln.Transform(key="reader", kind="pipeline"))
    artifact = ln.Artifact.using("src").get(src.artifact)
    assert list(artifact.load()["gene"]) == ["CD8A", "CD4"]
    copy = run.input_artifacts.one()  # LaminDB: "completing transfer to track Artifact as input"
    assert copy.uid == src.artifact and state.instance_of(artifact) is None and artifact == copy
    assert copy.input_of_runs.filter(transform__reference_type="lamella_instance").count() == 1
    artifact.load()  # the copy now: read again, linked once
    collection = ln.Collection.using("src").get(src.collection)
    assert len(collection.cache()) == 2
    assert run.input_collections.one().uid == src.collection == collection.uid
    assert state.instance_of(collection) is None and collection.artifacts.count() == 2
    assert run.input_artifacts.count() == 2 and ln.context.run is run  # and its artifacts, as here
    ln.finish()


def test_reading_another_instance_outside_a_run_or_not_as_input_copies_nothing(
    ln: ModuleType, src: Source
) -> None:
    ln.Artifact.using("src").get(src.artifact).load()
    run = ln.track(ln.Transform(key="reader", kind="pipeline"))
    artifact = ln.Artifact.using("src").get(src.artifact)
    artifact.load(is_run_input=False)
    with ln.settings.override(track_run_inputs=False):
        artifact.cache()
    assert run.input_artifacts.count() == 0 and ln.Artifact.filter().count() == 0
    assert state.instance_of(artifact) is not None
    ln.finish()


def test_db_has_one_attribute_per_registry(ln: ModuleType, src: Source) -> None:
    db = ln.DB("src")
    assert db.Artifact.filter(key__startswith="tables/").one().uid == src.artifact
    assert db.Collection.get(src.collection).key == "both"
    assert db.Transform.get(key="make_tables.py").uid == src.transform
    assert db.Run.get(src.run).transform.key == "make_tables.py"
    assert db.ULabel.lookup().tumor.name == "tumor"
    assert {"Artifact", "Collection", "ULabel", "Feature", "Run"} <= set(dir(db))
    assert "src" in repr(db)
    with pytest.raises(AttributeError, match="no registry 'Nope'"):
        db.Nope  # noqa: B018
    with pytest.raises(NotConnected, match="does not use the module 'bionty'"):
        db.bionty  # noqa: B018
    assert ln.DB("dst").Artifact.count() == 0  # the connected instance, read as usual


def test_using_the_connected_instance_gives_its_own_records(ln: ModuleType, src: Source) -> None:
    label = ln.ULabel(name="here").save()
    found = ln.ULabel.using("dst").get(name="here")
    assert found == label and state.instance_of(found) is None
    assert ln.ULabel.using(None).count() == 1
    assert not state.process.others


# --- writing into the other instance is refused --------------------------------------------------------


def test_writes_into_the_other_instance_are_read_only_errors(ln: ModuleType, src: Source) -> None:
    artifacts = ln.Artifact.using("src")
    artifact = artifacts.get(src.artifact)
    for write in (
        artifact.delete,
        lambda: artifact.delete(permanent=True),
        artifact.restore,
        lambda: artifact.features.add_values({"temperature": 3.0}),
        lambda: artifact.features.remove_values("temperature"),
        lambda: artifact.ulabels.add(ln.ULabel.using("src").get(name="healthy")),
        lambda: artifact.ulabels.clear(),
        lambda: ln.ULabel.using("src").get(name="healthy").delete(),
        lambda: artifacts.filter(suffix=".txt").delete(),
    ):
        with pytest.raises(ReadOnlyError) as refused:
            write()
        text = str(refused.value)
        assert "'src' is read-only" in text and "ln.connect('src')" in text, text
    changed = artifacts.get(src.text)
    changed.description = "edited"
    with pytest.raises(ReadOnlyError, match=r"field\(s\) description were changed.*ln.connect\('src'\)"):
        changed.save()
    assert Path(str(artifact.path)).exists()  # no bytes were deleted
    with sqlite3.connect(src.storage / ".lamella" / "lamella.db") as db:
        assert db.execute("SELECT count(*) FROM artifact WHERE branch_id = 1").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM artifact_ulabel").fetchone()[0] == 2
        assert db.execute("SELECT description FROM artifact WHERE uid = ?", (src.text,)).fetchone()[0] is None
    assert ln.Artifact.filter().count() == 0  # nothing was copied either


def test_records_of_two_instances_do_not_mix(ln: ModuleType, src: Source) -> None:
    foreign = ln.Artifact.using("src").get(src.artifact)
    foreign_label = ln.ULabel.using("src").get(name="tumor")
    local = ln.Artifact.from_dataframe(FRAME.head(1), key="local.parquet").save()
    with pytest.raises(InvalidArgument, match=r"read from instance .*copy it into the connected"):
        local.ulabels.add(foreign_label)
    with pytest.raises(InvalidArgument, match="read from instance"):
        ln.Artifact.filter(ulabels=foreign_label).count()
    with pytest.raises(InvalidArgument, match="cannot be used in a query"):
        ln.Artifact.filter(id__in=ln.Artifact.using("src").all()).count()
    with pytest.raises(InvalidArgument, match="read from instance"):
        ln.Run(transform=foreign.transform)
    with pytest.raises(InvalidArgument, match="read from instance"):
        local.run = foreign.run
    with pytest.raises(InvalidArgument, match="read from instance"):
        ln.Collection([local, foreign], key="mixed")
    with pytest.raises(InvalidArgument, match="read from instance"):
        ln.Collection.using("src").get(src.collection).append(local)
    with pytest.raises(InvalidArgument, match="read from instance"):
        ln.Artifact(FRAME, key="tables/counts.parquet", revises=foreign)


# --- copying into the connected instance ---------------------------------------------------------------


def test_saving_a_record_of_another_instance_copies_it_with_its_lineage(ln: ModuleType, src: Source) -> None:
    source_instance = ln.DB("src")
    artifact = source_instance.Artifact.get(src.artifact)
    source_id = artifact.id
    copy = artifact.save()
    assert copy.uid == src.artifact and state.instance_of(copy) is None
    assert artifact.uid == src.artifact and state.instance_of(artifact) is None  # the variable is the copy
    assert artifact.id == copy.id == ln.Artifact.get(src.artifact).id
    assert ln.Artifact.filter().count() == 1 and source_id is not None
    # the bytes stay in the other instance's storage, registered here as a location it does not manage
    assert str(copy.path).startswith(str(src.storage))
    pd.testing.assert_frame_equal(copy.load(), FRAME)
    storage = copy.storage
    assert storage.root == str(src.storage) and not storage.is_managed
    assert storage.instance_uid == cfg.InstanceConfig.load("src").uid
    # lineage: the same run and transform, by uid
    assert copy.run.uid == src.run and copy.transform.uid == src.transform
    assert copy.run.transform.uid == src.transform
    # labels and feature values, with the features and labels they need
    assert [label.name for label in copy.ulabels] == ["tumor"]
    assert copy.features.get_values() == {"temperature": 21.5, "tissue": "tumor"}
    assert ln.Feature.get(name="tissue").dtype == "cat[ULabel]"
    # the transfer: a transform per source instance, a run that read the copy
    transfer_run = copy.input_of_runs.one()
    assert transfer_run.transform.reference == cfg.InstanceConfig.load("src").uid
    assert transfer_run.transform.reference_type == "lamella_instance"
    assert transfer_run.transform.key == "transfers/src"
    assert ln.ULabel.get(name="tumor").run == transfer_run
    # the other instance is unchanged
    assert source_instance.Artifact.count() == 2 and source_instance.Run.count() == 1
    copy.ulabels.add(ln.ULabel(name="mine").save())  # the copy is an ordinary record here
    assert copy.ulabels.count() == 2
    path = Path(str(copy.path))
    copy.delete(permanent=True)  # the bytes belong to the other instance's storage: kept
    assert path.exists() and ln.Artifact.filter(branch_id=None).count() == 0
    pd.testing.assert_frame_equal(source_instance.Artifact.get(src.artifact).load(), FRAME)


def test_saving_the_same_record_again_returns_the_first_copy(ln: ModuleType, src: Source) -> None:
    first = ln.Artifact.using("src").get(src.artifact).save()
    counts = [
        registry.filter().count() for registry in (ln.Artifact, ln.Run, ln.Transform, ln.ULabel, ln.Storage)
    ]
    again = ln.Artifact.using("src").get(src.artifact).save()
    assert again == first
    assert [r.filter().count() for r in (ln.Artifact, ln.Run, ln.Transform, ln.ULabel, ln.Storage)] == counts
    text = ln.Artifact.using("src").get(src.text).save()  # the same run: reused
    assert text.run == first.run and ln.Run.filter(uid=src.run).count() == 1
    assert ln.Storage.filter(root=str(src.storage)).count() == 1
    assert ln.Run.filter(transform__reference_type="lamella_instance").one().input_artifacts.count() == 2


def test_a_collection_comes_with_its_artifacts_in_order(ln: ModuleType, src: Source) -> None:
    collection = ln.Collection.using("src").get(src.collection).save()
    assert [a.uid for a in collection.ordered_artifacts] == [src.artifact, src.text]
    assert collection.ordered_artifacts[0].run.uid == src.run
    assert len(collection.cache()) == 2


def test_ln_save_copies_records_of_another_instance(ln: ModuleType, src: Source) -> None:
    labels = list(ln.ULabel.using("src").filter().order_by("name"))
    saved = ln.save(labels)
    assert [label.name for label in saved] == ["healthy", "tumor"]
    assert sorted(ln.ULabel.filter().to_list("name")) == ["healthy", "tumor"]
    assert all(state.instance_of(label) is None for label in labels)


def test_a_label_saved_on_its_own_records_the_transfer_as_its_run(ln: ModuleType, src: Source) -> None:
    label = ln.ULabel.using("src").get(name="healthy").save()
    assert label.run.transform.key == "transfers/src"
    assert ln.Artifact.filter().count() == 0  # nothing else came along


def test_a_copy_into_an_instance_with_a_module_the_source_lacks(ln: ModuleType, src: Source) -> None:
    ln.setup.migrate(modules="bionty")  # "dst" uses bionty, "src" does not
    copy = ln.Artifact.using("src").get(src.artifact).save()
    assert copy.uid == src.artifact and copy.ulabels.one().name == "tumor" and copy.cell_types.count() == 0


def test_a_label_named_like_one_here_is_that_one(ln: ModuleType, src: Source) -> None:
    mine = ln.ULabel(name="tumor", description="ours").save()
    copy = ln.Artifact.using("src").get(src.artifact).save()
    assert copy.ulabels.one() == mine and ln.ULabel.filter(name="tumor").count() == 1


def test_a_copy_made_in_a_tracked_run_is_linked_to_it(ln: ModuleType, src: Source) -> None:
    run = ln.track(ln.Transform(key="importer", kind="pipeline"))
    copy = ln.Artifact.using("src").get(src.artifact).save()
    transfer_run = copy.input_of_runs.one()
    assert transfer_run.initiated_by_run == run
    assert copy.run.uid == src.run  # the artifact keeps the run that made it
    ln.finish()


def test_versions_copied_one_by_one_keep_one_latest(ln: ModuleType, src: Source, tmp_path: Path) -> None:
    ln.connect("src")
    first = ln.Artifact.get(src.text)
    newer = tmp_path / "note2.txt"
    newer.write_text("hello again")
    second = ln.Artifact(newer, revises=first).save()
    ln.connect("dst")
    ln.Artifact.using("src").get(second.uid).save()
    old = ln.Artifact.using("src").get(src.text)
    assert old.is_latest is False
    old.save()
    family = ln.Artifact.filter(key="notes/note.txt", branch_id=None).order_by("uid")
    assert [(a.uid, a.is_latest) for a in family] == [(src.text, False), (second.uid, True)]


def test_copying_into_a_read_only_connection_is_refused(
    ln: ModuleType, src: Source, forget_connection: Callable[[], None]
) -> None:
    forget_connection()
    ln.connect("dst", read_only=True)
    with pytest.raises(ReadOnlyError, match="'dst' is read-only"):
        ln.Artifact.using("src").get(src.artifact).save()


# --- the connection and the process state --------------------------------------------------------------


def test_the_connection_and_the_process_state_are_untouched(ln: ModuleType, src: Source) -> None:
    connected, name = _connection()
    context_run = ln.context.run
    ln.DB("src").Artifact.get(src.artifact).load()
    ln.Artifact.using("src").get(src.text).save()
    assert state.process.instance is connected and cfg.current_instance_name() == name == "dst"
    assert ln.context.run is context_run
    assert state.reading_other() is None and state.current() is connected
    assert [other.config.name for other in state.process.others.values()] == ["src"]
    other = next(iter(state.process.others.values()))
    assert other.read_only and other.other and other is not connected
    assert connected.db.engine is not other.db.engine and not connected.read_only
    assert str(other.db.engine.url).startswith("sqlite")  # opened with mode=ro through a creator
    state.process.reset()
    assert not state.process.others


def test_reading_another_instance_connects_nothing(
    ln: ModuleType, src: Source, forget_connection: Callable[[], None]
) -> None:
    forget_connection()
    assert ln.Artifact.using("src").count() == 2
    assert state.process.instance is None  # not even the current instance: nothing needed it
    assert ln.Artifact.using("src").get(src.artifact).save().uid == src.artifact  # connects "dst" now
    assert state.process.instance.config.name == "dst"


def test_a_reset_closes_the_other_instance(
    ln: ModuleType, src: Source, reconnect: Callable[[str], None]
) -> None:
    artifact = ln.Artifact.using("src").get(src.artifact)
    reconnect("dst")
    assert ln.Artifact.using("src").get(src.artifact).uid == artifact.uid  # opened again on demand


# --- the source on each backend -----------------------------------------------------------------------


def test_reading_and_copying_from_each_backend(backend: str, db_url: str | None, tmp_path: Path) -> None:
    import lamella as ln

    source = _fill_source(ln, tmp_path, tmp_path / "src-data", db=db_url)
    ln.setup.init(storage=tmp_path / "dst-data", name="dst")
    other = ln.Artifact.using("src")
    assert other.filter(temperature__gt=20).one().uid == source.artifact
    copy = other.get(source.artifact).save()
    assert copy.run.uid == source.run
    assert copy.features.get_values() == {"temperature": 21.5, "tissue": "tumor"}
    pd.testing.assert_frame_equal(copy.load(), FRAME)
    with pytest.raises(ReadOnlyError, match="'src' is read-only"):
        other.get(source.text).delete()
    # the database itself refuses what would slip past: SQLite opened mode=ro, PostgreSQL read-only sessions
    opened = state.process.others[cfg.InstanceConfig.load("src").uid]
    with pytest.raises(ReadOnlyError, match="'src' is read-only"), opened.db.engine.connect() as connection:
        connection.exec_driver_sql("DELETE FROM ulabel")
    assert ln.DB("src").Artifact.filter(branch_id=None).count() == 2
    assert ln.DB("src").ULabel.count() == 2


# --- an optional module ----------------------------------------------------------------------------------


def test_a_module_of_the_other_instance_is_read_and_copied(tmp_path: Path) -> None:
    import lamella as ln

    ln.setup.init(storage=tmp_path / "src-data", name="src", modules="bionty")
    import lamella.bionty as bt

    cell_type = bt.CellType(name="my T cell state", ontology_id="CL:9999999").save()
    artifact = ln.Artifact.from_dataframe(FRAME, key="cells.parquet").save()
    artifact.cell_types.add(cell_type)
    ln.setup.init(storage=tmp_path / "plain-data", name="plain")
    with pytest.raises(NotConnected, match="does not use the module 'bionty'"):
        bt.CellType.filter().count()  # the connection has no bionty tables
    db = ln.DB("src")
    assert "bionty" in dir(db)
    assert db.bionty.CellType.get(name="my T cell state").ontology_id == "CL:9999999"
    assert bt.CellType.using("src").search("T cell").first().uid == cell_type.uid
    assert [c.name for c in db.Artifact.get(artifact.uid).cell_types] == ["my T cell state"]
    assert db.Artifact.get(artifact.uid).save().uid == artifact.uid  # its bionty labels stay behind
    ln.setup.init(storage=tmp_path / "dst-data", name="dst", modules="bionty")
    copy = db.Artifact.get(artifact.uid).save()
    assert [(c.uid, c.name) for c in copy.cell_types] == [(cell_type.uid, "my T cell state")]
    ln.connect("plain")
    with pytest.raises(NotConnected, match="'plain' does not use the module 'bionty'"):
        bt.CellType.using("src").first().save()
