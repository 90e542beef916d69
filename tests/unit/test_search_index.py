"""Search served by the SQLite FTS5 trigram tables: the same results as a scan, and tables that stay
in step with their registries through inserts, updates, trash, deletes and bulk saves."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lamella._instance import search_index, state
from lamella._query import trigram_stats
from lamella.models.core.record import SQLRecord


def fts_in_sync(table: str) -> None:
    """FTS5's own check, which with rank=1 also compares the index with the rows of `table`."""
    fts = search_index.fts_table(table)
    with state.current().db.engine.connect() as connection:
        connection.exec_driver_sql(f"INSERT INTO {fts} ({fts}, rank) VALUES ('integrity-check', 1)")


def uses_fts(queryset: Any) -> bool:
    return " MATCH " in str(queryset._statement().compile())


def scanned(queryset_of: Any) -> list[Any]:
    """The result of a search built while the instance pretends to have no index (a plain scan)."""
    instance = state.current()
    saved = instance._search_index
    instance._search_index = search_index.SCAN
    try:
        queryset = queryset_of()
        assert not uses_fts(queryset)
        return queryset.to_list()
    finally:
        instance._search_index = saved


def _registries() -> list[type]:
    found, stack = [], list(SQLRecord.__subclasses__())
    while stack:
        model = stack.pop()
        stack.extend(model.__subclasses__())
        if getattr(model, "__table__", None) is not None:
            found.append(model)
    return found


def test_the_indexed_fields_are_the_search_fields_of_every_core_registry(ln: ModuleType) -> None:
    expected = {
        model.__table__.name: tuple(f for f in model._search_fields if f in model.__table__.c)
        for model in _registries()
        if not model.__table__.name.startswith("bionty_")
    }
    assert {t: f for t, f in expected.items() if f} == search_index.SEARCH_FIELDS


def test_a_new_instance_has_the_fts_tables_and_says_search_is_indexed(ln: ModuleType) -> None:
    assert state.current().search_index == search_index.TRIGRAM
    with state.current().db.engine.connect() as connection:
        names = set(connection.exec_driver_sql("SELECT name FROM sqlite_master").scalars())
    for table in search_index.SEARCH_FIELDS:
        fts = search_index.fts_table(table)
        assert {fts, f"{fts}_insert", f"{fts}_update", f"{fts}_delete"} <= names
        fts_in_sync(table)  # the base rows (user, storage, branches, space) are in it


@pytest.fixture
def labels(ln: ModuleType) -> None:
    for name, description in [
        ("T cell receptor", "a receptor"),
        ("T cell", "a lymphocyte"),
        ("Regulatory T cell", "suppresses"),
        ("cell cycle T phase", None),
        ("B cell", "T helper target"),
        ("CD8-positive, ALPHA-beta T CELL", "Ça va: 100% naïve"),
        ("École", "a_b"),
        ("Neuron", None),
    ]:
        ln.ULabel(name=name, description=description).save()


QUERIES = [
    "t cell",  # a short word: the FTS narrows by "cell", the LIKE decides
    "cell",
    "CELL",
    "alpha-beta",
    "lymphocyte",
    "helper target",
    "receptor a",
    "ab",  # no word of 3 characters: a scan
    "a_b",  # wildcards are literal
    "100%",
    'quote"d',
    "école",
    "ça va",
    "naïve",
    "nothing like this",
]


@pytest.mark.parametrize("text", QUERIES)
def test_search_through_the_fts_gives_what_a_scan_gives(ln: ModuleType, labels: None, text: str) -> None:
    indexed = ln.ULabel.search(text, limit=None)
    assert uses_fts(indexed) == any(len(w) >= 3 for w in text.lower().split())
    assert indexed.to_list() == scanned(lambda: ln.ULabel.search(text, limit=None))


def test_the_ranking_is_kept(ln: ModuleType, labels: None) -> None:
    hits = ln.ULabel.search("t cell").to_list("name")
    assert hits[:3] == ["T cell", "T cell receptor", "Regulatory T cell"]
    # every word in one field: "B cell" has "t" only in its description, which lacks "cell"
    assert set(hits[3:]) == {"cell cycle T phase", "CD8-positive, ALPHA-beta T CELL"}
    assert ln.ULabel.search("lymphocyte").to_list("name") == ["T cell"]
    assert ln.ULabel.search("receptor", field="name").to_list("name") == ["T cell receptor"]
    assert ln.ULabel.search("a receptor", field="description").to_list("name") == ["T cell receptor"]


def test_a_field_outside_the_index_is_scanned(ln: ModuleType, labels: None) -> None:
    uid = ln.ULabel.get(name="Neuron").uid
    found = ln.ULabel.search(uid[2:9], field=["name", "uid"])
    assert not uses_fts(found)
    assert found.to_list("name") == ["Neuron"]


def _artifact(ln: ModuleType, tmp_path: Path, name: str, key: str, description: str | None = None) -> Any:
    path = tmp_path / "files" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"content of {name}")
    return ln.Artifact(path, key=key, description=description)


def test_the_fts_follows_inserts_updates_trash_and_deletes(ln: ModuleType, tmp_path: Path) -> None:
    ln.settings.creation.artifact_silence_missing_run_warning = True
    one = _artifact(ln, tmp_path, "1.txt", "project1/sample1.txt", "first sample").save()
    two = _artifact(ln, tmp_path, "2.txt", "project2/sample12.txt").save()
    assert ln.Artifact.search("sample1").to_list() == [one, two]  # prefix, then substring
    fts_in_sync("artifact")

    one.key = "project1/renamed.txt"  # the key changes: old trigrams out, new ones in
    one.save()
    assert ln.Artifact.search("sample1").to_list() == [two]
    assert ln.Artifact.search("renamed").to_list() == [one]
    assert ln.Artifact.search("first sample").to_list() == [one]
    one.description = None
    one.save()
    assert ln.Artifact.search("first sample").to_list() == []
    fts_in_sync("artifact")

    two.delete()  # to the trash: still indexed, but search shows main only
    assert ln.Artifact.search("sample12").to_list() == []
    assert ln.Artifact.filter(branch_id=-1).search("sample12").to_list() == [two]
    two.restore()
    assert ln.Artifact.search("sample12").to_list() == [two]
    two.delete(permanent=True)
    assert ln.Artifact.filter(branch_id=None).search("sample12").to_list() == []
    fts_in_sync("artifact")


def test_the_fts_follows_bulk_saves(ln: ModuleType, tmp_path: Path) -> None:
    ln.settings.creation.artifact_silence_missing_run_warning = True
    batch = [
        _artifact(ln, tmp_path, f"{i}.txt", f"project{i % 3}/sample{i}.txt", f"batch {i}") for i in range(30)
    ]
    ln.save(batch)
    # more than one multi-row INSERT (256 rows each) and a shorter last one
    ln.save([ln.ULabel(name=f"bulk label {i}", description=f"number {i}") for i in range(600)])
    fts_in_sync("artifact")
    fts_in_sync("ulabel")
    assert [a.key for a in ln.Artifact.search("sample2")] == [
        "project2/sample2.txt",
        *(f"project{i % 3}/sample{i}.txt" for i in range(20, 30)),
    ]
    assert ln.Artifact.search("batch 17").one().key == "project2/sample17.txt"
    # every word in the name: "bulk", "label" and a "1" anywhere in the number
    assert ln.ULabel.search("bulk label 1", limit=None).count() == sum("1" in str(i) for i in range(600))
    assert ln.ULabel.search("number 599").one().name == "bulk label 599"
    assert ln.ULabel.filter(name__startswith="bulk label").count() == 600
    ln.Artifact.filter(key__startswith="project1/").delete(permanent=True)
    fts_in_sync("artifact")
    assert ln.Artifact.filter(branch_id=None).search("project1/").count() == 0


def test_other_registries_stay_in_sync_too(ln: ModuleType) -> None:
    transform = ln.Transform(key="pipelines/align.py", description="aligns reads").save()
    run = ln.Run(transform, name="nightly alignment").save()
    ln.Project(name="atlas of the gut").save()
    ln.Feature(name="cell_type_by_expert", dtype=str).save()
    assert ln.Transform.search("align").one() == transform
    assert ln.Run.search("nightly").one() == run
    assert ln.Run.search(run.uid[:8]).one() == run
    assert ln.Project.search("gut").one().name == "atlas of the gut"
    assert ln.Feature.search("by_expert").one().name == "cell_type_by_expert"
    transform.delete(permanent=True)  # its runs go with it (ON DELETE CASCADE): triggers fire there too
    for table in ("transform", "run", "project", "feature"):
        fts_in_sync(table)
    assert ln.Run.filter(branch_id=None).search("nightly").count() == 0


def test_an_instance_without_the_index_scans_and_says_so_once(
    ln: ModuleType, labels: None, caplog: pytest.LogCaptureFixture
) -> None:
    instance = state.current()
    with instance.db.write() as session:
        session.connection().exec_driver_sql(
            "UPDATE instance_setting SET value = 'scan' WHERE name = 'search_index'"
        )
    instance._search_index = None  # read again, as a new process would
    with caplog.at_level(logging.WARNING, logger="lamella"):
        first = ln.ULabel.search("t cell")
        again = ln.ULabel.search("cell")
    assert not uses_fts(first) and not uses_fts(again)
    assert first.to_list("name")[:3] == ["T cell", "T cell receptor", "Regulatory T cell"]
    warnings = [r.getMessage() for r in caplog.records if "search scans whole tables" in r.getMessage()]
    assert len(warnings) == 1 and "lamella migrate" in warnings[0]


def test_migrate_makes_the_index_an_instance_recorded_it_lacks(ln: ModuleType, labels: None) -> None:
    """An instance made where SQLite had no FTS5 trigram: `lamella migrate` on a SQLite that has it
    builds the FTS tables from the rows there are."""
    instance = state.current()
    with instance.db.write() as session:
        connection = session.connection()
        for table in search_index.SEARCH_FIELDS:
            for statement in search_index.sqlite_drop_statements(table):
                connection.exec_driver_sql(statement)
        connection.exec_driver_sql("UPDATE instance_setting SET value = 'scan' WHERE name = 'search_index'")
    ln.setup.migrate()
    state.process.reset()
    ln.connect("data")
    assert state.current().search_index == search_index.TRIGRAM
    for table in search_index.SEARCH_FIELDS:
        fts_in_sync(table)
    found = ln.ULabel.search("t cell")
    assert uses_fts(found)
    assert found.to_list("name")[:3] == ["T cell", "T cell receptor", "Regulatory T cell"]


class _Database:
    """Stands in for a Database as a key of trigram_stats' cache."""


def test_the_index_looks_up_the_rare_part_of_a_word_whose_trigrams_are_common() -> None:
    # statistics as pg_stats holds them: a histogram of keys like project7/sample49.parquet
    histogram = [f"project{i}/sample{i * 7}.parquet" for i in range(100)]
    sample = trigram_stats._sample(0.0, None, None, histogram)
    assert sample.share("sam") == pytest.approx(1.0) and sample.share("123") == 0.0
    db = _Database()
    trigram_stats._cache[db] = {"artifact": (time.monotonic(), {"key": sample})}  # type: ignore[index]

    def parts(word: str, field: str = "key") -> list[str] | None:
        return trigram_stats.rare_parts(db, "artifact", field, word)  # type: ignore[arg-type]

    assert parts("sample123") == ["le123"]  # "sam", "amp", "mpl", "ple" are in every row
    assert parts("project7/sample99") == ["le99", "ct7"]  # the rarest part of each run, rarest first
    assert parts("zebra") is None  # nothing common: the whole word
    assert parts("sample") is None  # nothing uncommon: the whole word (it matches nearly everything)
    assert parts("ab") is None
    assert parts("sample123", field="description") is None  # no statistics
    # descriptions: NULL in 3 of 4 rows, so a trigram in every described row is in a quarter of all
    described = trigram_stats._sample(0.75, None, None, ["measurement 1", "measurement 2"])
    assert described.share("mea") == pytest.approx(0.25)
    common = trigram_stats._sample(0.0, ["x/abc", "x/abd"], [0.5, 0.25], ["x/zzz"])
    assert (common.share("abc"), common.share("zzz")) == (pytest.approx(0.5), pytest.approx(0.25))
