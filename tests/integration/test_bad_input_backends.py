"""The limits PostgreSQL enforces, held on SQLite too: the same bad value fails the same way on both.

Each call raises a LamellaError naming the field or lookup and the limit, writes no row, and leaves
the session working (see tests/bad_input.py). The SQLite-only details are in tests/unit/test_bad_input.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lamella as ln
from bad_input import assert_session_works, deep_dict, refused
from lamella.errors import DoesNotExist, InvalidArgument, ValidationError

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]


@pytest.fixture
def instance(db_url: str | None, tmp_path: Path) -> Path:
    """An instance on the backend under test, with a sentinel label and a saved artifact."""
    ln.setup.init(storage=tmp_path / "data", db=db_url)
    ln.ULabel(name="sentinel").save()
    data = tmp_path / "input" / "data.txt"
    data.parent.mkdir()
    data.write_text("hello\n")
    return data


@pytest.fixture
def artifact(instance: Path) -> Any:
    return ln.Artifact(str(instance), key="data.txt").save()


def test_names_over_150_characters(instance: Path) -> None:
    refused(ValidationError, lambda: ln.ULabel(name="x" * 151).save(), "ULabel.name", "limit of 150")
    refused(
        ValidationError, lambda: ln.ULabel(name="é" * 151).save(), "limit of 150"
    )  # characters, not bytes
    assert ln.ULabel(name="é" * 150).save().name == "é" * 150


def test_keys_over_1024_characters(instance: Path) -> None:
    key = "k" * 1021 + ".txt"
    refused(ValidationError, lambda: ln.Artifact(str(instance), key=key).save(), "Artifact.key", "1024")


@pytest.mark.parametrize(("text", "problem"), [("a\x00b", "NUL"), ("a\ud800", "surrogate")])
def test_nul_and_surrogates_in_text(instance: Path, text: str, problem: str) -> None:
    refused(ValidationError, lambda: ln.ULabel(name=text).save(), "ULabel.name", problem)
    refused(
        ValidationError, lambda: ln.ULabel(name="ok", description=text).save(), "ULabel.description", problem
    )
    refused(InvalidArgument, lambda: ln.ULabel.filter(name__startswith=text).count(), problem)


@pytest.mark.parametrize("number", [float("inf"), float("nan")])
def test_non_finite_numbers_in_json(artifact: Any, number: float) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="config", dtype=dict).save()
    transform = ln.Transform(key="script.py").save()
    refused(ValidationError, lambda: artifact.features.add_values({"temperature": number}), "temperature")
    refused(ValidationError, lambda: artifact.features.add_values({"config": {"a": number}}), "finite")
    refused(ValidationError, lambda: ln.Run(transform=transform, params={"lr": number}).save(), "Run.params")


def test_nul_and_deep_nesting_in_json(artifact: Any) -> None:
    ln.Feature(name="config", dtype=dict).save()
    refused(ValidationError, lambda: artifact.features.add_values({"config": {"a": "x\x00"}}), "NUL")
    refused(ValidationError, lambda: artifact.features.add_values({"config": deep_dict(2000)}), "nested")


def test_integers_beyond_their_column(instance: Path) -> None:
    refused(InvalidArgument, lambda: ln.Artifact.get(2**64), "64-bit")
    refused(ValidationError, lambda: ln.Feature(name="f", dtype=int, array_rank=2**40).save(), "32-bit")


def test_wrong_types_in_fields_and_lookups(instance: Path) -> None:
    refused(ValidationError, lambda: ln.ULabel(name={"a": 1}).save(), "ULabel.name", "{'a': 1}")
    refused(InvalidArgument, lambda: ln.Artifact.filter(key=1.5).count(), "lookup key", "1.5")
    refused(InvalidArgument, lambda: ln.Artifact.filter(id="abc").count(), "lookup id")
    refused(InvalidArgument, lambda: ln.Artifact.filter(is_latest__gt=None).count(), "is_latest__gt")
    refused(InvalidArgument, lambda: ln.Artifact.filter(created_at__gt=[1, 2]).count(), "created_at__gt")
    refused(InvalidArgument, lambda: ln.Run.filter(params__contains="x").count(), "params__contains")
    refused(InvalidArgument, lambda: ln.Run.filter(params__a={"b": 1}).count(), "params__a")
    assert ln.Artifact.filter(is_latest=1).count() == 0  # 0/1 mean False/True on both


def test_regular_expressions(instance: Path) -> None:
    refused(InvalidArgument, lambda: ln.ULabel.filter(name__regex="(").count(), "'('", "regular expression")
    # valid in Python, refused by PostgreSQL's engine: the safety net at the session says so
    try:
        ln.ULabel.filter(name__regex="(?P<n>sentinel)").count()
    except InvalidArgument as e:
        assert "regular expression" in str(e)
    assert_session_works()


def test_a_categorical_dtype_with_an_unknown_field(instance: Path) -> None:
    refused(ValidationError, lambda: ln.Feature(name="f", dtype="cat[ULabel.nope]"), "'nope'", "valid fields")


def test_changing_a_record_another_process_deleted(instance: Path) -> None:
    from lamella._instance import state

    label, other = ln.ULabel(name="doomed").save(), ln.ULabel(name="doomed too").save()
    with state.current().db.engine.connect() as connection:  # a connection of its own, as another process
        connection.exec_driver_sql(f"DELETE FROM ulabel WHERE id IN ({label.id}, {other.id})")
        connection.commit()
    refused(DoesNotExist, label.delete, "deleted by another process")
    refused(DoesNotExist, lambda: other.delete(permanent=True), "deleted by another process")
