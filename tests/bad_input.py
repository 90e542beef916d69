"""Shared by the bad-input and fuzzing tests of tests/conformance/, on SQLite and PostgreSQL.

`refused()` checks one call: it raises the expected LamellaError naming the value, writes no row,
and leaves the session working. The hypothesis strategies and `Fuzzer` drive the public API with
hostile values: every call must succeed or raise a LamellaError, and a failed call must leave no
row and no file behind.

Example counts: the "ci" profile (default) runs LAMELLA_FUZZ_EXAMPLES examples per test (50 unless
set); `LAMELLA_FUZZ=deep` runs 2,000 unless LAMELLA_FUZZ_EXAMPLES says otherwise.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from lamella.errors import LamellaError

# --- hypothesis profiles ---------------------------------------------------------------------------

_COMMON: dict[str, Any] = dict(
    deadline=None,
    database=None,  # no .hypothesis/ folder in the working tree
    derandomize=False,
    # one instance serves every example of a test: the function-scoped fixtures are shared on purpose
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
settings.register_profile("ci", max_examples=int(os.environ.get("LAMELLA_FUZZ_EXAMPLES", "50")), **_COMMON)
settings.register_profile(
    "deep", max_examples=int(os.environ.get("LAMELLA_FUZZ_EXAMPLES", "2000")), **_COMMON
)


def fuzz_settings() -> settings:
    """The settings of a fuzz test: the profile LAMELLA_FUZZ names ("ci" by default)."""
    return settings(settings.get_profile(os.environ.get("LAMELLA_FUZZ", "ci")))


# --- observing the instance ------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    """Rows per table of the connected instance, in one statement."""
    from sqlalchemy import inspect, text

    from lamella._instance import state
    from lamella.models.core.record import Base

    session = state.current().db.session()
    present = set(inspect(session.connection()).get_table_names())
    # the tables this instance has: a module imported in this process (bionty) may declare more
    tables = sorted(name for name in Base.metadata.tables if name in present)
    selects = ", ".join(f'(SELECT count(*) FROM "{name}") AS "{name}"' for name in tables)
    row = session.execute(text(f"SELECT {selects}")).one()
    return dict(zip(tables, (int(v) for v in row), strict=True))


def files_under(root: Path) -> set[str]:
    """Every file below `root`, without the database's own files (they exist throughout).

    Folders are left out: an empty staging folder made on first use is not data left behind.
    """
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if not p.is_dir() and not re.search(r"\.db(-wal|-shm|-journal)?$", p.name)
    }


def assert_session_works() -> None:
    import lamella as ln

    ln.ULabel.filter(name__startswith="sentinel").count()
    assert ln.ULabel.filter(name="sentinel").first() is not None, "the sentinel label must stay readable"


def refused(error: type[LamellaError], call: Callable[[], Any], *fragments: str) -> LamellaError:
    """`call()` raises `error` whose message contains every fragment; no row is written; the session works."""
    before = row_counts()
    try:
        call()
    except error as e:
        caught: LamellaError = e
    else:
        raise AssertionError(f"expected {error.__name__}, but the call succeeded")
    message = str(caught)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the message: {message}"
    assert row_counts() == before, "a refused call wrote rows"
    assert_session_works()
    return caught


# --- hostile values --------------------------------------------------------------------------------


class DeepDict(dict[str, Any]):
    """A dict nested `depth` levels deep, shown by its depth (printing it whole would recurse)."""

    depth = 0

    def __repr__(self) -> str:
        return f"deep_dict({self.depth})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis' printer
        printer.text(repr(self))


def deep_dict(depth: int) -> DeepDict:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    outer = DeepDict(a=value)
    outer.depth = depth
    return outer


_SPECIAL_TEXT = [
    "",
    " ",
    "a\x00b",
    "\x00",
    "a\ud800",
    "\udfff",
    "x" * 150,
    "x" * 151,
    "k" * 1024,
    "k" * 1025,
    "é" * 151,
    "🧬" * 10,
    "a%_\\",
    "(",
    "[a-",
    "(?P<n>a)",
    "*",
    "a/b/../c",
    "\n\t",
    "DROP TABLE ulabel; --",
]

texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(_SPECIAL_TEXT),
    st.tuples(st.text(max_size=5), st.sampled_from(["\x00", "\ud800", "\udc80"])).map("".join),
    st.integers(140, 1100).map(lambda n: "n" * n),
)
ints = st.one_of(
    st.integers(-1000, 1000),
    st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 2**1100]),
    st.integers(),
)
floats = st.floats(allow_nan=True, allow_infinity=True)
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
odd_values = st.one_of(
    st.binary(max_size=5),
    st.sampled_from(
        [
            deep_dict(2000),
            deep_dict(70),
            {1: "int key"},
            {(1, 2): "tuple key"},
            {"a": {1, 2}},
            Decimal("1.5"),
            object(),
            {1, 2},
            (1, 2),
            [1, "x"],
            [[1]],
            date(2025, 1, 31),
            datetime(2025, 1, 31, 12, tzinfo=UTC),
            "2025-01-31",
            "2025-01-31T12:00:00",
            Path("/tmp/x"),
        ]
    ),
)
values = st.one_of(scalars, json_like, odd_values)

# --- the API calls ---------------------------------------------------------------------------------

FEATURE_DTYPES = {
    "f_float": float,
    "f_int": int,
    "f_num": "num",
    "f_str": str,
    "f_bool": bool,
    "f_date": date,
    "f_datetime": datetime,
    "f_dict": dict,
    "f_list": list[str],
    "f_path": Path,
    "f_url": "url",
    "f_cat": "cat[ULabel]",
}
LOOKUPS = ["", "exact", "iexact", "contains", "icontains", "startswith", "endswith", "in", "gt", "gte", "lt"]
LOOKUPS += ["lte", "isnull", "range", "regex", "iregex"]
FIELDS = {
    "ULabel": [
        "name",
        "description",
        "id",
        "uid",
        "is_type",
        "created_at",
        "type",
        "type__name",
        "artifacts",
    ],
    "Artifact": ["key", "size", "is_latest", "created_at", "run", "ulabels__name", *FEATURE_DTYPES],
    "Run": ["params", "params__a", "params__a__b", "started_at", "transform__key"],
    "Record": ["name", *FEATURE_DTYPES],
}
dtypes = st.one_of(
    st.sampled_from(
        [
            float,
            int,
            str,
            "cat[ULabel]",
            "cat[ULabel.nope]",
            "cat[ULabel.name]",
            "cat[Nope]",
            "cat[Record[Sample]]",
            "cat[bionty.CellType]",
            "cat[",
            "list[list[int]]",
            "list[float]",
            "dict",
            list,
            dict,
            "url",
        ]
    ),
    texts,
    odd_values,
)


@dataclass
class Call:
    """One API call with its arguments, shown by hypothesis when an example fails."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r:.80}" for k, v in self.args.items())
        return f"{self.kind}({shown})"


def _lookup_name(field_name: str, op: str) -> str:
    return field_name if not op else f"{field_name}__{op}"


def _filter_call(registry: str) -> st.SearchStrategy[Call]:
    return st.builds(
        lambda field_name, op, value, terminal: Call(
            "filter",
            {
                "registry": registry,
                "lookup": _lookup_name(field_name, op),
                "value": value,
                "terminal": terminal,
            },
        ),
        st.sampled_from(FIELDS[registry]),
        st.sampled_from(LOOKUPS),
        values,
        st.sampled_from(["count", "first", "exists", "list", "exclude"]),
    )


filter_calls = st.sampled_from(sorted(FIELDS)).flatmap(_filter_call)
add_values_calls = st.builds(
    lambda feature, value, owner: Call("add_values", {"feature": feature, "value": value, "owner": owner}),
    st.sampled_from(sorted(FEATURE_DTYPES)),
    values,
    st.sampled_from(["artifact", "record"]),
)
write_calls = st.one_of(
    st.builds(
        lambda name, description: Call("ulabel", {"name": name, "description": description}),
        st.one_of(texts, values),
        st.one_of(st.none(), texts, values),
    ),
    st.builds(
        lambda name, abbr, url, start: Call(
            "project", {"name": name, "abbr": abbr, "url": url, "start_date": start}
        ),
        texts,
        st.one_of(st.none(), texts),
        st.one_of(st.none(), texts, values),
        st.one_of(st.none(), values),
    ),
    st.builds(
        lambda name, pubmed: Call("reference", {"name": name, "pubmed_id": pubmed}),
        texts,
        st.one_of(st.none(), ints, values),
    ),
    st.builds(
        lambda name, dtype, unit: Call("feature", {"name": name, "dtype": dtype, "unit": unit}),
        texts,
        dtypes,
        st.one_of(st.none(), texts),
    ),
    st.builds(
        lambda key, description: Call("artifact", {"key": key, "description": description}),
        st.one_of(texts.map(lambda t: f"fuzz/{t}.txt"), texts, values),
        st.one_of(st.none(), texts),
    ),
    st.builds(
        lambda column, key: Call("dataframe", {"column": column, "key": key}),
        st.lists(values, min_size=1, max_size=3),
        # a refused key must leave no staged parquet behind either
        st.one_of(st.just("fuzz/frame.parquet"), texts.map(lambda t: f"fuzz/{t}.parquet"), texts, values),
    ),
    st.builds(lambda params: Call("run", {"params": params}), st.one_of(json_like, values)),
)
read_calls = st.one_of(
    filter_calls,
    st.builds(lambda idlike: Call("get", {"idlike": idlike}), st.one_of(ints, texts, values)),
)
calls = st.one_of(add_values_calls, read_calls, write_calls)


class Fuzzer:
    """Runs `Call`s against an instance prepared with features, an artifact, a record and a transform."""

    def __init__(self, root: Path, data_file: Path) -> None:
        import lamella as ln

        self.ln = ln
        self.root = root
        self.data_file = data_file
        ln.ULabel(name="sentinel").save()
        ln.ULabel(name="My experiment").save()
        for name, dtype in FEATURE_DTYPES.items():
            ln.Feature(name=name, dtype=dtype).save()
        self.artifact = ln.Artifact(str(data_file), key="fuzz/base.txt").save()
        self.record = ln.Record(name="fuzz-record").save()
        self.transform = ln.Transform(key="fuzz.py").save()

    def check(self, call: Call) -> None:
        """Run `call`: success, or a LamellaError that left no row and no file; the session works after."""
        rows, files = row_counts(), files_under(self.root)
        try:
            self.run(call)
        except LamellaError as error:
            assert str(error), f"{call!r} raised {type(error).__name__} without a message"
            after_rows = row_counts()
            changed = {t: (rows[t], after_rows[t]) for t in rows if rows[t] != after_rows[t]}
            assert not changed, f"{call!r} failed with {error!r} but changed rows: {changed}"
            new_files = files_under(self.root) - files
            assert not new_files, f"{call!r} failed with {error!r} but left files: {sorted(new_files)[:5]}"
        assert_session_works()

    def run(self, call: Call) -> Any:
        ln, a = self.ln, call.args
        if call.kind == "ulabel":
            return ln.ULabel(name=a["name"], description=a["description"]).save()
        if call.kind == "project":
            return ln.Project(**a).save()
        if call.kind == "reference":
            return ln.Reference(**a).save()
        if call.kind == "feature":
            return ln.Feature(name=a["name"], dtype=a["dtype"], unit=a["unit"]).save()
        if call.kind == "artifact":
            return ln.Artifact(str(self.data_file), key=a["key"], description=a["description"]).save()
        if call.kind == "dataframe":
            import pandas as pd

            df = pd.DataFrame({"fuzzed": pd.Series(a["column"], dtype=object)})
            return ln.Artifact.from_dataframe(df, key=a["key"]).save()
        if call.kind == "run":
            return ln.Run(transform=self.transform, params=a["params"]).save()
        if call.kind == "filter":
            registry = getattr(ln, a["registry"])
            lookups = {a["lookup"]: a["value"]}
            if a["terminal"] == "exclude":
                return registry.exclude(**lookups).count()
            queryset = registry.filter(**lookups)
            if a["terminal"] == "list":
                return list(queryset)
            return getattr(queryset, a["terminal"])()
        if call.kind == "get":
            try:
                return ln.Artifact.get(a["idlike"])
            except ln.errors.DoesNotExist:
                return None
        if call.kind == "add_values":
            owner = self.artifact if a["owner"] == "artifact" else self.record
            return owner.features.add_values({a["feature"]: a["value"]})
        raise AssertionError(f"unknown call {call.kind}")
