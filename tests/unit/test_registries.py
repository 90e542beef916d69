"""Registries: uids, named records, bulk saves, branches (trash), relation managers, describe and view."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select

from lamella._instance import state
from lamella.errors import DoesNotExist, InvalidArgument, ValidationError

BASE62 = re.compile(r"^[0-9A-Za-z]+$")


def _file(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / "inputs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


@pytest.fixture
def artifact(ln: ModuleType, tmp_path: Path) -> Any:
    return ln.Artifact(_file(tmp_path, "a.txt", "a"), key="files/a.txt").save()


# ---- uids -------------------------------------------------------------------------------------------


def _make(ln: ModuleType, registry: str, tmp_path: Path) -> Any:
    if registry == "Artifact":
        return ln.Artifact(_file(tmp_path, "u.txt", "uid"), key="u.txt").save()
    if registry == "Collection":
        return ln.Collection(key="my collection").save()
    if registry == "Transform":
        return ln.Transform(key="pipeline.py", kind="script").save()
    if registry == "Run":
        return ln.Run(ln.Transform(key="t").save()).save()
    if registry == "Storage":
        return ln.Storage.filter().one()
    if registry == "User":
        return ln.User.filter().one()
    if registry == "Schema":
        return ln.Schema(name="a schema").save()
    if registry == "Feature":
        return ln.Feature(name="a Feature", dtype=float).save()
    return getattr(ln, registry)(name=f"a {registry}").save()


@pytest.mark.parametrize(
    ("registry", "length"),
    [
        ("Artifact", 20),
        ("Collection", 20),
        ("Transform", 16),
        ("Run", 16),
        ("Record", 16),
        ("Schema", 16),
        ("Feature", 12),
        ("Project", 12),
        ("Reference", 12),
        ("Storage", 12),
        ("ULabel", 8),
        ("User", 8),
    ],
)
def test_uid_length_and_alphabet(ln: ModuleType, tmp_path: Path, registry: str, length: int) -> None:
    record = _make(ln, registry, tmp_path)
    assert len(record.uid) == length, record.uid
    assert BASE62.match(record.uid), record.uid
    assert getattr(ln, registry).get(record.uid) == record


@pytest.mark.parametrize("registry", ["Artifact", "Collection", "Transform"])
def test_versioned_uids_end_in_the_first_version(ln: ModuleType, tmp_path: Path, registry: str) -> None:
    record = _make(ln, registry, tmp_path)
    assert record.uid.endswith("0000")
    assert record.is_latest is True


def test_uids_are_random(ln: ModuleType) -> None:
    uids = {ln.ULabel(name=f"label {i}").uid for i in range(50)}
    assert len(uids) == 50


def test_new_records_get_uid_before_save_and_keep_it(ln: ModuleType) -> None:
    label = ln.ULabel(name="unsaved")
    assert label.id is None and len(label.uid) == 8
    uid = label.uid
    assert label.save().uid == uid and label.id is not None


# ---- named registries -------------------------------------------------------------------------------


@pytest.mark.parametrize("registry", ["ULabel", "Record", "Feature", "Project", "Reference"])
def test_named_registry_returns_the_existing_record(ln: ModuleType, registry: str) -> None:
    model = getattr(ln, registry)
    extra = {"dtype": "str"} if registry == "Feature" else {}
    first = model(name="same name", **extra).save()
    again = model(name="same name", **extra)
    assert again.id == first.id and again.uid == first.uid
    again.save()
    model(name="same name").save()
    assert model.filter(name="same name").count() == 1


@pytest.mark.parametrize("registry", ["ULabel", "Record", "Project", "Reference"])
def test_named_registry_scopes_names_by_type(ln: ModuleType, registry: str) -> None:
    model = getattr(ln, registry)
    cell_type = model(name="CellType", is_type=True).save()
    tissue = model(name="Tissue", is_type=True).save()
    typed = model(name="other", type=cell_type).save()
    assert model(name="other", type=cell_type).id == typed.id
    untyped = model(name="other")
    assert untyped.id is None  # a different scope: a new record
    untyped.save()
    in_tissue = model(name="other", type=tissue).save()
    assert len({typed.id, untyped.id, in_tissue.id}) == 3
    assert model.filter(name="other").count() == 3
    assert model.filter(name="other", type=cell_type).one() == typed
    # re-running the same code creates no duplicates
    model(name="other", type=cell_type).save()
    model(name="other").save()
    assert model.filter(name="other").count() == 3


def test_saving_a_typed_record_next_to_an_untyped_one_of_the_same_name(ln: ModuleType) -> None:
    cell_type = ln.ULabel(name="CellType", is_type=True).save()
    untyped = ln.ULabel(name="T cell").save()
    typed = ln.ULabel(name="T cell", type=cell_type).save()
    assert typed.id != untyped.id
    assert typed.type == cell_type
    assert ln.ULabel.filter(name="T cell", type=cell_type).count() == 1


def test_bulk_save_of_a_typed_record_next_to_an_untyped_one(ln: ModuleType) -> None:
    cell_type = ln.ULabel(name="CellType", is_type=True).save()
    ln.ULabel(name="T cell").save()
    ln.save([ln.ULabel(name="T cell", type=cell_type)])
    assert ln.ULabel.filter(name="T cell", type=cell_type).count() == 1
    assert ln.ULabel.filter(name="T cell").count() == 2


def test_type_must_be_a_type(ln: ModuleType) -> None:
    plain = ln.ULabel(name="plain").save()
    with pytest.raises(InvalidArgument, match="is_type=True"):
        ln.ULabel(name="child", type=plain)


def test_type_children_via_reverse_relation(ln: ModuleType) -> None:
    cell_type = ln.Record(name="CellType", is_type=True).save()
    for name in ("T cell", "B cell"):
        ln.Record(name=name, type=cell_type).save()
    assert sorted(cell_type.records.to_list("name")) == ["B cell", "T cell"]
    assert ln.Record.filter(type__name="CellType").count() == 2


def test_name_positional_argument(ln: ModuleType) -> None:
    label = ln.ULabel("positional").save()
    assert label.name == "positional"
    assert ln.ULabel("positional").id == label.id


def test_named_record_in_the_trash_is_not_returned(ln: ModuleType) -> None:
    label = ln.ULabel(name="trashed").save()
    label.delete()
    fresh = ln.ULabel(name="trashed")
    assert fresh.id is None
    fresh.save()
    assert fresh.id != label.id
    assert ln.ULabel.filter(name="trashed").one() == fresh


def test_bulk_save(ln: ModuleType) -> None:
    labels = [ln.ULabel(name=f"bulk {i}") for i in range(20)]
    saved = ln.save(labels)
    assert len(saved) == 20
    assert all(label.id is not None for label in labels)
    assert ln.ULabel.filter(name__startswith="bulk ").count() == 20
    assert all(label.created_by.handle == ln.setup.settings.user.handle for label in labels)


def test_bulk_saved_records_are_attached_and_share_their_timestamp(ln: ModuleType) -> None:
    import gc

    labels = [ln.ULabel(name=f"attached {i}", description="d") for i in range(3)]
    ln.save(labels)
    assert gc.isenabled()  # collection resumes after the bulk work
    assert len({label.created_at for label in labels}) == 1
    labels[0].description = "changed after the bulk save"  # tracked by the session: an update
    labels[0].save()
    assert ln.ULabel.get(name="attached 0").description == "changed after the bulk save"
    assert ln.ULabel.get(name="attached 1").created_at == labels[1].created_at


def test_garbage_collection_resumes_when_bulk_work_fails(ln: ModuleType) -> None:
    import gc

    from lamella.models.core.bulk import gc_paused

    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_constructor_checks_fields_before_the_record_is_tracked(ln: ModuleType) -> None:
    with pytest.raises(ValidationError, match=r"ULabel\.name"):
        ln.ULabel(name=12)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"ULabel\.name"):
        ln.ULabel(name="x" * 10_000)


def test_bulk_save_skips_names_already_present(ln: ModuleType) -> None:
    ln.save([ln.ULabel(name=n) for n in ("a", "b")])
    ln.save([ln.ULabel(name=n) for n in ("a", "b", "c")])  # re-running with one more
    assert sorted(ln.ULabel.filter().to_list("name")) == ["a", "b", "c"]


def test_bulk_save_skips_names_saved_since_construction(ln: ModuleType) -> None:
    pending = [ln.ULabel(name="late"), ln.ULabel(name="new")]
    ln.ULabel(name="late").save()  # e.g. another process got there first
    ln.save(pending)
    assert ln.ULabel.filter(name="late").count() == 1
    assert ln.ULabel.filter(name="new").count() == 1


def test_bulk_save_of_the_same_name_twice_creates_one_record(ln: ModuleType) -> None:
    ln.save([ln.ULabel(name="twice"), ln.ULabel(name="twice")])
    assert ln.ULabel.filter(name="twice").count() == 1


def test_bulk_save_of_mixed_registries_and_updates(ln: ModuleType) -> None:
    existing = ln.ULabel(name="existing").save()
    existing.description = "updated in bulk"
    ln.save([existing, ln.Project(name="project"), ln.Reference(name="paper")])
    assert ln.ULabel.get(name="existing").description == "updated in bulk"
    assert ln.Project.filter().count() == 1 and ln.Reference.filter().count() == 1


def test_unknown_constructor_field(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="'colour'") as info:
        ln.ULabel(name="x", colour="red")
    assert "description" in str(info.value)  # names the valid fields
    with pytest.raises(InvalidArgument, match="'flavour'"):
        ln.Transform(key="t", flavour="x")
    with pytest.raises(InvalidArgument, match="'nope'"):
        ln.Feature(name="f", dtype="int", nope=1)


def test_unknown_transform_kind(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="'recipe'"):
        ln.Transform(key="t", kind="recipe")


def test_update_a_record(ln: ModuleType) -> None:
    label = ln.ULabel(name="to update").save()
    created, updated = label.created_at, label.updated_at
    label.description = "now with a description"
    label.save()
    assert ln.ULabel.filter(uid=label.uid).to_list("description") == ["now with a description"]
    again = ln.ULabel.get(label.uid)
    assert again.description == "now with a description"
    assert again.created_at == created
    assert again.updated_at >= updated


def test_records_compare_by_id(ln: ModuleType) -> None:
    label = ln.ULabel(name="eq").save()
    assert ln.ULabel.get(label.id) == label
    assert ln.ULabel(name="other") != label
    assert ln.ULabel(name="x") != ln.ULabel(name="y")  # unsaved records are equal only to themselves
    assert "eq" in repr(label) and label.uid in repr(label)


# ---- branches and the trash -------------------------------------------------------------------------


def test_branches_exist(ln: ModuleType) -> None:
    branches = {b.id: b.name for b in ln.Branch.filter()}
    assert branches == {1: "main", 0: "archive", -1: "trash"}


def test_new_records_are_on_main(ln: ModuleType) -> None:
    label = ln.ULabel(name="main").save()
    assert label.branch_id == 1
    assert label.space_id == 1


def test_delete_moves_to_the_trash(ln: ModuleType) -> None:
    label = ln.ULabel(name="trash me").save()
    keep = ln.ULabel(name="keep me").save()
    label.delete()
    assert label.branch_id == -1
    assert ln.ULabel.filter().to_list("name") == ["keep me"]
    assert ln.ULabel.filter(name="trash me").count() == 0
    assert not ln.ULabel.filter(name="trash me").exists()
    assert ln.ULabel.filter(branch_id=-1).one() == label
    assert ln.ULabel.filter(name="trash me", branch_id=-1).count() == 1
    assert sorted(ln.ULabel.filter(branch_id=None).to_list("name")) == ["keep me", "trash me"]
    assert ln.ULabel.get(label.uid).branch_id == -1
    assert ln.ULabel.get(label.id) == label
    assert ln.ULabel.filter(uid=label.uid).count() == 1
    assert keep.branch_id == 1


def test_trashed_records_are_hidden_from_search_lookup_and_dataframes(ln: ModuleType) -> None:
    ln.ULabel(name="visible label").save()
    ln.ULabel(name="hidden label").save().delete()
    assert ln.ULabel.search("label").to_list("name") == ["visible label"]
    assert list(ln.ULabel.lookup().dict()) == ["visible label"]
    assert ln.ULabel.to_dataframe()["name"].tolist() == ["visible label"]
    assert ln.ULabel.filter().count() == 1


def test_restore(ln: ModuleType) -> None:
    label = ln.ULabel(name="back").save()
    label.delete()
    label.restore()
    assert label.branch_id == 1
    assert ln.ULabel.filter(name="back").one() == label


def test_delete_permanently(ln: ModuleType) -> None:
    label = ln.ULabel(name="gone").save()
    label.delete(permanent=True)
    assert ln.ULabel.filter(branch_id=None).count() == 0
    with pytest.raises(ln.errors.DoesNotExist):
        ln.ULabel.get(label.uid)


def test_delete_from_the_trash_is_permanent(ln: ModuleType) -> None:
    label = ln.ULabel(name="twice").save()
    label.delete()
    label.delete()
    assert ln.ULabel.filter(branch_id=None).count() == 0


def test_delete_unsaved_record(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="save"):
        ln.ULabel(name="never saved").delete()


def test_deleting_a_label_removes_its_links(ln: ModuleType, artifact: Any) -> None:
    label = ln.ULabel(name="linked").save()
    artifact.ulabels.add(label)
    label.delete(permanent=True)
    assert artifact.ulabels.count() == 0
    assert ln.Artifact.filter(id=artifact.id).count() == 1


# ---- relation managers ------------------------------------------------------------------------------


def test_add_all_count_remove_clear(ln: ModuleType, artifact: Any) -> None:
    a, b, c = (ln.ULabel(name=n).save() for n in ("a", "b", "c"))
    artifact.ulabels.add(a, b)
    assert artifact.ulabels.count() == 2
    assert len(artifact.ulabels) == 2
    assert sorted(artifact.ulabels.all().to_list("name")) == ["a", "b"]
    assert sorted(x.name for x in artifact.ulabels) == ["a", "b"]
    assert a in artifact.ulabels and c not in artifact.ulabels
    artifact.ulabels.add(a)  # already there: no duplicate link
    assert artifact.ulabels.count() == 2
    artifact.ulabels.add([c])  # a list works too
    assert artifact.ulabels.count() == 3
    artifact.ulabels.remove(b)
    assert sorted(artifact.ulabels.to_list("name")) == ["a", "c"]
    artifact.ulabels.clear()
    assert artifact.ulabels.count() == 0
    assert ln.ULabel.filter().count() == 3  # the labels themselves stay


def test_set_replaces_the_links(ln: ModuleType, artifact: Any) -> None:
    a, b, c = (ln.ULabel(name=n).save() for n in ("a", "b", "c"))
    artifact.ulabels.add(a, b)
    artifact.ulabels.set([b, c])
    assert sorted(artifact.ulabels.to_list("name")) == ["b", "c"]
    artifact.ulabels.set(ln.ULabel.filter(name="a"))  # a QuerySet works too
    assert artifact.ulabels.to_list("name") == ["a"]
    artifact.ulabels.set([])
    assert artifact.ulabels.count() == 0


def test_set_with_a_queryset_of_the_same_relation(ln: ModuleType, artifact: Any) -> None:
    a, b = (ln.ULabel(name=n).save() for n in ("a", "b"))
    artifact.ulabels.add(a, b)
    artifact.ulabels.set(artifact.ulabels.filter(name="a"))  # keep only "a"
    assert artifact.ulabels.to_list("name") == ["a"]


def test_add_the_labels_of_another_record(ln: ModuleType, tmp_path: Path, artifact: Any) -> None:
    a, b = (ln.ULabel(name=n).save() for n in ("a", "b"))
    artifact.ulabels.add(a, b)
    other = ln.Artifact(_file(tmp_path, "o.txt", "o"), key="o.txt").save()
    other.ulabels.add(artifact.ulabels)  # a manager works like a list
    assert sorted(other.ulabels.to_list("name")) == ["a", "b"]


def test_manager_filter_and_first(ln: ModuleType, artifact: Any) -> None:
    labels = [ln.ULabel(name=n).save() for n in ("apple", "apricot", "banana")]
    artifact.ulabels.add(*labels)
    assert artifact.ulabels.filter(name__startswith="ap").count() == 2
    assert artifact.ulabels.exclude(name="apple").count() == 2
    assert artifact.ulabels.order_by("-name").first().name == "banana"
    assert artifact.ulabels.get(name="banana") == labels[2]
    assert artifact.ulabels.exists()


def test_link_carries_the_feature(ln: ModuleType, artifact: Any) -> None:
    from lamella.models.core.links import ArtifactULabel

    feature = ln.Feature(name="cell_type", dtype="cat[ULabel]").save()
    t_cell = ln.ULabel(name="T cell").save()
    artifact.ulabels.add(t_cell, feature=feature)
    session = state.current().db.session()
    rows = session.execute(
        select(ArtifactULabel.ulabel_id, ArtifactULabel.feature_id).where(
            ArtifactULabel.artifact_id == artifact.id
        )
    ).all()
    assert [tuple(r) for r in rows] == [(t_cell.id, feature.id)]
    # the same label without a feature is a second link, but the label is listed once
    artifact.ulabels.add(t_cell)
    assert artifact.ulabels.count() == 1
    assert ln.Artifact.filter(ulabels=t_cell).count() == 1


def test_feature_on_a_link_without_feature_column(ln: ModuleType) -> None:
    transform = ln.Transform(key="t").save()
    label = ln.ULabel(name="l").save()
    feature = ln.Feature(name="f", dtype="str").save()
    with pytest.raises(InvalidArgument, match="feature"):
        transform.ulabels.add(label, feature=feature)


def test_manager_rejects_unsaved_records_and_wrong_types(
    ln: ModuleType, tmp_path: Path, artifact: Any
) -> None:
    with pytest.raises(InvalidArgument, match="save"):
        artifact.ulabels.add(ln.ULabel(name="unsaved"))
    with pytest.raises(InvalidArgument, match="ULabel"):
        artifact.ulabels.add(ln.Project(name="p").save())
    unsaved = ln.Artifact(_file(tmp_path, "b.txt", "b"), key="b.txt")
    with pytest.raises(InvalidArgument, match="save"):
        unsaved.ulabels.add(ln.ULabel(name="l").save())
    assert unsaved.ulabels.count() == 0
    assert artifact.ulabels.count() == 0


def test_reverse_many_to_many(ln: ModuleType, tmp_path: Path) -> None:
    label = ln.ULabel(name="shared").save()
    first = ln.Artifact(_file(tmp_path, "1.txt", "1"), key="1.txt").save()
    second = ln.Artifact(_file(tmp_path, "2.txt", "2"), key="2.txt").save()
    first.ulabels.add(label)
    second.ulabels.add(label)
    assert sorted(label.artifacts.to_list("key")) == ["1.txt", "2.txt"]
    label.artifacts.remove(first)  # managers work from both ends
    assert first.ulabels.count() == 0
    assert label.artifacts.to_list("key") == ["2.txt"]
    project = ln.Project(name="p").save()
    project.ulabels.add(label)
    assert label.projects.all().one() == project


def test_reverse_foreign_keys(ln: ModuleType, tmp_path: Path) -> None:
    transform = ln.Transform(key="my pipeline", kind="pipeline").save()
    run = ln.Run(transform).save()
    other = ln.Run(transform).save()
    produced = ln.Artifact(_file(tmp_path, "out.txt", "out"), key="out.txt", run=run).save()
    assert produced.run == run
    assert produced.transform == transform  # taken from the run
    assert sorted(r.uid for r in transform.runs) == sorted([run.uid, other.uid])
    assert transform.runs.count() == 2
    assert run.output_artifacts.to_list("key") == ["out.txt"]
    assert other.output_artifacts.count() == 0
    assert transform.output_artifacts.all().one() == produced
    storage = ln.Storage.filter().one()
    assert storage.artifacts.all().one() == produced
    user = ln.User.filter().one()
    assert user.created_artifacts.all().one() == produced
    assert user.created_runs.count() == 2


def test_run_inputs(ln: ModuleType, artifact: Any) -> None:
    run = ln.Run(ln.Transform(key="t").save()).save()
    run.input_artifacts.add(artifact)
    assert run.inputs.all().one() == artifact
    assert artifact.input_of_runs.all().one() == run


def test_record_hierarchy(ln: ModuleType) -> None:
    parent = ln.Record(name="parent").save()
    child = ln.Record(name="child").save()
    child.parents.add(parent)
    assert parent.children.all().one() == child
    assert child.parents.all().one() == parent


# ---- describe and view ------------------------------------------------------------------------------


def test_describe_a_record(ln: ModuleType, capsys: pytest.CaptureFixture[str], artifact: Any) -> None:
    label = ln.ULabel(name="described", description="a label").save()
    artifact.ulabels.add(label)
    capsys.readouterr()
    label.describe()
    out = capsys.readouterr().out
    assert "ULabel" in out and label.uid in out and "described" in out and "a label" in out


def test_describe_shows_the_labels_of_a_record(ln: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    project = ln.Project(name="big project").save()
    record = ln.Record(name="sample 1").save()
    record.projects.add(project)
    capsys.readouterr()
    record.describe()
    out = capsys.readouterr().out
    assert "sample 1" in out and "big project" in out


def test_view_prints_the_latest_records(ln: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(7):
        ln.ULabel(name=f"label-{i}").save()
    ln.Project(name="the project").save()
    capsys.readouterr()
    ln.view()
    out = capsys.readouterr().out
    assert "ULabel" in out and "Project" in out and "the project" in out
    assert "label-6" in out and "label-2" in out  # the 5 latest
    assert "label-1" not in out and "label-0" not in out
    assert "Collection" not in out  # empty registries are left out


def test_view_limit_and_registries(ln: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3):
        ln.ULabel(name=f"label-{i}").save()
    ln.Project(name="the project").save()
    capsys.readouterr()
    ln.view(limit=1, registries=["ULabel"])
    out = capsys.readouterr().out
    assert "label-2" in out and "label-1" not in out
    assert "the project" not in out


def test_view_takes_old_registry_names(ln: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # the 0.7x tutorial: ln.view(registries=["Feature", "FeatureSet", "ULabel"])
    feature = ln.Feature(name="sepal_length", dtype=float).save()
    ln.Schema(features=[feature], name="iris columns").save()
    ln.ULabel(name="setosa").save()
    capsys.readouterr()
    with pytest.warns(DeprecationWarning, match=r"registries=\['Schema'\]"):
        ln.view(registries=["Feature", "FeatureSet"])
    out = capsys.readouterr().out
    assert "Schema" in out and "iris columns" in out and "sepal_length" in out
    assert "setosa" not in out


# ---- failed writes ----------------------------------------------------------------------------------


def test_a_failed_write_raises_its_own_error(ln: ModuleType) -> None:
    first = ln.ULabel(name="first").save()
    with pytest.raises(Exception) as info:
        ln.ULabel(name="second", uid=first.uid).save()  # breaks the unique uid
    message = str(info.value)
    assert "UNIQUE" in message or isinstance(info.value, ln.errors.IntegrityError), message
    assert "cannot rollback" not in message
    # nothing was written and the next write works
    assert ln.ULabel.filter().to_list("name") == ["first"]
    assert ln.ULabel(name="third").save().id is not None


def test_deleting_a_referenced_record_is_an_integrity_error(ln: ModuleType, tmp_path: Path) -> None:
    cell_type = ln.ULabel(name="CellType", is_type=True).save()
    ln.ULabel(name="T cell", type=cell_type).save()
    with pytest.raises(ln.errors.IntegrityError, match="CellType"):
        cell_type.delete(permanent=True)
    assert ln.ULabel.filter(branch_id=None).count() == 2
    run = ln.Run(ln.Transform(key="t").save()).save()
    ln.Artifact(_file(tmp_path, "out.txt", "out"), key="out.txt", run=run).save()
    with pytest.raises(ln.errors.IntegrityError):
        run.delete(permanent=True)
    assert ln.Run.filter(branch_id=None).count() == 1


def test_a_label_saved_after_another_took_its_name_is_that_label(ln: ModuleType) -> None:
    pending = ln.ULabel(name="raced", description="mine")
    theirs = ln.ULabel(name="raced").save()  # e.g. another process got there first
    assert pending.save() == theirs
    assert pending.id == theirs.id and pending.description is None  # the saved record's fields
    assert ln.ULabel.filter(name="raced").count() == 1


def test_an_existing_name_is_returned_with_a_warning_and_a_near_name_is_named(
    ln: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    setosa = ln.ULabel(name="setosa").save()
    with caplog.at_level("WARNING", logger="lamella"):
        assert ln.ULabel(name="setosa") == setosa
    assert "returning the existing ULabel named 'setosa'" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="lamella"):
        near = ln.ULabel(name="Setosa ")
    assert near.id is None  # a new record: only the exact name is the same label
    assert "ULabel 'setosa' exists, a name like 'Setosa '" in caplog.text


def test_branches_as_users_see_them(ln: ModuleType) -> None:
    import pandas as pd

    main_artifact = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key="on/main.parquet").save()
    assert main_artifact.branch.name == "main" and main_artifact.space.name == "all"
    assert ln.Branch.get(name="archive").id == 0
    with pytest.raises(DoesNotExist, match="create=True"):
        ln.setup.switch("feature-x")
    branch = ln.setup.switch("feature-x", create=True)
    try:
        on_branch = ln.Artifact.from_dataframe(pd.DataFrame({"a": [2]}), key="on/branch.parquet").save()
        label = ln.ULabel(name="made on the branch").save()
        assert on_branch.branch == branch and label.branch_id == branch.id
        assert ln.Artifact.filter(key__startswith="on/").count() == 2  # main and the branch
    finally:
        ln.setup.switch("main")
    assert ln.Artifact.filter(key__startswith="on/").count() == 1
    assert ln.Artifact.filter(branch__name="feature-x").one() == on_branch
    assert ln.ULabel.filter(branch=branch).one() == label
    with pytest.raises(InvalidArgument, match="trashed or archived"):
        ln.setup.switch("trash")


def test_a_registry_shows_its_fields(ln: ModuleType) -> None:
    import lamella.bionty as bt

    shown = repr(ln.Artifact).splitlines()
    assert shown[:3] == ["lamella.Artifact", "  Simple fields", "    .uid: str"]
    assert "    .created_at: datetime" in shown and "    .storage_id: int" not in shown
    relational, bionty = shown.index("  Relational fields"), shown.index("  Bionty fields")
    assert relational < shown.index("    .storage: Storage") < shown.index("    .ulabels: ULabel") < bionty
    assert shown.index("    .cell_types: bionty.CellType") > bionty
    assert "    ._feature_values" not in repr(ln.Artifact)
    assert repr(bt.CellType).splitlines()[0] == "lamella.bionty.CellType"
    assert str(ln.Artifact) == "<class 'lamella.Artifact'>" and f"{ln.ULabel}" == "<class 'lamella.ULabel'>"
