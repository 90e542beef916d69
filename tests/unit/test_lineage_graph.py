"""Lineage graphs: `view_lineage()` of artifacts, collections and transforms, `view_parents()` of
hierarchies; returned as graphviz graphs or written to the cache folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from lamella.errors import InvalidArgument


def node(source: str, uid: str) -> str:
    """The id of the graph node whose id contains `uid`."""
    match = re.search(rf'^\s*"?([\w-]*{re.escape(uid)}[\w-]*)"?\s*\[', source, re.MULTILINE)
    assert match, (uid, source)
    return match.group(1)


def has_edge(source: str, tail_uid: str, head_uid: str) -> bool:
    tail, head = node(source, tail_uid), node(source, head_uid)
    return (
        re.search(rf'^\s*"?{re.escape(tail)}"?\s*->\s*"?{re.escape(head)}"?', source, re.MULTILINE)
        is not None
    )


@pytest.fixture
def three_steps(ln: ModuleType) -> dict[str, Any]:
    """raw -> (ingest.py) -> cleaned -> (normalize.py) -> normalized -> (train.py) -> model, plus a side input."""
    frame = pd.DataFrame({"gene": ["CD8A", "CD4", "CD14"], "count": [10, 20, 30]})
    found: dict[str, Any] = {}
    found["raw"] = ln.Artifact.from_dataframe(frame, key="raw/batch1.parquet").save()

    found["ingest_run"] = ln.track(ln.Transform(key="ingest.py", kind="script"))
    cleaned = found["raw"].load().dropna()
    found["cleaned"] = ln.Artifact.from_dataframe(
        cleaned.assign(clean=True), key="clean/batch1.parquet"
    ).save()
    ln.finish()

    found["normalize_run"] = ln.track(ln.Transform(key="normalize.py", kind="script"))
    data = found["cleaned"].load()
    data["count"] = data["count"] / data["count"].sum()
    found["normalized"] = ln.Artifact.from_dataframe(data, key="norm/batch1.parquet").save()
    ln.finish()

    found["config"] = ln.Artifact.from_dataframe(
        pd.DataFrame({"lr": [0.01]}), key="config/train.parquet"
    ).save()
    found["train_run"] = ln.track(ln.Transform(key="train.py", kind="script"))
    found["normalized"].load()
    found["config"].load()
    found["model"] = ln.Artifact.from_dataframe(pd.DataFrame({"w": [0.5]}), key="models/m.parquet").save()
    ln.finish()
    return found


def test_artifact_lineage_reaches_back_over_three_steps(ln: ModuleType, three_steps: dict[str, Any]) -> None:
    s = three_steps
    graph = s["model"].view_lineage(return_graph=True)
    source = graph.source
    for text in (
        "raw/batch1.parquet",
        "clean/batch1.parquet",
        "norm/batch1.parquet",
        "config/train.parquet",
        "models/m.parquet",
        "ingest.py",
        "normalize.py",
        "train.py",
    ):
        assert text in source, (text, source)
    # raw -> ingest -> cleaned -> normalize -> normalized -> train -> model, and config -> train
    chain = [
        (s["raw"].uid, s["ingest_run"].uid),
        (s["ingest_run"].uid, s["cleaned"].uid),
        (s["cleaned"].uid, s["normalize_run"].uid),
        (s["normalize_run"].uid, s["normalized"].uid),
        (s["normalized"].uid, s["train_run"].uid),
        (s["config"].uid, s["train_run"].uid),
        (s["train_run"].uid, s["model"].uid),
    ]
    for tail, head in chain:
        assert has_edge(source, tail, head), (tail, head, source)
    assert not has_edge(source, s["model"].uid, s["train_run"].uid)


def test_lineage_is_upstream_only(ln: ModuleType, three_steps: dict[str, Any]) -> None:
    source = three_steps["cleaned"].view_lineage(return_graph=True).source
    assert "raw/batch1.parquet" in source and "ingest.py" in source
    for downstream in ("norm/batch1.parquet", "models/m.parquet", "normalize.py", "train.py"):
        assert downstream not in source, downstream


def test_an_artifact_without_a_run_is_a_single_node(ln: ModuleType, three_steps: dict[str, Any]) -> None:
    source = three_steps["raw"].view_lineage(return_graph=True).source
    assert "raw/batch1.parquet" in source
    assert "->" not in source


def test_function_runs_show_who_initiated_them(ln: ModuleType) -> None:
    @ln.tracked()
    def make_table(key: str) -> Any:
        return ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key=key).save()

    script_run = ln.track(ln.Transform(key="driver.py", kind="script"))
    table = make_table("fn/out.parquet")
    ln.finish()
    source = table.view_lineage(return_graph=True).source
    assert "make_table" in source and "driver.py" in source
    assert has_edge(source, script_run.uid, table.run.uid)
    assert has_edge(source, table.run.uid, table.uid)


def test_collections_in_lineage(ln: ModuleType, three_steps: dict[str, Any]) -> None:
    s = three_steps
    bundle_run = ln.track(ln.Transform(key="bundle.py", kind="script"))
    s["normalized"].load()
    collection = ln.Collection([s["normalized"], s["config"]], key="bundles/training").save()
    ln.finish()
    source = collection.view_lineage(return_graph=True).source
    assert "bundles/training" in source and "bundle.py" in source and "normalize.py" in source
    assert has_edge(source, bundle_run.uid, collection.uid)
    assert has_edge(source, s["normalized"].uid, bundle_run.uid)

    consumer = ln.track(ln.Transform(key="consume.py", kind="script"))
    consumer.input_collections.add(collection)
    report = ln.Artifact.from_dataframe(pd.DataFrame({"auc": [0.9]}), key="reports/auc.parquet").save()
    ln.finish()
    source = report.view_lineage(return_graph=True).source
    assert has_edge(source, collection.uid, consumer.uid)
    assert "bundles/training" in source and "bundle.py" in source


def test_view_lineage_writes_a_file_and_prints_its_path(
    ln: ModuleType, three_steps: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ln.settings.cache_dir = tmp_path / "cache"
    assert three_steps["model"].view_lineage() is None
    printed = capsys.readouterr().out
    files = list((tmp_path / "cache" / "lineage").iterdir())
    assert len(files) == 1
    written = files[0]
    assert written.suffix == (".svg" if shutil.which("dot") else ".dot")
    assert str(written) in printed
    content = written.read_text()
    assert "train.py" in content and "models/m.parquet" in content


def test_view_lineage_without_dot_writes_dot_source(
    ln: ModuleType,
    three_steps: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lamella.models.core import graphs as graph

    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    ln.settings.cache_dir = tmp_path / "cache"
    three_steps["model"].view_lineage()
    (written,) = (tmp_path / "cache" / "lineage").glob("*.dot")
    assert str(written) in capsys.readouterr().out
    assert written.read_text() == three_steps["model"].view_lineage(return_graph=True).source


def test_transform_lineage_shows_upstream_transforms(ln: ModuleType, three_steps: dict[str, Any]) -> None:
    train = three_steps["train_run"].transform
    source = train.view_lineage(return_graph=True).source
    for key in ("train.py", "normalize.py", "ingest.py"):
        assert key in source, (key, source)
    normalize = three_steps["normalize_run"].transform
    ingest = three_steps["ingest_run"].transform
    assert has_edge(source, ingest.uid, normalize.uid)
    assert has_edge(source, normalize.uid, train.uid)
    upstream_only = normalize.view_lineage(return_graph=True).source
    assert "ingest.py" in upstream_only and "train.py" not in upstream_only


def test_transform_view_lineage_writes_a_file(
    ln: ModuleType, three_steps: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ln.settings.cache_dir = tmp_path / "cache"
    three_steps["train_run"].transform.view_lineage()
    (written,) = (tmp_path / "cache" / "lineage").iterdir()
    assert str(written) in capsys.readouterr().out


def test_unsaved_records_have_no_lineage(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="save"):
        ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key="x.parquet").view_lineage(return_graph=True)
    with pytest.raises(InvalidArgument, match="save"):
        ln.Transform(key="never saved", kind="pipeline").view_lineage(return_graph=True)


# ---- hierarchies ------------------------------------------------------------------------------------


def test_view_parents_of_a_ulabel(ln: ModuleType) -> None:
    cell_type = ln.ULabel(name="cell type").save()
    immune = ln.ULabel(name="immune cell").save()
    t_cell = ln.ULabel(name="T cell").save()
    cd8 = ln.ULabel(name="CD8+ T cell").save()
    unrelated = ln.ULabel(name="tissue").save()
    cd8.parents.add(t_cell)
    t_cell.parents.add(immune)
    immune.parents.add(cell_type)

    source = cd8.view_parents(return_graph=True).source
    for name in ("CD8+ T cell", "T cell", "immune cell", "cell type"):
        assert name in source, (name, source)
    assert "tissue" not in source
    assert has_edge(source, t_cell.uid, cd8.uid)
    assert has_edge(source, immune.uid, t_cell.uid)
    assert has_edge(source, cell_type.uid, immune.uid)
    assert unrelated.view_parents(return_graph=True).source.count("->") == 0

    near = cd8.view_parents(distance=1, return_graph=True).source
    assert "T cell" in near and "immune cell" not in near


def test_view_parents_with_several_parents(ln: ModuleType) -> None:
    child = ln.ULabel(name="treated sample").save()
    drug = ln.ULabel(name="drug A").save()
    batch = ln.ULabel(name="batch 3").save()
    child.parents.add(drug)
    child.parents.add(batch)
    source = child.view_parents(return_graph=True).source
    assert has_edge(source, drug.uid, child.uid) and has_edge(source, batch.uid, child.uid)


def test_view_parents_of_projects_and_records(ln: ModuleType) -> None:
    program = ln.Project(name="Cancer program").save()
    screen = ln.Project(name="Drug screen").save()
    screen.parents.add(program)
    assert has_edge(screen.view_parents(return_graph=True).source, program.uid, screen.uid)
    donor = ln.Record(name="donor 1").save()
    sample = ln.Record(name="sample 1").save()
    sample.parents.add(donor)
    assert "donor 1" in sample.view_parents(return_graph=True).source


def test_view_parents_writes_a_file(
    ln: ModuleType, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ln.settings.cache_dir = tmp_path / "cache"
    child = ln.ULabel(name="child").save()
    child.parents.add(ln.ULabel(name="parent").save())
    assert child.view_parents() is None
    (written,) = (tmp_path / "cache" / "lineage").iterdir()
    assert str(written) in capsys.readouterr().out


def test_view_parents_needs_a_hierarchy(ln: ModuleType) -> None:
    artifact = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key="flat.parquet").save()
    with pytest.raises(InvalidArgument, match="hierarchy"):
        artifact.view_parents(return_graph=True)


def test_view_parents_with_children_and_of_a_transform(ln: ModuleType) -> None:
    species = [ln.ULabel(name=n).save() for n in ("setosa", "versicolor")]
    is_species = ln.ULabel(name="is_species").save()
    is_species.children.set(species)
    source = is_species.view_parents(with_children=True, return_graph=True).source
    assert all(has_edge(source, is_species.uid, s.uid) for s in species)
    assert species[0].uid not in is_species.view_parents(return_graph=True).source
    transform = ln.Transform(key="pipeline.py", kind="script").save()
    assert (
        transform.view_parents(return_graph=True).source == transform.view_lineage(return_graph=True).source
    )


# ---- transform.predecessors / .successors -----------------------------------------------------------


def test_predecessors_and_successors_of_transforms(ln: ModuleType, three_steps: dict[str, Any]) -> None:
    s = three_steps
    ingest, normalize, train = (s[f"{name}_run"].transform for name in ("ingest", "normalize", "train"))
    assert list(normalize.predecessors) == [ingest]
    assert list(train.predecessors) == [normalize]  # the config was saved outside a run
    assert ingest.predecessors.count() == 0  # raw came from no transform
    assert list(ingest.successors) == [normalize]
    assert list(normalize.successors) == [train]
    assert train.successors.count() == 0
    # a collection read by a later run counts too
    collection = ln.Collection(s["model"], key="models").save()
    report = ln.track(ln.Transform(key="report.py", kind="script"))
    collection.load()
    ln.finish()
    assert list(train.successors) == [report.transform]
    assert list(report.transform.predecessors) == [train]
    with pytest.raises(InvalidArgument, match="never saved"):
        ln.Transform(key="unsaved.py").predecessors  # noqa: B018
