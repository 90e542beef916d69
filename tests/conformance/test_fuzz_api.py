"""Property-based fuzzing of the public API on SQLite and PostgreSQL: bad input never escapes the error tree.

Every call either succeeds or raises a LamellaError; a failed call leaves no new row and no new file
(anywhere under the test's folder, which holds LAMELLA_HOME, the cache and the storage); the session
keeps working after each call. PostgreSQL refuses more values than SQLite at the driver and server, so
that is where a missed check shows. The strategies live in tests/bad_input.py. `LAMELLA_FUZZ=deep`
(optionally with LAMELLA_FUZZ_EXAMPLES=N) runs many more examples than CI does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given

import lamella as ln
from bad_input import Call, Fuzzer, add_values_calls, fuzz_settings, read_calls, write_calls


@pytest.fixture
def fuzzer(db_url: str | None, tmp_path: Path) -> Iterator[Fuzzer]:
    """One instance for all examples of a test: setting one up per example would dominate the run time."""
    ln.setup.init(storage=tmp_path / "data", db=db_url)
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
