"""Run inputs: what a run reads with load(), cache() or open() is linked as its input, once, and the
links can be turned off, forced, and queried from both sides."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest


@pytest.fixture
def raw(ln: ModuleType) -> Any:
    """An artifact registered outside any run."""
    frame = pd.DataFrame({"gene": ["CD8A", "CD4", "CD14"], "count": [10, 20, 30]})
    return ln.Artifact.from_dataframe(frame, key="raw/batch1.parquet").save()


@pytest.fixture
def other(ln: ModuleType, tmp_path: Path) -> Any:
    path = tmp_path / "notes.txt"
    path.write_text("some notes\n")
    return ln.Artifact(path, key="raw/notes.txt").save()


def start(ln: ModuleType, key: str = "My pipeline") -> Any:
    return ln.track(ln.Transform(key=key, kind="pipeline"))


def link_rows(storage_root: Path, run: Any) -> int:
    """Rows in the link table, counted straight in SQLite (duplicates would show here)."""
    with sqlite3.connect(storage_root / ".lamella" / "lamella.db") as db:
        return db.execute("SELECT COUNT(*) FROM run_input_artifact WHERE run_id = ?", (run.id,)).fetchone()[0]


@pytest.mark.parametrize("access", ["load", "cache", "open"])
def test_reading_links_the_artifact_as_an_input(ln: ModuleType, raw: Any, access: str) -> None:
    run = start(ln)
    getattr(raw, access)()
    ln.finish()
    assert list(run.input_artifacts.all()) == [raw]
    assert list(run.inputs.all()) == [raw]  # LaminDB's spelling
    assert list(raw.input_of_runs.all()) == [run]


def test_an_input_is_linked_once(ln: ModuleType, raw: Any, storage_root: Path) -> None:
    run = start(ln)
    for _ in range(50):
        raw.load()
    raw.cache()
    ln.Artifact.get(key="raw/batch1.parquet").load()  # another Python object of the same artifact
    ln.finish()
    assert run.input_artifacts.count() == 1
    assert link_rows(storage_root, run) == 1


def test_the_same_input_links_to_each_run_that_reads_it(ln: ModuleType, raw: Any) -> None:
    first = start(ln, "step a")
    raw.load()
    ln.finish()
    second = start(ln, "step b")
    raw.load()
    ln.finish()
    assert set(ln.Run.filter(input_artifacts=raw).to_list("uid")) == {first.uid, second.uid}


def test_what_the_run_made_itself_is_not_an_input(ln: ModuleType, raw: Any) -> None:
    run = start(ln)
    made = ln.Artifact.from_dataframe(raw.load().head(2), key="processed/head.parquet").save()
    made.load()
    made.cache()
    ln.finish()
    assert list(run.input_artifacts.all()) == [raw]
    assert list(run.output_artifacts.all()) == [made]


def test_nothing_is_linked_outside_a_run(ln: ModuleType, raw: Any, storage_root: Path) -> None:
    raw.load()
    raw.cache(is_run_input=True)  # asked for, but there is no run: a warning, no link
    run = start(ln)
    ln.finish()
    raw.load()  # after finish(): no run any more
    assert ln.Run.filter(input_artifacts=raw).count() == 0
    assert raw.input_of_runs.count() == 0
    assert link_rows(storage_root, run) == 0


def test_turning_input_tracking_off(ln: ModuleType, raw: Any, other: Any) -> None:
    run = start(ln)
    ln.settings.track_run_inputs = False
    try:
        raw.load()
        other.cache(is_run_input=True)  # forced even though tracking is off
    finally:
        ln.settings.track_run_inputs = True
    ln.finish()
    assert list(run.input_artifacts.all()) == [other]


def test_override_turns_input_tracking_off_temporarily(ln: ModuleType, raw: Any, other: Any) -> None:
    run = start(ln)
    with ln.settings.override(track_run_inputs=False):
        assert ln.settings.track_run_inputs is False
        raw.load()
    assert ln.settings.track_run_inputs is True
    other.load()
    ln.finish()
    assert list(run.input_artifacts.all()) == [other]


def test_is_run_input_false_skips_one_read(ln: ModuleType, raw: Any, other: Any) -> None:
    run = start(ln)
    raw.load(is_run_input=False)
    raw.cache(is_run_input=False)
    raw.open(is_run_input=False)
    other.cache(is_run_input=False)
    ln.finish()
    assert run.input_artifacts.count() == 0


def test_reports_and_environments_are_never_inputs(ln: ModuleType) -> None:
    first = start(ln, "first")
    ln.finish()
    first = ln.Run.get(first.uid)
    second = start(ln, "second")
    first.environment.cache()
    ln.Artifact.filter(kind="__lamella_env__").one().load()
    ln.finish()
    assert second.input_artifacts.count() == 0


def test_a_tracked_function_links_its_own_inputs(ln: ModuleType, raw: Any) -> None:
    @ln.tracked()
    def count_rows(key: str) -> int:
        return len(ln.Artifact.get(key=key).load())

    script_run = start(ln)
    assert count_rows("raw/batch1.parquet") == 3
    ln.finish()
    function_run = ln.Run.filter(transform__kind="function").one()
    assert list(function_run.input_artifacts.all()) == [raw]
    assert script_run.input_artifacts.count() == 0


def test_querying_lineage_from_both_sides(ln: ModuleType, raw: Any, other: Any) -> None:
    transform = ln.Transform(key="preprocess.py", kind="script").save()
    run = ln.track(transform)
    data = raw.load()
    data["count"] = data["count"] / data["count"].sum()
    processed = ln.Artifact.from_dataframe(data, key="processed/batch1.parquet").save()
    ln.finish()
    reader = start(ln, "reads other")
    other.load()
    ln.finish()

    assert ln.Run.filter(input_artifacts=raw).one() == run
    assert ln.Run.filter(inputs=raw).one() == run
    assert ln.Run.filter(input_artifacts=other).one() == reader
    runs = ln.Run.filter(input_artifacts=raw)
    assert ln.Artifact.filter(run__in=runs).one() == processed
    assert ln.Artifact.filter(transform=transform).one() == processed
    assert ln.Artifact.filter(run__transform__key="preprocess.py").one() == processed
    assert ln.Artifact.filter(input_of_runs=run).one() == raw
    assert processed in run.output_artifacts.all() and processed in run.outputs.all()
    assert processed.run == run and processed.transform == transform
