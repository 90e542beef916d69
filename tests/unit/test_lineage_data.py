"""`lineage_graph.lineage`: the nodes and edges around an artifact, collection, run or transform, up
and down a number of steps (one step: one run), within a node cap; what `view_lineage()` and the
UI's lineage page draw."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lamella.errors import InvalidArgument
from lamella.models.core.lineage_graph import Lineage, lineage


def ids(found: Lineage) -> set[str]:
    return {node.id for node in found.nodes}


def edges(found: Lineage) -> set[tuple[str, str]]:
    return {(edge.source, edge.target) for edge in found.edges}


def nid(record: Any) -> str:
    return f"{type(record).__name__.lower()}:{record.uid}"


class Maker:
    """Runs of their own transform that read given records and make small text artifacts."""

    def __init__(self, ln: ModuleType, folder: Path) -> None:
        self.ln, self.folder = ln, folder
        ln.settings.creation.artifact_silence_missing_run_warning = True

    def file(self, key: str, run: Any = None) -> Any:
        path = self.folder / key.replace("/", "_")
        path.write_text(key)
        return self.ln.Artifact(path, key=key, run=run).save()

    def run(self, transform_key: str, inputs: tuple[Any, ...] | list[Any] = (), **run_fields: Any) -> Any:
        transform = self.ln.Transform(key=transform_key, kind="script").save()
        run = self.ln.Run(transform, **run_fields).save()
        artifacts = [i for i in inputs if isinstance(i, self.ln.Artifact)]
        collections = [i for i in inputs if isinstance(i, self.ln.Collection)]
        if artifacts:
            run.input_artifacts.add(*artifacts)
        if collections:
            run.input_collections.add(*collections)
        return run


@pytest.fixture
def make(ln: ModuleType, tmp_path: Path) -> Maker:
    folder = tmp_path / "files"
    folder.mkdir()
    return Maker(ln, folder)


@pytest.fixture
def chain(make: Maker) -> dict[str, Any]:
    """raw -> step1 -> a1 -> step2 -> a2 -> step3 -> a3 -> step4 -> a4."""
    found: dict[str, Any] = {"raw": make.file("raw.txt")}
    previous = found["raw"]
    for n in range(1, 5):
        run = make.run(f"step{n}.py", [previous])
        found[f"r{n}"] = run
        found[f"a{n}"] = previous = make.file(f"a{n}.txt", run)
    return found


def test_one_step_up_is_the_run_its_transform_and_the_run_inputs(chain: dict[str, Any]) -> None:
    c = chain
    found = lineage(c["a4"], upstream=1, downstream=0)
    r4 = c["r4"]
    assert ids(found) == {nid(c["a4"]), nid(r4), nid(r4.transform), nid(c["a3"])}
    assert edges(found) == {
        (nid(c["a3"]), nid(r4)),
        (nid(r4), nid(c["a4"])),
        (nid(r4.transform), nid(r4)),
    }
    assert found.focus == nid(c["a4"]) and not found.truncated
    focus = next(node for node in found.nodes if node.id == found.focus)
    assert (focus.kind, focus.uid, focus.label) == ("artifact", c["a4"].uid, "a4.txt")
    run_node = next(node for node in found.nodes if node.kind == "run")
    assert run_node.label == "step4.py" and run_node.detail.startswith("script run ")


def test_upstream_steps_limit_the_walk(chain: dict[str, Any]) -> None:
    c = chain
    two = ids(lineage(c["a4"], upstream=2))
    assert {nid(c["a2"]), nid(c["r3"])} <= two and nid(c["r2"]) not in two and nid(c["a1"]) not in two
    assert ids(lineage(c["a4"], upstream=0)) == {nid(c["a4"])}
    everything = lineage(c["a4"], upstream=None)
    assert {nid(c[k]) for k in ("raw", "a1", "a2", "a3", "r1", "r2", "r3", "r4")} <= ids(everything)
    assert (nid(c["raw"]), nid(c["r1"])) in edges(everything)
    assert len(everything.nodes) == 13  # 5 artifacts, 4 runs, 4 transforms


def test_downstream_steps_are_the_readers_and_what_they_made(chain: dict[str, Any]) -> None:
    c = chain
    one = lineage(c["a2"], upstream=0, downstream=1)
    assert ids(one) == {nid(c["a2"]), nid(c["r3"]), nid(c["r3"].transform), nid(c["a3"])}
    assert edges(one) == {
        (nid(c["a2"]), nid(c["r3"])),
        (nid(c["r3"]), nid(c["a3"])),
        (nid(c["r3"].transform), nid(c["r3"])),
    }
    both = ids(lineage(c["a2"], upstream=1, downstream=2))
    assert {nid(c["a1"]), nid(c["r2"]), nid(c["r4"]), nid(c["a4"])} <= both
    assert nid(c["raw"]) not in both and nid(c["r1"]) not in both
    assert ids(lineage(c["a4"], upstream=0, downstream=3)) == {nid(c["a4"])}  # nothing read it


def test_a_run_with_several_inputs(make: Maker, ln: ModuleType) -> None:
    left, right = make.file("left.txt"), make.file("right.txt")
    bundle = ln.Collection([left, right], key="bundle").save()
    extra = make.file("extra.txt")
    merge = make.run("merge.py", [left, extra, bundle])
    merged = make.file("merged.txt", merge)
    found = lineage(merge, upstream=0, downstream=0)
    # a run's own inputs and outputs belong to it, whatever the steps
    assert ids(found) == {nid(merge), nid(merge.transform), nid(left), nid(extra), nid(bundle), nid(merged)}
    assert {(nid(left), nid(merge)), (nid(extra), nid(merge)), (nid(bundle), nid(merge))} <= edges(found)
    assert (nid(merge), nid(merged)) in edges(found)
    kinds = {node.id: node.kind for node in found.nodes}
    assert kinds[nid(bundle)] == "collection" and kinds[nid(merge)] == "run"
    from_merged = lineage(merged, upstream=1)
    assert {nid(left), nid(extra), nid(bundle)} <= ids(from_merged)
    assert nid(right) not in ids(from_merged)  # the collection's members are not its lineage


def test_a_collection_up_and_down(make: Maker, ln: ModuleType) -> None:
    ln.settings.creation.artifact_silence_missing_run_warning = True
    source = make.file("source.txt")
    bundler = ln.track(ln.Transform(key="bundle.py", kind="script"))
    made = make.file("made.txt", bundler)
    collection = ln.Collection([source, made], key="bundles/b1").save()
    ln.finish()
    reader = make.run("report.py", [collection])
    report = make.file("report.txt", reader)

    found = lineage(collection, upstream=1, downstream=1)
    assert found.focus == nid(collection)
    assert (nid(bundler), nid(collection)) in edges(found)  # the run that made it
    assert (nid(source), nid(bundler)) in edges(found)  # what that run read (collected)
    assert (nid(collection), nid(reader)) in edges(found)
    assert (nid(reader), nid(report)) in edges(found)
    assert ids(lineage(report, upstream=2)) >= {nid(collection), nid(bundler), nid(source)}


def test_the_node_cap_truncates(chain: dict[str, Any]) -> None:
    c = chain
    capped = lineage(c["a4"], upstream=None, max_nodes=5)
    assert len(capped.nodes) == 5 and capped.truncated
    assert capped.nodes[0].id == nid(c["a4"])  # nearest first
    present = ids(capped)
    assert all(e.source in present and e.target in present for e in capped.edges)
    assert not lineage(c["a4"], upstream=None, max_nodes=13).truncated


def test_transforms_left_out_and_a_transform_focus(chain: dict[str, Any], make: Maker) -> None:
    c = chain
    without = lineage(c["a4"], upstream=None, transforms=False)
    assert {node.kind for node in without.nodes} == {"artifact", "run"}
    step2 = c["r2"].transform
    again = make.run("unused", [c["a1"]])  # another run of step2.py
    again.transform_id = step2.id
    again.save()
    found = lineage(step2, upstream=0, downstream=0)
    assert found.focus == nid(step2)
    assert {(nid(step2), nid(c["r2"])), (nid(step2), nid(again))} <= edges(found)
    assert {nid(c["a1"]), nid(c["a2"])} <= ids(found) and nid(c["a3"]) not in ids(found)
    assert nid(c["r1"]) in ids(lineage(step2, upstream=1, downstream=0))


def test_a_run_started_by_another_run(make: Maker) -> None:
    driver = make.run("driver.py")
    called = make.run("helper", initiated_by_run=driver)
    out = make.file("out.txt", called)
    found = lineage(out, upstream=1)
    initiated = [e for e in found.edges if e.kind == "initiated"]
    assert [(e.source, e.target) for e in initiated] == [(nid(driver), nid(called))]


def test_what_has_no_lineage(make: Maker, ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="ULabel records have no lineage"):
        lineage(ln.ULabel(name="x").save())
    path = make.folder / "unsaved.txt"
    path.write_text("x")
    with pytest.raises(InvalidArgument, match="never saved"):
        lineage(ln.Artifact(path, key="unsaved.txt"))
    with pytest.raises(InvalidArgument, match="upstream=-1"):
        lineage(make.file("saved.txt"), upstream=-1)


def test_run_view_lineage_draws_the_same_data(chain: dict[str, Any]) -> None:
    c = chain
    source = c["r3"].view_lineage(return_graph=True).source
    assert f"data_{c['a2'].uid} -> run_{c['r3'].uid}" in source
    assert f"run_{c['r3'].uid} -> data_{c['a3'].uid}" in source
    assert f"run_{c['r1'].uid}" in source and "step1.py" in source  # all the way up
    assert f"run_{c['r4'].uid}" not in source  # not down
