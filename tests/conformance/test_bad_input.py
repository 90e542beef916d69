"""Bad input raises a LamellaError naming the value and the limit, writes nothing, and leaves the session working.

Each test is one kind of value that used to escape as a driver or library error (named in the test).
SQLite is held to PostgreSQL's limits: every test runs on both databases.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from bad_input import assert_session_works, deep_dict, files_under, refused, row_counts
from lamella.errors import DoesNotExist, InvalidArgument, LamellaError, ValidationError


@pytest.fixture
def ln(db_url: str | None, storage_root: Path) -> ModuleType:
    """A fresh instance on the backend under test, with a sentinel label."""
    import lamella

    lamella.setup.init(storage=storage_root, db=db_url)
    lamella.ULabel(name="sentinel").save()  # assert_session_works() reads it back after every refusal
    return lamella


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "input" / "data.txt"
    path.parent.mkdir()
    path.write_text("hello\n")
    return path


# --- field values at save ---------------------------------------------------------------------------


def test_an_id_beyond_64_bits_is_an_invalid_argument_not_an_overflow(ln: ModuleType) -> None:
    # was OverflowError: Python int too large to convert to SQLite INTEGER
    refused(InvalidArgument, lambda: ln.Artifact.get(2**64), "18446744073709551616", "64-bit")
    refused(InvalidArgument, lambda: ln.ULabel.filter(id=-(2**63) - 1).count(), "64-bit")
    with pytest.raises(DoesNotExist):
        ln.Artifact.get(2**63 - 1)  # the largest id is a valid question


def test_a_dict_for_a_text_field_is_refused_naming_the_field(ln: ModuleType) -> None:
    # was sqlalchemy ProgrammingError: Error binding parameter 2: type 'dict' is not supported
    refused(ValidationError, lambda: ln.ULabel(name={"a": 1}).save(), "ULabel.name", "{'a': 1}", "str")
    refused(ValidationError, lambda: ln.ULabel(name="ok", description=["x"]).save(), "ULabel.description")


@pytest.mark.parametrize(
    ("make", "field", "limit"),
    [
        (lambda ln, n: ln.ULabel(name="x" * n), "ULabel.name", 150),
        (lambda ln, n: ln.Feature(name="x" * n, dtype=float), "Feature.name", 150),
        (lambda ln, n: ln.Project(name="p", abbr="x" * n), "Project.abbr", 32),
        (lambda ln, n: ln.Reference(name="r", url="x" * n), "Reference.url", 500),
    ],
)
def test_text_longer_than_its_column_is_refused_on_sqlite_too(
    ln: ModuleType, make: Any, field: str, limit: int
) -> None:
    # PostgreSQL raised DataError (value too long for type character varying); SQLite stored it
    refused(ValidationError, lambda: make(ln, limit + 1).save(), field, str(limit + 1), f"limit of {limit}")
    make(ln, limit).save()  # the limit itself fits


def test_the_limit_counts_characters_not_bytes(ln: ModuleType) -> None:
    refused(ValidationError, lambda: ln.ULabel(name="é" * 151).save(), "limit of 150")
    assert ln.ULabel(name="é" * 150).save().name == "é" * 150


def test_a_key_longer_than_1024_characters_is_refused(ln: ModuleType, data_file: Path) -> None:
    key = "k" * 1021 + ".txt"
    refused(ValidationError, lambda: ln.Artifact(str(data_file), key=key).save(), "Artifact.key", "1024")


@pytest.mark.parametrize(("text", "problem"), [("a\x00b", "NUL"), ("a\ud800", "surrogate")])
def test_nul_and_lone_surrogates_in_text_are_refused(ln: ModuleType, text: str, problem: str) -> None:
    # NUL was a DataError on PostgreSQL (stored on SQLite); a surrogate a UnicodeEncodeError on both
    refused(ValidationError, lambda: ln.ULabel(name=text).save(), "ULabel.name", problem)
    refused(
        ValidationError, lambda: ln.ULabel(name="ok", description=text).save(), "ULabel.description", problem
    )
    refused(InvalidArgument, lambda: ln.ULabel.filter(name=text).count(), "lookup name", problem)
    refused(InvalidArgument, lambda: ln.ULabel.filter(name__contains=text).count(), problem)
    refused(InvalidArgument, lambda: ln.ULabel.filter(name__startswith=text).count(), problem)


def test_a_field_is_checked_when_assigned(ln: ModuleType) -> None:
    label = ln.ULabel(name="fine").save()
    with pytest.raises(ValidationError, match="limit of 150"):
        label.name = "x" * 200
    assert label.name == "fine"
    label.save()
    assert ln.ULabel.get(label.id).name == "fine"


def test_json_changed_in_place_is_checked_at_save(ln: ModuleType) -> None:
    transform = ln.Transform(key="script.py").save()
    run = ln.Run(transform=transform, params={"lr": 0.1})
    run.params["lr"] = float("inf")  # no assignment: only the save can see it
    refused(ValidationError, run.save, "Run.params", "finite")


def test_records_saved_in_bulk_are_checked_too(ln: ModuleType) -> None:
    good = ln.Feature(name="good", dtype=float)
    bad = ln.Feature(name="bad", dtype=dict, default_value={"a": 1})
    bad.default_value["a"] = float("nan")  # changed in place after the constructor checked it
    refused(ValidationError, lambda: ln.save([good, bad]), "Feature.default_value", "finite")
    assert not ln.Feature.filter(name="good").exists()


@pytest.mark.parametrize("number", [2**31, -(2**31) - 1, 2**40])
def test_integer_fields_keep_the_range_of_their_postgresql_type(ln: ModuleType, number: int) -> None:
    # PostgreSQL raised DataError (integer out of range); SQLite stored the number
    refused(ValidationError, lambda: ln.Feature(name="f", dtype=float, array_rank=number).save(), "32-bit")
    refused(
        ValidationError,
        lambda: ln.Reference(name="r", pubmed_id=2**63).save(),
        "Reference.pubmed_id",
        "64-bit",
    )
    refused(ValidationError, lambda: ln.Reference(name="r", pubmed_id=True).save(), "integer")


def test_a_required_field_left_empty_says_so(ln: ModuleType) -> None:
    # was an IntegrityError saying "a value that must be unique is taken"
    refused(ValidationError, lambda: ln.ULabel().save(), "ULabel.name is required")


def test_a_to_one_field_takes_a_record(ln: ModuleType) -> None:
    # was AttributeError: 'str' object has no attribute '_sa_instance_state'
    refused(InvalidArgument, lambda: ln.Run(transform="script.py"), "Run.transform", "Transform record")


# --- JSON values -------------------------------------------------------------------------------------


@pytest.fixture
def artifact(ln: ModuleType, data_file: Path) -> Any:
    return ln.Artifact(str(data_file), key="data.txt").save()


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers_are_refused_in_json(ln: ModuleType, artifact: Any, number: float) -> None:
    # PostgreSQL raised DataError (Token "Infinity" is invalid); SQLite stored them
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="config", dtype=dict).save()
    transform = ln.Transform(key="script.py").save()
    refused(ValidationError, lambda: artifact.features.add_values({"temperature": number}), "temperature")
    refused(ValidationError, lambda: artifact.features.add_values({"config": {"a": [number]}}), "finite")
    refused(ValidationError, lambda: artifact.features.add_values({"config": {"a": number}}), "finite")
    refused(ValidationError, lambda: ln.Run(transform=transform, params={"lr": number}).save(), "Run.params")
    assert artifact.features.get_values() == {}


def test_a_dict_nested_2000_deep_is_refused_not_a_recursion_error(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="config", dtype=dict).save()
    transform = ln.Transform(key="script.py").save()
    deep = deep_dict(2000)
    refused(ValidationError, lambda: artifact.features.add_values({"config": deep}), "nested", "64")
    refused(ValidationError, lambda: ln.Run(transform=transform, params=deep).save(), "Run.params", "nested")
    ln.Run(transform=transform, params=deep_dict(10)).save()  # moderate nesting is fine


def test_text_in_json_follows_the_text_rules(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="config", dtype=dict).save()
    refused(ValidationError, lambda: artifact.features.add_values({"config": {"a": "x\x00"}}), "NUL")
    refused(ValidationError, lambda: artifact.features.add_values({"config": {"a\ud800": 1}}), "surrogate")
    refused(ValidationError, lambda: artifact.features.add_values({"config": {"a": b"bytes"}}), "JSON")


def test_an_int_feature_value_beyond_64_bits_is_refused(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="reads", dtype=int).save()
    refused(ValidationError, lambda: artifact.features.add_values({"reads": 2**64}), "reads", "64-bit")


# --- DataFrames ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    [[1, "x"], [0, False], [{"a": 1}, 3], [2**70, 1], [deep_dict(2000)]],
    ids=["int-str", "int-bool", "dict-int", "int-beyond-64-bits", "nested-2000-deep"],
)
def test_a_dataframe_parquet_cannot_hold_is_a_validation_error_naming_the_column(
    ln: ModuleType, tmp_path: Path, column: list[Any]
) -> None:
    # was pyarrow ArrowInvalid / ArrowTypeError (and for the deep dict, a crash from exhausted memory)
    files = files_under(tmp_path)
    df = pd.DataFrame({"mixed": pd.Series(column, dtype=object), "fine": range(len(column))})
    refused(ValidationError, lambda: ln.Artifact.from_dataframe(df, key="t.parquet").save(), "'mixed'")
    assert files_under(tmp_path) == files  # nothing staged, nothing stored


# --- lookups ------------------------------------------------------------------------------------------


def test_a_float_for_a_text_field_is_refused(ln: ModuleType) -> None:
    # PostgreSQL: ProgrammingError (operator does not exist: character varying = double precision)
    refused(InvalidArgument, lambda: ln.Artifact.filter(key=1.5).count(), "lookup key", "1.5", "str")


def test_an_order_lookup_with_none_is_refused(ln: ModuleType) -> None:
    # was sqlalchemy ArgumentError: Only '=', '!=', 'is_()' ... can be used with None/True/False
    refused(InvalidArgument, lambda: ln.Artifact.filter(is_latest__gt=None).count(), "is_latest__gt", "None")
    refused(InvalidArgument, lambda: ln.Artifact.filter(size__lt=None).count(), "size__lt", "__isnull")
    refused(InvalidArgument, lambda: ln.ULabel.filter(is_type__gt=False).count(), "is_type__gt")


def test_a_list_for_a_datetime_comparison_is_refused(ln: ModuleType) -> None:
    # was sqlalchemy StatementError: (builtins.TypeError) expected a datetime, not [1, 2]
    refused(
        InvalidArgument, lambda: ln.Artifact.filter(created_at__gt=[1, 2]).count(), "created_at__gt", "[1, 2]"
    )
    assert ln.ULabel.filter(created_at__gt="2000-01-01").exists()  # ISO strings still work


def test_an_invalid_regex_is_refused_naming_the_pattern(ln: ModuleType) -> None:
    # was OperationalError: user-defined function raised exception
    refused(InvalidArgument, lambda: ln.Artifact.filter(key__regex="(").count(), "'('", "regular expression")
    refused(InvalidArgument, lambda: ln.ULabel.filter(name__iregex="[a-").count(), "'[a-'")
    refused(InvalidArgument, lambda: ln.ULabel.filter(name__regex="(").count(), "'('", "regular expression")
    # valid in Python, refused by PostgreSQL's engine: the safety net at the session says so
    try:
        ln.ULabel.filter(name__regex="(?P<n>sentinel)").count()
    except InvalidArgument as e:
        assert "regular expression" in str(e)
    assert_session_works()


@pytest.mark.parametrize(
    ("lookup", "value", "fragment"),
    [
        ("id", "abc", "numbers"),
        ("id__in", 5, "list"),
        ("name__in", "abc", "list"),
        ("is_type", "yes", "True or False"),
        ("id__range", 5, "(low, high)"),
        ("name__contains", 5, "string"),
        ("created_at__contains", "2025", "text fields"),
        ("name__isnull", [1], "True or False"),
        ("type", "Sample", "numbers"),
        ("created_at", object(), "datetime"),
    ],
)
def test_lookup_values_of_the_wrong_type_are_refused(
    ln: ModuleType, lookup: str, value: Any, fragment: str
) -> None:
    refused(InvalidArgument, lambda: ln.ULabel.filter(**{lookup: value}).count(), fragment)


def test_json_fields_are_compared_by_key_with_plain_values(ln: ModuleType) -> None:
    refused(InvalidArgument, lambda: ln.Run.filter(params__contains="x").count(), "params__contains")
    refused(InvalidArgument, lambda: ln.Artifact.filter(id="abc").count(), "lookup id")
    refused(InvalidArgument, lambda: ln.Artifact.filter(created_at__gt=[1, 2]).count(), "created_at__gt")
    assert ln.Artifact.filter(is_latest=1).count() == 0  # 0/1 mean False/True on both
    refused(InvalidArgument, lambda: ln.Run.filter(params__a={"b": 1}).count(), "params__a")
    refused(InvalidArgument, lambda: ln.Run.filter(params__a=2**1100).count(), "64-bit")
    refused(InvalidArgument, lambda: ln.Run.filter(params__a__in=[1, "x"]).count(), "numbers")


def test_feature_lookups_check_their_values(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    refused(InvalidArgument, lambda: ln.Artifact.filter(temperature__gt=float("nan")).count(), "temperature")
    refused(InvalidArgument, lambda: ln.Artifact.filter(experiment=5).count(), "experiment", "str")
    refused(InvalidArgument, lambda: ln.Artifact.filter(experiment__regex="(").count(), "regular expression")
    refused(InvalidArgument, lambda: ln.Artifact.filter(**{"temp\x00": 1}).count(), "NUL")


# --- feature dtypes -----------------------------------------------------------------------------------


def test_a_categorical_dtype_naming_an_unknown_field_is_refused_at_creation(ln: ModuleType) -> None:
    # was accepted, and failed at query time with AttributeError: type object 'ULabel' has no attribute 'nope'
    error = refused(
        ValidationError,
        lambda: ln.Feature(name="f", dtype="cat[ULabel.nope]"),
        "'nope'",
        "ULabel",
        "valid fields",
    )
    assert "valid fields" in str(error) and "name" in str(error)
    refused(ValidationError, lambda: ln.Feature(name="f", dtype="cat[Nope]"), "no registry named 'Nope'")
    assert ln.Feature(name="f", dtype="cat[ULabel.description]").save().dtype == "cat[ULabel.description]"


def test_a_stored_dtype_naming_an_unknown_field_fails_queries_with_a_validation_error(ln: ModuleType) -> None:
    feature = ln.Feature(name="f", dtype="cat[ULabel]").save()
    feature.dtype = "cat[ULabel.nope]"  # as an instance made before fields were checked has it
    feature.save()
    refused(ValidationError, lambda: ln.Artifact.filter(f="x").count(), "'nope'", "valid fields")


@pytest.mark.parametrize("dtype", [{"a": 1}, [[float]], "list[" * 100 + "int" + "]" * 100])
def test_odd_dtypes_are_invalid_arguments(ln: ModuleType, dtype: Any) -> None:
    refused(InvalidArgument, lambda: ln.Feature(name="f", dtype=dtype))


# --- records deleted by another process ---------------------------------------------------------------


def _delete_elsewhere(ln: ModuleType, record: Any) -> None:
    """Delete the row through a connection of its own, as another process would."""
    from lamella._instance import state

    with state.current().db.engine.connect() as connection:  # a connection of its own
        connection.exec_driver_sql(f'DELETE FROM "{record.__tablename__}" WHERE id = {int(record.id)}')
        connection.commit()


@pytest.mark.parametrize("action", ["trash", "delete permanently", "update", "restore"])
def test_changing_a_record_another_process_deleted_is_does_not_exist(ln: ModuleType, action: str) -> None:
    # was StaleDataError (UPDATE expected to update 1 row; 0 were matched), or a silent no-op
    label = ln.ULabel(name="doomed").save()
    if action == "restore":
        label.delete()
    _delete_elsewhere(ln, label)
    calls = {
        "trash": label.delete,
        "delete permanently": lambda: label.delete(permanent=True),
        "update": lambda: (setattr(label, "description", "new"), label.save()),
        "restore": label.restore,
    }
    refused(DoesNotExist, calls[action], "deleted by another process")


# --- the session after a failure ----------------------------------------------------------------------


def test_after_any_refused_call_the_next_lookups_and_writes_work(ln: ModuleType) -> None:
    for bad in (lambda: ln.Artifact.get(2**64), lambda: ln.ULabel(name="a\ud800").save()):
        with pytest.raises(LamellaError):
            bad()
        assert_session_works()
        ln.ULabel(name=f"after-{row_counts()['ulabel']}").save()
        assert ln.ULabel.get(name="sentinel").name == "sentinel"
