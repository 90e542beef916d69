"""Feature values queried on SQLite and on a real PostgreSQL: the two dialects give the same answers.

One instance per backend is annotated once (`shared_instance_factory`); every test only reads it. The
lookups cover every operator on every feature dtype; tests/unit/test_feature_queries.py has the
exhaustive list on SQLite.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import lamella as ln
from lamella import Q
from lamella.errors import InvalidArgument, ValidationError

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]

FEATURES: dict[str, Any] = {
    "temperature": float,
    "read_count": int,
    "score": "num",
    "treatment": str,
    "flag": bool,
    "experiment_date": date,
    "measured_at": datetime,
    "study_metadata": dict,
    "meta": dict,
    "tags": list[str],
    "counts": "list[int]",
    "source_path": Path,
    "homepage": "url",
    "experiment": "cat[ULabel]",
    "sample": "cat[Record[Sample]]",
    "donor": "cat[Record]",
}

VALUES: dict[str, dict[str, Any]] = {  # a5 has no values
    "a1": {
        "temperature": 21.6,
        "read_count": 2_000_000,
        "score": 1.5,
        "treatment": "DMSO",
        "flag": True,
        "experiment_date": "2025-10-31",
        "measured_at": datetime(2025, 10, 31, 12, 0),
        "study_metadata": {"detail1": "123", "assay": {"type": "RNA-seq"}},
        "meta": {"depth": 3, "kind": "deep"},
        "tags": ["a", "b"],
        "counts": [1, 2],
        "source_path": Path("/data/raw/a1.fastq"),
        "homepage": "https://example.org/a1",
        "experiment": "My experiment",
        "sample": "S1",
        "donor": "D1",
    },
    "a2": {
        "temperature": 4.0,
        "read_count": 10,
        "score": 3,
        "treatment": "IFNG",
        "flag": False,
        "experiment_date": date(2024, 1, 15),
        "measured_at": "2024-01-15T08:30:00",
        "study_metadata": {"detail1": "456", "assay": {"type": "ATAC-seq"}},
        "meta": {"depth": 1},
        "tags": ["b"],
        "counts": [3],
        "source_path": "/data/processed/a2.parquet",
        "homepage": "http://lab.example.com/A2",
        "experiment": "Other experiment",
        "sample": "S2",
    },
    "a3": {
        "temperature": 37.0,
        "read_count": 3,
        "treatment": "dmso_high",
        "flag": True,
        "experiment_date": date(2025, 1, 1),
        "measured_at": datetime(2025, 1, 1, 0, 0),
        "tags": ["c"],
        "experiment": ["My experiment", "Other experiment"],
        "sample": ["S1", "S3"],
    },
    "a4": {"temperature": 20.0, "read_count": 500, "score": 2.5, "treatment": "100% Control"},
}
ALL = ["a1", "a2", "a3", "a4", "a5"]


class World:
    """The annotated records; only plain values are kept (ids by name), the tests query the rest."""

    def __init__(self, folder: Path, backend: str) -> None:
        self.backend = backend
        for name in ("My experiment", "Other experiment", "Unused"):
            ln.ULabel(name=name).save()
        sample = ln.Record(name="Sample", is_type=True).save()
        donor = ln.Record(name="Donor", is_type=True).save()
        records = {n: ln.Record(name=n, type=sample).save() for n in ("S1", "S2", "S3")}
        records["D1"] = ln.Record(name="D1", type=donor).save()
        loose = ln.Record(name="S1").save()  # untyped, same name as the sample S1
        for name, dtype in FEATURES.items():
            ln.Feature(name=name, dtype=sample if dtype == "cat[Record[Sample]]" else dtype).save()
        ln.Feature(name="whole", dtype=float).save()
        ln.Feature(name="aware", dtype=datetime).save()
        folder.mkdir()
        self.ids: dict[str, int] = {}
        for key in ALL:
            path = folder / f"{key}.txt"
            path.write_text(f"content of {key}")
            artifact = ln.Artifact(path, key=f"{key}.txt", description=f"artifact {key}").save()
            values = dict(VALUES.get(key, {}))
            if key == "a2":
                values["donor"] = loose
            if values:
                artifact.features.add_values(values)
            self.ids[key] = artifact.id
        a5 = ln.Artifact.get(self.ids["a5"])
        a5.features.add_values({"whole": 2.0, "aware": datetime(2025, 1, 2, 3, tzinfo=UTC)})

        transform = ln.Transform(key="pipeline").save()
        r1 = ln.Run(transform, name="r1").save()
        r2 = ln.Run(transform, name="r2").save()
        r1.features.add_values({"temperature": 30.0, "experiment": "My experiment", "tags": ["a"]})
        r2.features.add_values({"temperature": 10.0, "treatment": "DMSO", "read_count": 7})
        self.ids.update(r1=r1.id, r2=r2.id)

        records["S1"].features.add_values(
            {
                "temperature": 21.0,
                "experiment": "My experiment",
                "donor": records["D1"],
                "experiment_date": "2024-05-01",
                "meta": {"depth": 5},
                "flag": True,
            }
        )
        records["S2"].features.add_values(
            {"temperature": 15.0, "experiment": "Other experiment", "tags": ["x", "y"], "treatment": "IFNG"}
        )
        self.ids.update({n: r.id for n, r in records.items()})


@pytest.fixture
def world(shared_instance_factory: Any, connect_shared: Any) -> World:
    """The same feature values on SQLite and on PostgreSQL, written once per backend."""

    def setup(shared: Any) -> None:
        assert ln.setup.settings.instance.dialect == shared.backend
        shared.data["world"] = World(shared.storage.parent / "inputs", shared.backend)

    shared = shared_instance_factory(setup)
    connect_shared(shared)
    return shared.data["world"]  # type: ignore[no-any-return]


def missing(value: Any) -> bool:
    """A DataFrame cell without a value: None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def keys(qs: Any) -> list[str]:
    return sorted(k.removesuffix(".txt") for k in qs.to_list("key"))


def check(cases: list[tuple[dict[str, Any], list[str]]], *, exclude: bool = False) -> None:
    """Runs every (lookups, expected artifacts) case and reports all mismatches at once."""
    wrong = []
    for lookups, expected in cases:
        qs = ln.Artifact.exclude(**lookups) if exclude else ln.Artifact.filter(**lookups)
        try:
            got, count = keys(qs), qs.count()
        except Exception as e:  # report every failing lookup, not only the first
            wrong.append(f"{lookups}: raised {type(e).__name__}: {str(e).splitlines()[0]}")
            continue
        if got != sorted(expected) or count != len(expected):
            wrong.append(f"{lookups}: expected {sorted(expected)}, got {got} (count {count})")
    assert not wrong, "\n".join(wrong)


def same(got: Any, expected: Any) -> bool:
    if type(got) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(got) == len(expected) and all(same(g, e) for g, e in zip(got, expected, strict=True))
    if isinstance(expected, dict):
        return got.keys() == expected.keys() and all(same(got[k], expected[k]) for k in expected)
    return bool(got == expected)


# ---- values -------------------------------------------------------------------------------------------


def test_the_instance_uses_the_backend(world: World) -> None:
    assert ln.setup.settings.instance.dialect == world.backend


def test_values_of_every_dtype_round_trip(world: World) -> None:
    got = ln.Artifact.get(world.ids["a1"]).features.get_values()
    expected = {
        "temperature": 21.6,
        "read_count": 2_000_000,
        "score": 1.5,
        "treatment": "DMSO",
        "flag": True,
        "experiment_date": date(2025, 10, 31),
        "measured_at": datetime(2025, 10, 31, 12, 0),
        "study_metadata": {"detail1": "123", "assay": {"type": "RNA-seq"}},
        "meta": {"depth": 3, "kind": "deep"},
        "tags": ["a", "b"],
        "counts": [1, 2],
        "source_path": "/data/raw/a1.fastq",
        "homepage": "https://example.org/a1",
        "experiment": "My experiment",
        "sample": "S1",
        "donor": "D1",
    }
    wrong = {k: got.get(k) for k, v in expected.items() if not same(got.get(k), v)}
    assert not wrong and set(got) == set(expected), wrong
    a3 = ln.Artifact.get(world.ids["a3"]).features.get_values()
    assert sorted(a3["experiment"]) == ["My experiment", "Other experiment"]
    assert same(ln.Artifact.get(world.ids["a2"]).features.get_values()["score"], 3)
    aware = ln.Artifact.get(world.ids["a5"]).features.get_values()["aware"]
    assert same(aware, datetime(2025, 1, 2, 3, tzinfo=UTC))


def test_float_values_that_are_whole_numbers_stay_floats(world: World) -> None:
    for key, name, expected in [
        ("a5", "whole", 2.0),
        ("a2", "temperature", 4.0),
        ("a3", "temperature", 37.0),
    ]:
        value = ln.Artifact.get(world.ids[key]).features.get_values()[name]
        assert same(value, expected), f"{key}.{name}: {value!r} ({type(value).__name__})"


def test_a_wrong_value_is_refused_on_both_backends(world: World) -> None:
    a5 = ln.Artifact.get(world.ids["a5"])
    with pytest.raises(ValidationError, match="read_count"):
        a5.features.add_values({"temperature": 1.0, "read_count": "many"})
    assert set(a5.features.get_values()) == {"whole", "aware"}


# ---- plain dtypes ---------------------------------------------------------------------------------


def test_numeric_lookups(world: World) -> None:
    check(
        [
            ({"temperature": 21.6}, ["a1"]),
            ({"temperature": 4}, ["a2"]),
            ({"temperature__in": [4.0, 37.0, 99.0]}, ["a2", "a3"]),
            ({"temperature__gt": 20}, ["a1", "a3"]),
            ({"temperature__gte": 20}, ["a1", "a3", "a4"]),
            ({"temperature__lt": 20}, ["a2"]),
            ({"temperature__lte": 20.0}, ["a2", "a4"]),
            ({"temperature__range": (4, 21.6)}, ["a1", "a2", "a4"]),
            ({"temperature__isnull": True}, ["a5"]),
            ({"temperature__isnull": False}, ["a1", "a2", "a3", "a4"]),
            ({"read_count": 10}, ["a2"]),
            ({"read_count__in": [3, 500]}, ["a3", "a4"]),
            ({"read_count__gt": 5}, ["a1", "a2", "a4"]),  # numbers, not text: "10" < "5"
            ({"read_count__lt": 100}, ["a2", "a3"]),
            ({"read_count__range": (10, 500)}, ["a2", "a4"]),
            ({"score": 3}, ["a2"]),
            ({"score": 3.0}, ["a2"]),
            ({"score__in": [1.5, 3]}, ["a1", "a2"]),
            ({"score__gt": 2}, ["a2", "a4"]),
            ({"score__lte": 2.5}, ["a1", "a4"]),
            ({"score__isnull": True}, ["a3", "a5"]),
        ]
    )


def test_text_lookups(world: World) -> None:
    check(
        [
            ({"treatment": "DMSO"}, ["a1"]),
            ({"treatment": "dmso"}, []),
            ({"treatment__iexact": "dmso"}, ["a1"]),
            ({"treatment__in": ["DMSO", "IFNG", "other"]}, ["a1", "a2"]),
            ({"treatment__contains": "MSO"}, ["a1"]),
            ({"treatment__icontains": "mso"}, ["a1", "a3"]),
            ({"treatment__startswith": "dmso"}, ["a3"]),
            ({"treatment__istartswith": "dmso"}, ["a1", "a3"]),
            ({"treatment__endswith": "high"}, ["a3"]),
            ({"treatment__iendswith": "CONTROL"}, ["a4"]),
            ({"treatment__regex": r"^[A-Z]+$"}, ["a1", "a2"]),
            ({"treatment__iregex": r"^dmso"}, ["a1", "a3"]),
            ({"treatment__contains": "%"}, ["a4"]),  # LIKE wildcards are literal
            ({"treatment__contains": "_"}, ["a3"]),
            ({"treatment__isnull": True}, ["a5"]),
            ({"source_path": Path("/data/raw/a1.fastq")}, ["a1"]),
            ({"source_path__startswith": "/data/"}, ["a1", "a2"]),
            ({"source_path__endswith": ".parquet"}, ["a2"]),
            ({"homepage": "https://example.org/a1"}, ["a1"]),
            ({"homepage__istartswith": "HTTPS://"}, ["a1"]),
            ({"homepage__icontains": "EXAMPLE"}, ["a1", "a2"]),
        ]
    )


def test_bool_lookups(world: World) -> None:
    check([({"flag": True}, ["a1", "a3"]), ({"flag": False}, ["a2"]), ({"flag__isnull": True}, ["a4", "a5"])])
    check([({"flag": True}, ["a2", "a4", "a5"])], exclude=True)


def test_date_and_datetime_lookups(world: World) -> None:
    check(
        [
            ({"experiment_date": "2025-10-31"}, ["a1"]),
            ({"experiment_date": date(2025, 10, 31)}, ["a1"]),
            ({"experiment_date__in": [date(2024, 1, 15), "2025-10-31"]}, ["a1", "a2"]),
            ({"experiment_date__gt": "2025-01-01"}, ["a1"]),
            ({"experiment_date__gte": date(2025, 1, 1)}, ["a1", "a3"]),
            ({"experiment_date__lt": date(2025, 1, 1)}, ["a2"]),
            ({"experiment_date__range": (date(2024, 1, 1), "2025-06-30")}, ["a2", "a3"]),
            ({"experiment_date__startswith": "2025-"}, ["a1", "a3"]),
            ({"measured_at": datetime(2025, 10, 31, 12)}, ["a1"]),
            ({"measured_at": "2025-10-31T12:00:00"}, ["a1"]),
            ({"measured_at__gt": datetime(2025, 1, 1)}, ["a1"]),
            ({"measured_at__gte": "2025-01-01"}, ["a1", "a3"]),
            ({"measured_at__lte": datetime(2024, 1, 15, 8, 30)}, ["a2"]),
            ({"measured_at__range": ("2024-01-01", datetime(2025, 6, 30))}, ["a2", "a3"]),
            ({"measured_at__isnull": True}, ["a4", "a5"]),
        ]
    )


def test_dict_and_list_lookups(world: World) -> None:
    check(
        [
            ({"study_metadata__detail1": "123"}, ["a1"]),
            ({"study_metadata__assay__type": "RNA-seq"}, ["a1"]),
            ({"study_metadata__assay__type__startswith": "ATAC"}, ["a2"]),
            ({"study_metadata__assay__type__icontains": "SEQ"}, ["a1", "a2"]),
            ({"study_metadata__assay__type__in": ["RNA-seq", "ATAC-seq"]}, ["a1", "a2"]),
            ({"study_metadata__isnull": True}, ["a3", "a4", "a5"]),
            ({"meta__depth__gt": 2}, ["a1"]),
            ({"meta__depth": 1}, ["a2"]),
            ({"meta__depth__lte": 3}, ["a1", "a2"]),
            ({"meta__kind": "deep"}, ["a1"]),
            ({"tags": "a"}, ["a1"]),
            ({"tags": "b"}, ["a1", "a2"]),
            ({"tags__in": ["a", "c"]}, ["a1", "a3"]),
            ({"tags__in": ["a", "b"]}, ["a1", "a2"]),
            ({"tags__isnull": True}, ["a4", "a5"]),
            ({"counts": 2}, ["a1"]),
            ({"counts__in": [3, 7]}, ["a2"]),
        ]
    )
    check(
        [({"meta__depth__gt": 2}, ["a2", "a3", "a4", "a5"]), ({"tags": "b"}, ["a3", "a4", "a5"])],
        exclude=True,
    )


def test_dict_exact_on_the_whole_value(world: World) -> None:
    check([({"meta": {"depth": 1}}, ["a2"]), ({"meta": {"depth": 2}}, [])])


# ---- categorical -------------------------------------------------------------------------------------


def test_categorical_lookups(world: World) -> None:
    mine, other = ln.ULabel.get(name="My experiment"), ln.ULabel.get(name="Other experiment")
    check(
        [
            ({"experiment": "My experiment"}, ["a1", "a3"]),
            ({"experiment": mine}, ["a1", "a3"]),
            ({"experiment__in": [mine, other]}, ["a1", "a2", "a3"]),
            ({"experiment__in": ["My experiment", "Other experiment"]}, ["a1", "a2", "a3"]),
            ({"experiment__in": ln.ULabel.filter(name__startswith="Other")}, ["a2", "a3"]),
            ({"experiment": ln.ULabel.get(name="Unused")}, []),
            ({"experiment__name__startswith": "Other"}, ["a2", "a3"]),
            ({"experiment__iexact": "my EXPERIMENT"}, ["a1", "a3"]),
            ({"experiment__isnull": True}, ["a4", "a5"]),
            ({"experiment__isnull": False}, ["a1", "a2", "a3"]),
        ]
    )
    check([({"experiment": "My experiment"}, ["a2", "a4", "a5"])], exclude=True)


def test_typed_categorical_lookups(world: World) -> None:
    s1 = ln.Record.get(world.ids["S1"])
    s2 = ln.Record.get(world.ids["S2"])
    check(
        [
            ({"sample": "S1"}, ["a1", "a3"]),  # the untyped "S1" is a2's donor
            ({"sample": ln.Record.get(world.ids["S3"])}, ["a3"]),
            ({"sample__in": [s1, s2]}, ["a1", "a2", "a3"]),
            ({"sample__name__startswith": "S"}, ["a1", "a2", "a3"]),
            ({"sample": "D1"}, []),
            ({"sample__isnull": True}, ["a4", "a5"]),
            ({"donor": "S1"}, ["a2"]),
            ({"donor": ln.Record.get(world.ids["D1"])}, ["a1"]),
            ({"donor__type__name": "Donor"}, ["a1"]),
        ]
    )


# ---- combinations --------------------------------------------------------------------------------------


def test_q_objects_exclude_and_chains(world: World) -> None:
    def got(*args: Any, **kwargs: Any) -> list[str]:
        return keys(ln.Artifact.filter(*args, **kwargs))

    assert got(Q(temperature__gt=30) | Q(read_count__lt=15)) == ["a2", "a3"]
    assert got(~Q(treatment="DMSO")) == ["a2", "a3", "a4", "a5"]
    assert got(Q(experiment="Other experiment") & ~Q(flag=True)) == ["a2"]
    assert got(Q(experiment="My experiment") | Q(description="artifact a4")) == ["a1", "a3", "a4"]
    assert got(~(Q(temperature__gt=20) | Q(temperature__isnull=True))) == ["a2", "a4"]
    assert got(key__startswith="a", temperature__gt=20) == ["a1", "a3"]
    assert got(description="artifact a1", temperature__gt=20) == ["a1"]
    check(
        [
            ({"temperature__gt": 20}, ["a2", "a4", "a5"]),
            ({"treatment__icontains": "dmso"}, ["a2", "a4", "a5"]),
            ({"study_metadata__assay__type": "RNA-seq"}, ["a2", "a3", "a4", "a5"]),
            ({"experiment_date__lt": "2025-01-01"}, ["a1", "a3", "a4", "a5"]),
        ],
        exclude=True,
    )
    qs = ln.Artifact.filter(temperature__gt=10).filter(experiment="My experiment")
    assert keys(qs) == ["a1", "a3"] and qs.count() == 2
    assert keys(qs.exclude(sample="S3")) == ["a1"]
    assert ln.Artifact.filter(experiment__in=["My experiment", "Other experiment"]).count() == 3


# ---- DataFrames, runs and records ------------------------------------------------------------------------


def test_to_dataframe_with_features(world: World) -> None:
    ids = world.ids
    df = ln.Artifact.filter(key__in=[f"{k}.txt" for k in ALL]).to_dataframe(include="features")
    assert sorted(df.index) == sorted(ids[k] for k in ALL)
    assert set(FEATURES) <= set(df.columns)
    assert df.loc[ids["a1"], "temperature"] == 21.6
    assert df.loc[ids["a1"], "treatment"] == "DMSO"
    assert type(df.loc[ids["a1"], "experiment_date"]) is date
    assert df.loc[ids["a1"], "experiment_date"] == date(2025, 10, 31)
    assert df.loc[ids["a1"], "measured_at"] == datetime(2025, 10, 31, 12)
    assert df.loc[ids["a1"], "study_metadata"] == {"detail1": "123", "assay": {"type": "RNA-seq"}}
    assert df.loc[ids["a1"], "tags"] == ["a", "b"]
    assert df.loc[ids["a1"], "experiment"] == "My experiment"
    assert sorted(df.loc[ids["a3"], "experiment"]) == ["My experiment", "Other experiment"]
    assert sorted(df.loc[ids["a3"], "sample"]) == ["S1", "S3"]
    assert missing(df.loc[ids["a5"], "temperature"])
    assert missing(df.loc[ids["a5"], "treatment"])
    chosen = ln.Artifact.filter(experiment__isnull=False).to_dataframe(features=["temperature", "experiment"])
    assert sorted(chosen.index) == [ids["a1"], ids["a2"], ids["a3"]]
    assert not {"treatment", "sample"} & set(chosen.columns)
    assert chosen.loc[ids["a2"], "temperature"] == 4.0
    assert str(chosen["temperature"].dtype) == "float64"


def check_names(model: Any, cases: list[tuple[Any, list[str]]]) -> None:
    """(filter kwargs or a QuerySet, expected names) cases on runs or records; all mismatches at once."""
    wrong = []
    for lookups, expected in cases:
        try:
            qs = model.filter(**lookups) if isinstance(lookups, dict) else lookups
            got = sorted(qs.to_list("name"))
        except Exception as e:
            wrong.append(f"{lookups}: raised {type(e).__name__}: {str(e).splitlines()[0]}")
            continue
        if got != sorted(expected):
            wrong.append(f"{lookups}: expected {sorted(expected)}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_runs_by_feature_values(world: World) -> None:
    check_names(
        ln.Run,
        [
            ({"temperature__gt": 20}, ["r1"]),
            ({"temperature": 10}, ["r2"]),
            ({"experiment": "My experiment"}, ["r1"]),
            ({"experiment__isnull": True}, ["r2"]),
            ({"treatment": "DMSO"}, ["r2"]),
            ({"treatment__istartswith": "dm"}, ["r2"]),
            ({"tags": "a"}, ["r1"]),
            (ln.Run.exclude(read_count=7), ["r1"]),
        ],
    )
    df = ln.Run.filter(name__in=["r1", "r2"]).to_dataframe(include="features")
    assert df.loc[world.ids["r1"], "experiment"] == "My experiment"
    assert df.loc[world.ids["r2"], "temperature"] == 10.0


def test_records_by_feature_values(world: World) -> None:
    sample = ln.Record.get(name="Sample")
    check_names(
        ln.Record,
        [
            ({"temperature__gt": 20}, ["S1"]),
            ({"temperature": 15}, ["S2"]),
            ({"temperature__range": (10, 30)}, ["S1", "S2"]),
            ({"temperature__isnull": True, "type": sample}, ["S3"]),
            ({"treatment": "IFNG"}, ["S2"]),
            ({"treatment__icontains": "ng"}, ["S2"]),
            ({"treatment__regex": "^IF"}, ["S2"]),
            ({"flag": True}, ["S1"]),
            ({"experiment": "My experiment"}, ["S1"]),
            ({"experiment__name__startswith": "Other"}, ["S2"]),
            ({"donor": ln.Record.get(world.ids["D1"])}, ["S1"]),
            ({"donor__name": "D1"}, ["S1"]),
            ({"meta__depth__gt": 2}, ["S1"]),
            ({"experiment_date": "2024-05-01"}, ["S1"]),
            ({"experiment_date__gte": date(2024, 1, 1)}, ["S1"]),
            ({"tags": "x"}, ["S2"]),
            ({"tags__in": ["y", "z"]}, ["S2"]),
            (ln.Record.filter(type=sample).exclude(experiment="My experiment"), ["S2", "S3"]),
        ],
    )
    records = ln.Record.filter(type=sample).to_dataframe(include="features")
    assert records.loc[world.ids["S1"], "donor"] == "D1"
    assert records.loc[world.ids["S1"], "experiment_date"] == date(2024, 5, 1)
    assert records.loc[world.ids["S2"], "tags"] == ["x", "y"]


INVALID: list[tuple[str, Any]] = [
    ("colour", "red"),
    ("flag__gt", 1),
    ("temperature__contains", "x"),
    ("temperature", "warm"),
    ("treatment__in", "DMSO"),
    ("experiment_date__gt", "yesterday"),
    ("study_metadata__gt", 1),
    ("tags__startswith", "a"),
    ("temperature__unit", "C"),
]


def test_invalid_lookups_raise_on_both_backends(world: World) -> None:
    for lookup, value in INVALID:
        with pytest.raises(InvalidArgument):
            ln.Artifact.filter(**{lookup: value}).count()
    # the session is still usable
    assert ln.Artifact.filter(temperature__gt=20).count() == 2
