"""Validation helpers on every registry: validate, inspect, standardize, from_values, synonyms, abbreviations."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lamella._instance import state
from lamella.errors import InvalidArgument


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The "lamella" logger does not propagate to the root logger; hand its records to caplog."""
    logger = logging.getLogger("lamella")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="lamella")
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


def _messages(log: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in log.records]


@pytest.fixture
def labels(ln: ModuleType) -> dict[str, Any]:
    perturbation = ln.ULabel(name="Perturbation", is_type=True).save()
    return {
        "Perturbation": perturbation,
        "DMSO": ln.ULabel(name="DMSO", type=perturbation).save(),
        "IFNG": ln.ULabel(name="IFNG", type=perturbation).save(),
        "control": ln.ULabel(name="control").save(),
    }


def _count_selects(ln: ModuleType) -> list[str]:
    """Every SELECT the SQLite driver runs from now on (also those sent around SQLAlchemy)."""
    statements: list[str] = []
    driver: Any = state.current().db.session().connection().connection.driver_connection
    driver.set_trace_callback(
        lambda sql: statements.append(sql) if sql.lstrip().startswith("SELECT") else None
    )
    return statements


# ---- validate -------------------------------------------------------------------------------------


def test_validate_a_list(ln: ModuleType, labels: dict[str, Any]) -> None:
    result = ln.ULabel.validate(["DMSO", "IFNG", "nope"], field="name")
    assert isinstance(result, np.ndarray) and result.dtype == bool
    assert result.tolist() == [True, True, False]


@pytest.mark.parametrize(
    "values",
    [
        ("DMSO", "nope", "IFNG"),
        pd.Series(["DMSO", "nope", "IFNG"], index=[10, 20, 30]),
        pd.Series(["DMSO", "nope", "IFNG"], dtype="category"),
        pd.Index(["DMSO", "nope", "IFNG"]),
        np.array(["DMSO", "nope", "IFNG"]),
    ],
)
def test_validate_other_containers(ln: ModuleType, labels: dict[str, Any], values: Any) -> None:
    assert ln.ULabel.validate(values, field="name").tolist() == [True, False, True]


def test_validate_a_single_value_the_default_field_and_a_field_attribute(
    ln: ModuleType, labels: dict[str, Any]
) -> None:
    assert ln.ULabel.validate("DMSO").tolist() == [True]
    assert not ln.ULabel.validate("nope", mute=True)
    assert ln.ULabel.validate(["control", "DMSO"], field=ln.ULabel.name).tolist() == [True, True]
    uid = labels["DMSO"].uid
    assert ln.ULabel.validate([uid, "DMSO"], field=ln.ULabel.uid, mute=True).tolist() == [True, False]


def test_validate_is_exact_and_skips_missing_values(ln: ModuleType, labels: dict[str, Any]) -> None:
    values = ["dmso", "DMSO ", None, float("nan"), "DMSO"]
    assert ln.ULabel.validate(values, mute=True).tolist() == [False, False, False, False, True]
    assert ln.ULabel.validate([], field="name").tolist() == []


def test_validate_logs_the_values_that_are_not_validated(
    ln: ModuleType, labels: dict[str, Any], log: pytest.LogCaptureFixture
) -> None:
    ln.ULabel.validate(["DMSO", "x", "y", "x"], field="name")
    assert _messages(log) == ["2 terms not validated: 'x', 'y'"]
    assert log.records[0].levelno == logging.WARNING
    log.clear()
    ln.ULabel.validate(["z"])
    assert _messages(log) == ["1 term not validated: 'z'"]
    log.clear()
    ln.ULabel.validate(["x", "y"], mute=True)
    ln.ULabel.validate(["DMSO"])
    assert _messages(log) == []


def test_validate_counts_only_the_main_branch(ln: ModuleType, labels: dict[str, Any]) -> None:
    labels["IFNG"].delete()  # to the trash
    assert ln.ULabel.validate(["DMSO", "IFNG"], mute=True).tolist() == [True, False]
    labels["IFNG"].restore()
    assert ln.ULabel.validate(["DMSO", "IFNG"]).tolist() == [True, True]


def test_validate_numbers_and_other_registries(ln: ModuleType, tmp_path: Path) -> None:
    reference = ln.Reference(name="a paper", pubmed_id=12345).save()
    assert ln.Reference.validate([12345, "12345", 1, "x"], field="pubmed_id", mute=True).tolist() == [
        True,
        True,
        False,
        False,
    ]
    assert ln.Reference.validate(["a paper"]).tolist() == [True]
    ln.Transform(key="pipeline.py", kind="script").save()
    assert ln.Transform.validate(["pipeline.py", "other.py"], mute=True).tolist() == [True, False]
    path = tmp_path / "a.txt"
    path.write_text("a")
    ln.Artifact(path, key="files/a.txt").save()
    assert ln.Artifact.validate(["files/a.txt", "b.txt"], field="key", mute=True).tolist() == [True, False]
    assert reference.id is not None


def test_validate_rejects_unknown_fields(ln: ModuleType, labels: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument, match="ULabel has no field 'nope'"):
        ln.ULabel.validate(["DMSO"], field="nope")
    with pytest.raises(InvalidArgument, match=r"Feature\.name is not a field of ULabel"):
        ln.ULabel.validate(["DMSO"], field=ln.Feature.name)
    with pytest.raises(InvalidArgument, match="DataFrame"):
        ln.ULabel.validate(pd.DataFrame({"a": ["DMSO"]}))


def test_validate_100_000_values_in_one_query_per_10_000(ln: ModuleType) -> None:
    # its speed is measured in benchmarks/bench_labels.py: a timed assertion fails on a loaded machine
    ln.save([ln.ULabel(name=f"label {i}") for i in range(20_000)])
    values = [f"label {i}" for i in range(50_000)] + [f"other {i}" for i in range(50_000)]
    ln.ULabel.validate(values[:10], mute=True)  # warm up the connection
    selects = _count_selects(ln)
    result = ln.ULabel.validate(values, mute=True)
    assert int(result.sum()) == 20_000 and result[:20_000].all() and not result[20_000:].any()
    assert len(selects) == 10  # one query per 10,000 distinct values


# ---- inspect --------------------------------------------------------------------------------------


def test_inspect(ln: ModuleType, labels: dict[str, Any], log: pytest.LogCaptureFixture) -> None:
    labels["DMSO"].add_synonym("dimethyl sulfoxide")
    result = ln.ULabel.inspect(["IFNG", "nope", "DMSO", "dimethyl sulfoxide", "nope", "IFNG"], field="name")
    assert result.validated == ["IFNG", "DMSO"]
    assert result.non_validated == ["nope", "dimethyl sulfoxide"]
    assert result.synonyms_mapper == {"dimethyl sulfoxide": "DMSO"}
    assert result.frac_validated == 0.5
    assert "validated=['IFNG', 'DMSO']" in repr(result) and "non_validated=['nope'" in repr(result)
    assert _messages(log)[-1] == (
        "2 terms not validated: 'nope', 'dimethyl sulfoxide'; 1 is a synonym, standardize with: "
        "ULabel.standardize(values); create the rest with: records = ULabel.from_values(['nope'], "
        "field='name', create=True); ln.save(records)"
    )
    assert log.records[-1].levelno == logging.WARNING


def test_inspect_without_synonyms_and_when_all_are_validated(
    ln: ModuleType, labels: dict[str, Any], log: pytest.LogCaptureFixture
) -> None:
    result = ln.ULabel.inspect(pd.Series(["a", "b", "DMSO"]), field=ln.ULabel.name)
    assert result.non_validated == ["a", "b"] and result.synonyms_mapper == {}
    assert _messages(log) == [
        "2 terms not validated: 'a', 'b'; create them with: records = ULabel.from_values(['a', 'b'], "
        "field='name', create=True); ln.save(records)"
    ]
    log.clear()
    result = ln.ULabel.inspect(["DMSO", "IFNG"])
    assert result.validated == ["DMSO", "IFNG"] and result.non_validated == []
    assert all(record.levelno < logging.WARNING for record in log.records)
    log.clear()
    ln.ULabel.inspect(["nope"], mute=True)
    assert _messages(log) == []


def test_inspect_maps_case_variants_and_ignores_the_trash(ln: ModuleType, labels: dict[str, Any]) -> None:
    labels["control"].delete()
    result = ln.ULabel.inspect(["dmso", "control"], mute=True)
    assert result.validated == []
    assert result.synonyms_mapper == {"dmso": "DMSO"}
    assert result.non_validated == ["dmso", "control"]


# ---- standardize ----------------------------------------------------------------------------------


def test_standardize_synonyms_and_case_variants(ln: ModuleType, labels: dict[str, Any]) -> None:
    ln.ULabel.get(name="DMSO").add_synonym("dimethyl sulfoxide")
    assert ln.ULabel.standardize(["dimethyl sulfoxide", "IFNG"], field="name") == ["DMSO", "IFNG"]
    assert ln.ULabel.standardize(["Dimethyl Sulfoxide", "ifng", "unknown", "DMSO"]) == [
        "DMSO",
        "IFNG",
        "unknown",
        "DMSO",
    ]
    assert ln.ULabel.standardize(("ifng",)) == ["IFNG"]
    assert ln.ULabel.standardize("dimethyl sulfoxide") == "DMSO"
    assert ln.ULabel.standardize("unknown") == "unknown"


def test_standardize_case_sensitive(ln: ModuleType, labels: dict[str, Any]) -> None:
    labels["DMSO"].add_synonym("dimethyl sulfoxide")
    result = ln.ULabel.standardize(["ifng", "Dimethyl Sulfoxide", "dimethyl sulfoxide"], case_sensitive=True)
    assert result == ["ifng", "Dimethyl Sulfoxide", "DMSO"]


def test_standardize_prefers_exact_matches_over_synonyms(ln: ModuleType, labels: dict[str, Any]) -> None:
    labels["DMSO"].add_synonym("ifng-like", save=True)
    ln.ULabel(name="ifng-like").save()  # also a name of its own
    assert ln.ULabel.standardize(["ifng-like"]) == ["ifng-like"]
    # an exact-case synonym beats a case variant of another record's name
    labels["control"].add_synonym("dmso")
    assert ln.ULabel.standardize(["dmso", "Dmso"]) == ["control", "DMSO"]


def test_standardize_returns_the_container_it_was_given(ln: ModuleType, labels: dict[str, Any]) -> None:
    series = pd.Series(["dmso", "x"], index=["a", "b"], name="perturbation")
    result = ln.ULabel.standardize(series)
    assert isinstance(result, pd.Series)
    assert result.tolist() == ["DMSO", "x"] and result.index.tolist() == ["a", "b"]
    assert result.name == "perturbation"
    index = ln.ULabel.standardize(pd.Index(["ifng", "DMSO"], name="labels"))
    assert isinstance(index, pd.Index) and index.tolist() == ["IFNG", "DMSO"] and index.name == "labels"
    array = ln.ULabel.standardize(np.array(["ifng", "y"]))
    assert isinstance(array, np.ndarray) and array.tolist() == ["IFNG", "y"]


def test_standardize_return_mapper_and_return_field(ln: ModuleType, labels: dict[str, Any]) -> None:
    labels["DMSO"].add_synonym(["dimethyl sulfoxide", "DMSO solvent"])
    mapper = ln.ULabel.standardize(
        ["dimethyl sulfoxide", "DMSO", "ifng", "unknown", "dmso solvent"], return_mapper=True
    )
    assert mapper == {"dimethyl sulfoxide": "DMSO", "ifng": "IFNG", "dmso solvent": "DMSO"}
    uids = ln.ULabel.standardize(["dimethyl sulfoxide", "IFNG", "unknown"], return_field="uid")
    assert uids == [labels["DMSO"].uid, labels["IFNG"].uid, "unknown"]
    assert ln.ULabel.standardize(["IFNG"], return_field=ln.ULabel.uid, return_mapper=True) == {
        "IFNG": labels["IFNG"].uid
    }


def test_standardize_keep_for_a_synonym_of_several_records(ln: ModuleType, labels: dict[str, Any]) -> None:
    labels["DMSO"].add_synonym("solvent")
    labels["control"].add_synonym("solvent", force=True)
    assert ln.ULabel.standardize(["solvent"]) == ["DMSO"]
    assert ln.ULabel.standardize(["solvent"], keep="last") == ["control"]
    assert ln.ULabel.standardize(["solvent"], keep=False) == [["DMSO", "control"]]
    with pytest.raises(InvalidArgument, match="keep"):
        ln.ULabel.standardize(["solvent"], keep="all")


def test_standardize_logs_what_it_changed(
    ln: ModuleType, labels: dict[str, Any], log: pytest.LogCaptureFixture
) -> None:
    ln.ULabel.standardize(["ifng", "DMSO"])
    assert _messages(log) == ["standardized 1 of 2 terms: 'ifng' → 'IFNG'"]
    log.clear()
    ln.ULabel.standardize(["ifng"], mute=True)
    assert _messages(log) == []


def test_standardize_on_a_registry_without_synonyms(ln: ModuleType) -> None:
    ln.Reference(name="Nature paper").save()
    assert ln.Reference.standardize(["nature paper", "other"]) == ["Nature paper", "other"]
    with pytest.raises(InvalidArgument, match="Reference has no field 'aliases'"):
        ln.Reference.standardize(["x"], synonyms_field="aliases")


def test_standardize_issues_few_queries(ln: ModuleType, labels: dict[str, Any]) -> None:
    labels["DMSO"].add_synonym("dimethyl sulfoxide")
    values = ["dimethyl sulfoxide", "ifng", "IFNG"] + [f"unknown {i}" for i in range(500)]
    selects = _count_selects(ln)
    result = ln.ULabel.standardize(values, mute=True)
    assert result[:3] == ["DMSO", "IFNG", "IFNG"] and result[3:] == values[3:]
    assert len(selects) == 3  # exact values, the records with synonyms, lowercased values
    selects.clear()
    ln.ULabel.standardize(["DMSO", "IFNG"], mute=True)
    assert len(selects) == 1  # everything matched directly: no synonyms scan


# ---- from_values ----------------------------------------------------------------------------------


def test_from_values_returns_existing_records_in_order(
    ln: ModuleType, labels: dict[str, Any], log: pytest.LogCaptureFixture
) -> None:
    labels["DMSO"].add_synonym("dimethyl sulfoxide")
    records = ln.ULabel.from_values(["IFNG", "DMSO", "nope", "IFNG", "dimethyl sulfoxide"], field="name")
    assert records == [labels["IFNG"], labels["DMSO"]]
    assert all(isinstance(record, ln.ULabel) and record.id is not None for record in records)
    warnings = [r.getMessage() for r in log.records if r.levelno == logging.WARNING]
    assert warnings == [
        "1 term not found in ULabel.name: 'nope'; create them with: records = ULabel.from_values(['nope'], "
        "field='name', create=True); ln.save(records)"
    ]
    assert ln.ULabel.from_values(pd.Series(["DMSO", "IFNG"]), field=ln.ULabel.name) == [
        labels["DMSO"],
        labels["IFNG"],
    ]


def test_from_values_create(ln: ModuleType, labels: dict[str, Any]) -> None:
    records = ln.ULabel.from_values(["DMSO", "new 1", "new 2", "new 1"], field="name", create=True)
    assert [record.name for record in records] == ["DMSO", "new 1", "new 2"]
    assert records[0] == labels["DMSO"]
    assert records[1].id is None and records[2].id is None  # new and unsaved
    assert not ln.ULabel.filter(name="new 1").exists()
    ln.save(records)
    assert ln.ULabel.validate(["new 1", "new 2"]).all()
    assert ln.ULabel.filter(name__startswith="new ").count() == 2


def test_from_values_with_a_type(ln: ModuleType, labels: dict[str, Any]) -> None:
    perturbation = labels["Perturbation"]
    ln.ULabel(name="DMSO").save()  # the same name without a type
    records = ln.ULabel.from_values(["DMSO", "control", "TNF"], type=perturbation, create=True, mute=True)
    assert records[0] == labels["DMSO"]
    assert [record.name for record in records[1:]] == ["control", "TNF"]
    assert all(record.id is None and record.type == perturbation for record in records[1:])
    ln.save(records)
    assert ln.ULabel.filter(type=perturbation).count() == 4
    assert ln.ULabel.filter(name="control").count() == 2
    assert ln.ULabel.from_values(["DMSO"], mute=True) == [
        labels["DMSO"],
        ln.ULabel.get(name="DMSO", type=None),
    ]  # without type=, every record of that name
    with pytest.raises(InvalidArgument, match="User has no types"):
        ln.User.from_values(["x"], field="handle", type=perturbation)
    with pytest.raises(InvalidArgument, match="not saved"):
        ln.ULabel.from_values(["x"], type=ln.ULabel(name="Unsaved", is_type=True))


def test_from_values_ignores_the_trash_and_can_be_muted(
    ln: ModuleType, labels: dict[str, Any], log: pytest.LogCaptureFixture
) -> None:
    labels["IFNG"].delete()
    assert ln.ULabel.from_values(["IFNG", "DMSO"], mute=True) == [labels["DMSO"]]
    assert _messages(log) == []


# ---- synonyms and abbreviations -------------------------------------------------------------------


def test_add_synonym_saves_a_saved_record(ln: ModuleType, labels: dict[str, Any]) -> None:
    ln.ULabel.get(name="DMSO").add_synonym("dimethyl sulfoxide")
    assert ln.ULabel.get(name="DMSO").synonyms == "dimethyl sulfoxide"
    label = ln.ULabel.get(name="DMSO")
    label.add_synonym(["Me2SO", "dimethyl sulfoxide", "DMSO", " "])  # known ones and its own name are skipped
    assert ln.ULabel.get(name="DMSO").synonyms == "dimethyl sulfoxide|Me2SO"
    label.add_synonym("kept in memory", save=False)
    assert label.synonyms == "dimethyl sulfoxide|Me2SO|kept in memory"
    assert ln.ULabel.filter(name="DMSO").to_list("synonyms") == ["dimethyl sulfoxide|Me2SO"]
    unsaved = ln.ULabel(name="not saved yet")
    unsaved.add_synonym("nsy")
    assert unsaved.id is None and unsaved.synonyms == "nsy"


def test_add_synonym_refuses_separators_and_synonyms_of_other_records(
    ln: ModuleType, labels: dict[str, Any]
) -> None:
    labels["DMSO"].add_synonym("dimethyl sulfoxide")
    with pytest.raises(InvalidArgument, match="cannot contain '\\|'"):
        labels["IFNG"].add_synonym("a|b")
    with pytest.raises(
        InvalidArgument, match="'dimethyl sulfoxide' is already a name or synonym of ULabel"
    ) as e:
        labels["IFNG"].add_synonym("dimethyl sulfoxide")
    assert "name='DMSO'" in str(e.value) and "force=True" in str(e.value)
    with pytest.raises(InvalidArgument, match="'control' is already a name or synonym of ULabel"):
        labels["IFNG"].add_synonym(["interferon gamma", "control"])
    assert ln.ULabel.get(name="IFNG").synonyms is None  # nothing was added
    labels["IFNG"].add_synonym("dimethyl sulfoxide", force=True)
    assert ln.ULabel.get(name="IFNG").synonyms == "dimethyl sulfoxide"


def test_synonyms_of_trashed_records_are_free(ln: ModuleType, labels: dict[str, Any]) -> None:
    labels["DMSO"].add_synonym("dimethyl sulfoxide")
    labels["DMSO"].delete()
    labels["control"].add_synonym("dimethyl sulfoxide")
    assert ln.ULabel.standardize(["dimethyl sulfoxide"]) == ["control"]


def test_remove_synonym(ln: ModuleType, labels: dict[str, Any]) -> None:
    label = labels["DMSO"]
    label.add_synonym(["dimethyl sulfoxide", "Me2SO", "solvent"])
    label.remove_synonym("Me2SO")
    assert ln.ULabel.get(name="DMSO").synonyms == "dimethyl sulfoxide|solvent"
    label.remove_synonym(["dimethyl sulfoxide", "solvent", "never there"])
    assert ln.ULabel.get(name="DMSO").synonyms is None
    assert ln.ULabel.standardize(["solvent"]) == ["solvent"]


def test_feature_synonyms(ln: ModuleType) -> None:
    feature = ln.Feature(name="cell_type", dtype="str").save()
    feature.add_synonym(["celltype", "cell type"])
    assert ln.Feature.standardize(["cell type", "CellType", "tissue"]) == ["cell_type", "cell_type", "tissue"]
    assert ln.Feature.inspect(["celltype"], mute=True).synonyms_mapper == {"celltype": "cell_type"}
    assert ln.Feature.from_values(["celltype"], mute=True) == [feature]


def test_registries_without_synonyms(ln: ModuleType) -> None:
    reference = ln.Reference(name="a paper").save()
    with pytest.raises(InvalidArgument, match="Reference has no synonyms field"):
        reference.add_synonym("paper")
    with pytest.raises(InvalidArgument, match="Reference has no synonyms field"):
        reference.remove_synonym("paper")


def test_set_abbr(ln: ModuleType) -> None:
    project = ln.Project(name="Single-cell atlas").save()
    project.set_abbr("SCA")
    saved = ln.Project.get(name="Single-cell atlas")
    assert saved.abbr == "SCA" and saved.synonyms == "SCA"
    assert ln.Project.standardize(["sca"]) == ["Single-cell atlas"]
    reference = ln.Reference(name="A long paper title").save()
    reference.set_abbr("ALPT")  # no synonyms here: only the abbreviation
    assert ln.Reference.get(name="A long paper title").abbr == "ALPT"
    label = ln.ULabel(name="no abbreviations").save()
    with pytest.raises(InvalidArgument, match="ULabel has no abbr field"):
        label.set_abbr("x")


def test_other_fields_match_exactly(ln: ModuleType, labels: dict[str, Any]) -> None:
    """uids are case-sensitive: inspect() and from_values() resolve synonyms and case only for names."""
    label = ln.ULabel(name="letters only", uid="abcdEFGH").save()
    assert ln.ULabel.from_values(["ABCDefgh", "abcdefgh"], field="uid", mute=True) == []
    assert ln.ULabel.from_values(["abcdEFGH"], field=ln.ULabel.uid) == [label]
    uid = labels["DMSO"].uid
    assert ln.ULabel.inspect([uid.swapcase()], field="uid", mute=True).synonyms_mapper == {}


def test_set_abbr_refuses_another_records_name(ln: ModuleType) -> None:
    ln.Project(name="SCA").save()
    project = ln.Project(name="Single-cell atlas").save()
    with pytest.raises(InvalidArgument, match="'SCA' is already a name or synonym of Project"):
        project.set_abbr("SCA")
    assert project.abbr is None and ln.Project.get(name="Single-cell atlas").abbr is None
