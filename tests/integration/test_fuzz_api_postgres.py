"""Property-based fuzzing of the public API on PostgreSQL, with the strategies of tests/bad_input.py.

The same properties as tests/unit/test_fuzz_api.py (SQLite): every call succeeds or raises a
LamellaError, a failed call leaves no row and no file, and the session keeps working. PostgreSQL
refuses more values than SQLite at the driver and server, so this is where a missed check shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given

import lamella as ln
from bad_input import Call, Fuzzer, add_values_calls, fuzz_settings, read_calls, write_calls

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]


@pytest.fixture
def fuzzer(fresh_pg_db: str, tmp_path: Path) -> Iterator[Fuzzer]:
    """One PostgreSQL instance for all examples of a test."""
    ln.setup.init(storage=tmp_path / "data", db=fresh_pg_db)
    data_file = tmp_path / "input" / "data.txt"
    data_file.parent.mkdir()
    data_file.write_text("fuzz\n")
    yield Fuzzer(tmp_path, data_file)


@fuzz_settings()
@given(call=write_calls)
def test_creating_records_with_hostile_fields(fuzzer: Fuzzer, call: Call) -> None:
    fuzzer.check(call)


@fuzz_settings()
@given(call=read_calls)
def test_queries_with_hostile_lookups(fuzzer: Fuzzer, call: Call) -> None:
    fuzzer.check(call)


@fuzz_settings()
@given(call=add_values_calls)
def test_feature_values_with_hostile_values(fuzzer: Fuzzer, call: Call) -> None:
    fuzzer.check(call)
