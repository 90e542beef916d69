"""Feature names as lookups in filter()/exclude(): every lookup on every dtype, on SQLite and PostgreSQL.

One instance per backend is annotated once (`world`, shared by the tests of this module, which only read
it); the tests that change the data get an instance of their own (`own_world`). Both dialects must give
the same answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import lamella as ln
from lamella.errors import InvalidArgument, ValidationError

# ---- data -------------------------------------------------------------------------------------------

FEATURES: dict[str, Any] = {  # name -> dtype ("Sample" is the record type, filled in below)
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

VALUES: dict[str, dict[str, Any]] = {  # artifact -> feature values; a5 has only "whole" and "aware"
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
        "donor": "S1",  # the untyped record named "S1", not the sample S1
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
    "a4": {
        "temperature": 20.0,
        "read_count": 500,
        "score": 2.5,
        "treatment": "100% Control",
    },
}
ALL = ["a1", "a2", "a3", "a4", "a5"]


@dataclass
class World:
    """The annotated records, kept as ids: each test loads them through its own connection."""

    backend: str
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def artifacts(self) -> dict[str, Any]:
        return {k: ln.Artifact.get(self.ids[k]) for k in ALL}

    @property
    def labels(self) -> dict[str, Any]:
        return {n: ln.ULabel.get(name=n) for n in ("My experiment", "Other experiment", "Unused")}

    @property
    def records(self) -> dict[str, Any]:
        return {n: ln.Record.get(self.ids[n]) for n in ("S1", "S2", "S3", "D1", "loose S1")}

    @property
    def runs(self) -> dict[str, Any]:
        return {n: ln.Run.get(self.ids[n]) for n in ("r1", "r2")}


def build_world(folder: Path, backend: str) -> World:
    """Five artifacts with values of every dtype (see VALUES), two runs and three annotated records."""
    assert ln.setup.settings.instance.dialect == backend
    world = World(backend)
    for name in ("My experiment", "Other experiment", "Unused"):
        ln.ULabel(name=name).save()
    sample = ln.Record(name="Sample", is_type=True).save()
    donor = ln.Record(name="Donor", is_type=True).save()
    records = {n: ln.Record(name=n, type=sample).save() for n in ("S1", "S2", "S3")}
    records["D1"] = ln.Record(name="D1", type=donor).save()
    records["loose S1"] = ln.Record(name="S1").save()  # untyped, same name as the sample S1
    for name, dtype in FEATURES.items():
        ln.Feature(name=name, dtype=sample if dtype == "cat[Record[Sample]]" else dtype).save()
    ln.Feature(name="whole", dtype=float).save()
    ln.Feature(name="aware", dtype=datetime).save()
    folder.mkdir()
    descriptions = {"a1": "first", "a2": "second", "a3": None, "a4": "fourth", "a5": "fifth"}
    for key in ALL:
        path = folder / f"{key}.txt"
        path.write_text(f"content of {key}")
        artifact = ln.Artifact(path, key=f"{key}.txt", description=descriptions[key]).save()
        values = dict(VALUES.get(key, {}))
        if key == "a2":  # a record object as the value: the untyped record "S1"
            values["donor"] = records["loose S1"]
        if key == "a5":
            values = {"whole": 2.0, "aware": datetime(2025, 1, 2, 3, tzinfo=UTC)}
        artifact.features.add_values(values)
        world.ids[key] = artifact.id

    transform = ln.Transform(key="pipeline").save()
    runs = {n: ln.Run(transform, name=n).save() for n in ("r1", "r2")}
    runs["r1"].features.add_values({"temperature": 30.0, "experiment": "My experiment", "tags": ["a"]})
    runs["r2"].features.add_values({"temperature": 10.0, "treatment": "DMSO", "read_count": 7})

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
    world.ids.update({n: r.id for n, r in {**runs, **records}.items()})
    return world


@pytest.fixture
def world(shared_instance_factory: Any, connect_shared: Any) -> World:
    """The same feature values on each backend, written once per backend; tests only read them."""

    def setup(shared: Any) -> None:
        shared.data["world"] = build_world(shared.storage.parent / "inputs", shared.backend)

    shared = shared_instance_factory(setup)
    connect_shared(shared)
    return shared.data["world"]  # type: ignore[no-any-return]


@pytest.fixture
def own_world(backend: str, db_url: str | None, tmp_path: Path) -> World:
    """The world of `world` in a fresh instance of this test's own, which the test may change."""
    ln.setup.init(storage=tmp_path / "data", db=db_url)
    return build_world(tmp_path / "inputs", backend)


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
    """Equal and of the same type, all the way down (1 is not 1.0, a date is not a datetime)."""
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


def test_a_wrong_value_is_refused_and_adds_nothing(world: World) -> None:
    a5 = ln.Artifact.get(world.ids["a5"])
    with pytest.raises(ValidationError, match="read_count"):
        a5.features.add_values({"temperature": 1.0, "read_count": "many"})
    assert set(a5.features.get_values()) == {"whole", "aware"}


# ---- plain dtypes -------------------------------------------------------------------------------------


def test_float_lookups(world: World) -> None:
    check(
        [
            ({"temperature": 21.6}, ["a1"]),
            ({"temperature__exact": 21.6}, ["a1"]),
            ({"temperature": 4}, ["a2"]),  # an int matches the equal float
            ({"temperature": 21.5}, []),
            ({"temperature__in": [4.0, 37.0, 99.0]}, ["a2", "a3"]),
            ({"temperature__in": []}, []),
            ({"temperature__gt": 20}, ["a1", "a3"]),
            ({"temperature__gte": 20}, ["a1", "a3", "a4"]),
            ({"temperature__lt": 20}, ["a2"]),
            ({"temperature__lte": 20.0}, ["a2", "a4"]),
            ({"temperature__range": (4, 21.6)}, ["a1", "a2", "a4"]),  # inclusive bounds
            ({"temperature__gt": 5, "temperature__lt": 30}, ["a1", "a4"]),
            ({"temperature__isnull": True}, ["a5"]),
            ({"temperature__isnull": False}, ["a1", "a2", "a3", "a4"]),
        ],
    )


def test_int_lookups(world: World) -> None:
    check(
        [
            ({"read_count": 10}, ["a2"]),
            ({"read_count": 10.0}, ["a2"]),
            ({"read_count__in": [3, 500, 4]}, ["a3", "a4"]),
            ({"read_count__in": [3, 500]}, ["a3", "a4"]),
            ({"read_count__gt": 1_000_000}, ["a1"]),
            ({"read_count__gte": 500}, ["a1", "a4"]),
            ({"read_count__lt": 5}, ["a3"]),
            ({"read_count__lte": 10}, ["a2", "a3"]),
            ({"read_count__range": (10, 500)}, ["a2", "a4"]),
            ({"read_count__gt": 5}, ["a1", "a2", "a4"]),  # compared as numbers, not as text ("10" < "5")
            ({"read_count__lt": 100}, ["a2", "a3"]),
            ({"read_count__isnull": True}, ["a5"]),
        ],
    )


def test_num_lookups(world: World) -> None:
    check(
        [
            ({"score": 3}, ["a2"]),
            ({"score": 3.0}, ["a2"]),
            ({"score": 1.5}, ["a1"]),
            ({"score__in": [1.5, 3]}, ["a1", "a2"]),
            ({"score__gt": 2}, ["a2", "a4"]),
            ({"score__gte": 2.5}, ["a2", "a4"]),
            ({"score__lt": 2.5}, ["a1"]),
            ({"score__lte": 2.5}, ["a1", "a4"]),
            ({"score__range": (1, 2.5)}, ["a1", "a4"]),
            ({"score__isnull": True}, ["a3", "a5"]),
        ],
    )


def test_str_lookups(world: World) -> None:
    check(
        [
            ({"treatment": "DMSO"}, ["a1"]),
            ({"treatment__exact": "dmso"}, []),
            ({"treatment": "dmso"}, []),
            ({"treatment__iexact": "dmso"}, ["a1"]),
            ({"treatment__in": ["DMSO", "IFNG", "other"]}, ["a1", "a2"]),
            ({"treatment__contains": "MSO"}, ["a1"]),
            ({"treatment__contains": "mso"}, ["a3"]),
            ({"treatment__icontains": "mso"}, ["a1", "a3"]),
            ({"treatment__startswith": "dmso"}, ["a3"]),
            ({"treatment__istartswith": "dmso"}, ["a1", "a3"]),
            ({"treatment__endswith": "high"}, ["a3"]),
            ({"treatment__endswith": "HIGH"}, []),
            ({"treatment__iendswith": "CONTROL"}, ["a4"]),
            ({"treatment__regex": r"^[A-Z]+$"}, ["a1", "a2"]),
            ({"treatment__regex": r"^dmso"}, ["a3"]),
            ({"treatment__iregex": r"^dmso"}, ["a1", "a3"]),
            ({"treatment__gt": "E"}, ["a2", "a3"]),  # text order
            ({"treatment__range": ("A", "J")}, ["a1", "a2"]),
            ({"treatment__isnull": True}, ["a5"]),
            ({"treatment__isnull": False}, ["a1", "a2", "a3", "a4"]),
        ],
    )


def test_like_lookups_on_feature_values_treat_percent_and_underscore_literally(world: World) -> None:
    check(
        [
            ({"treatment__contains": "%"}, ["a4"]),
            ({"treatment__startswith": "100%"}, ["a4"]),
            ({"treatment__contains": "_"}, ["a3"]),
            ({"treatment__icontains": "O_H"}, ["a3"]),
            ({"treatment__endswith": "_"}, []),
        ],
    )


def test_bool_lookups(world: World) -> None:
    check(
        [
            ({"flag": True}, ["a1", "a3"]),
            ({"flag": False}, ["a2"]),
            ({"flag__exact": True}, ["a1", "a3"]),
            ({"flag__in": [True, False]}, ["a1", "a2", "a3"]),
            ({"flag__isnull": True}, ["a4", "a5"]),
        ],
    )
    check([({"flag": True}, ["a2", "a4", "a5"]), ({"flag": False}, ["a1", "a3", "a4", "a5"])], exclude=True)


def test_date_lookups(world: World) -> None:
    check(
        [
            ({"experiment_date": "2025-10-31"}, ["a1"]),
            ({"experiment_date": date(2025, 10, 31)}, ["a1"]),
            ({"experiment_date__in": [date(2024, 1, 15), "2025-10-31"]}, ["a1", "a2"]),
            ({"experiment_date__gt": "2025-01-01"}, ["a1"]),
            ({"experiment_date__gte": date(2025, 1, 1)}, ["a1", "a3"]),
            ({"experiment_date__lt": date(2025, 1, 1)}, ["a2"]),
            ({"experiment_date__lte": "2025-01-01"}, ["a2", "a3"]),
            ({"experiment_date__range": (date(2024, 1, 1), "2025-06-30")}, ["a2", "a3"]),
            ({"experiment_date__startswith": "2025-"}, ["a1", "a3"]),
            ({"experiment_date__isnull": True}, ["a4", "a5"]),
        ],
    )


def test_datetime_lookups(world: World) -> None:
    check(
        [
            ({"measured_at": datetime(2025, 10, 31, 12)}, ["a1"]),
            ({"measured_at": "2025-10-31T12:00:00"}, ["a1"]),
            ({"measured_at": "2025-10-31 12:00"}, ["a1"]),
            ({"measured_at__in": [datetime(2024, 1, 15, 8, 30), datetime(2025, 1, 1)]}, ["a2", "a3"]),
            ({"measured_at__gt": datetime(2025, 1, 1)}, ["a1"]),
            ({"measured_at__gte": "2025-01-01"}, ["a1", "a3"]),
            ({"measured_at__lt": "2025-01-01T00:00:01"}, ["a2", "a3"]),
            ({"measured_at__lte": datetime(2024, 1, 15, 8, 30)}, ["a2"]),
            ({"measured_at__range": ("2024-01-01", datetime(2025, 6, 30))}, ["a2", "a3"]),
            ({"measured_at__startswith": "2025-10-31"}, ["a1"]),
            ({"measured_at__isnull": True}, ["a4", "a5"]),
        ],
    )


def test_dict_lookups_on_nested_keys(world: World) -> None:
    check(
        [
            ({"study_metadata__detail1": "123"}, ["a1"]),
            ({"study_metadata__assay__type": "RNA-seq"}, ["a1"]),
            ({"study_metadata__assay__type": "rna-seq"}, []),
            ({"study_metadata__assay__type__iexact": "rna-seq"}, ["a1"]),
            ({"study_metadata__assay__type__startswith": "ATAC"}, ["a2"]),
            ({"study_metadata__assay__type__icontains": "SEQ"}, ["a1", "a2"]),
            ({"study_metadata__assay__type__in": ["RNA-seq", "ATAC-seq"]}, ["a1", "a2"]),
            ({"study_metadata__isnull": True}, ["a3", "a4", "a5"]),
            ({"study_metadata__isnull": False}, ["a1", "a2"]),
            ({"meta__depth__gt": 2}, ["a1"]),
            ({"meta__depth": 1}, ["a2"]),
            ({"meta__depth__lte": 3}, ["a1", "a2"]),
            ({"meta__depth__range": (2, 5)}, ["a1"]),
            ({"meta__depth__in": [1, 3]}, ["a1", "a2"]),
            ({"meta__kind": "deep"}, ["a1"]),
        ],
    )
    check([({"meta__depth__gt": 2}, ["a2", "a3", "a4", "a5"])], exclude=True)


def test_dict_exact_on_the_whole_value(world: World) -> None:
    check([({"meta": {"depth": 1}}, ["a2"]), ({"meta": {"depth": 2}}, [])])


def test_list_lookups_are_containment(world: World) -> None:
    check(
        [
            ({"tags": "a"}, ["a1"]),
            ({"tags": "b"}, ["a1", "a2"]),
            ({"tags": "z"}, []),
            ({"tags__in": ["a", "c"]}, ["a1", "a3"]),
            ({"tags__in": ["a", "b"]}, ["a1", "a2"]),  # a1 holds both, and is listed once
            ({"tags__isnull": True}, ["a4", "a5"]),
            ({"counts": 2}, ["a1"]),
            ({"counts__in": [3, 7]}, ["a2"]),
        ],
    )
    check([({"tags": "b"}, ["a3", "a4", "a5"])], exclude=True)


def test_path_and_url_lookups(world: World) -> None:
    check(
        [
            ({"source_path": Path("/data/raw/a1.fastq")}, ["a1"]),
            ({"source_path": "/data/raw/a1.fastq"}, ["a1"]),
            ({"source_path__startswith": "/data/"}, ["a1", "a2"]),
            ({"source_path__endswith": ".parquet"}, ["a2"]),
            ({"source_path__contains": "raw"}, ["a1"]),
            ({"source_path__isnull": True}, ["a3", "a4", "a5"]),
            ({"homepage": "https://example.org/a1"}, ["a1"]),
            ({"homepage__istartswith": "HTTPS://"}, ["a1"]),
            ({"homepage__icontains": "EXAMPLE"}, ["a1", "a2"]),
            ({"homepage__iendswith": "/a2"}, ["a2"]),
            ({"homepage__regex": r"^http://"}, ["a2"]),
        ],
    )


# ---- categorical ---------------------------------------------------------------------------------------


def test_categorical_lookups(world: World) -> None:
    mine, other, unused = (world.labels[n] for n in ("My experiment", "Other experiment", "Unused"))
    check(
        [
            ({"experiment": "My experiment"}, ["a1", "a3"]),
            ({"experiment": mine}, ["a1", "a3"]),
            ({"experiment__in": [mine]}, ["a1", "a3"]),
            ({"experiment__in": [mine, other]}, ["a1", "a2", "a3"]),  # a3 has both, listed once
            ({"experiment__in": ["My experiment", "Other experiment"]}, ["a1", "a2", "a3"]),
            ({"experiment__in": ln.ULabel.filter(name__startswith="Other")}, ["a2", "a3"]),
            ({"experiment": unused}, []),
            ({"experiment": "No such experiment"}, []),
            ({"experiment__name": "Other experiment"}, ["a2", "a3"]),
            ({"experiment__name__startswith": "Other"}, ["a2", "a3"]),
            ({"experiment__name__icontains": "EXPERIMENT"}, ["a1", "a2", "a3"]),
            ({"experiment__iexact": "my EXPERIMENT"}, ["a1", "a3"]),
            ({"experiment__contains": "Other"}, ["a2", "a3"]),
            ({"experiment__isnull": True}, ["a4", "a5"]),
            ({"experiment__isnull": False}, ["a1", "a2", "a3"]),
        ],
    )


def test_categorical_lookups_only_see_links_of_the_feature(own_world: World) -> None:
    world = own_world
    # a plain label link (no feature) is not a value of the feature
    world.artifacts["a5"].ulabels.add(world.labels["My experiment"])
    check([({"experiment": "My experiment"}, ["a1", "a3"]), ({"experiment__isnull": True}, ["a4", "a5"])])
    assert keys(ln.Artifact.filter(ulabels__name="My experiment")) == ["a1", "a3", "a5"]


def test_typed_categorical_lookups(world: World) -> None:
    s1, s2, s3 = (world.records[n] for n in ("S1", "S2", "S3"))
    check(
        [
            ({"sample": "S1"}, ["a1", "a3"]),  # the untyped record "S1" is a2's donor, not its sample
            ({"sample": s3}, ["a3"]),
            ({"sample__in": [s1, s2]}, ["a1", "a2", "a3"]),
            ({"sample__in": ["S2", "S3"]}, ["a2", "a3"]),
            ({"sample__name__startswith": "S"}, ["a1", "a2", "a3"]),
            ({"sample": "D1"}, []),
            ({"sample": world.records["loose S1"]}, []),
            ({"sample__isnull": True}, ["a4", "a5"]),
            ({"donor": "S1"}, ["a2"]),
            ({"donor": "D1"}, ["a1"]),
            ({"donor": world.records["D1"]}, ["a1"]),
            ({"donor__type__name": "Donor"}, ["a1"]),
            ({"donor__isnull": True}, ["a3", "a4", "a5"]),
        ],
    )


def test_isnull_past_a_categorical_or_dict_feature_is_a_lookup_on_the_label_or_key(world: World) -> None:
    # like `ulabels__description__isnull=True`: the label's field, not the feature value, is null
    check(
        [
            ({"donor__type__isnull": True}, ["a2"]),
            ({"donor__type__isnull": False}, ["a1"]),
            ({"experiment__description__isnull": True}, ["a1", "a2", "a3"]),
            ({"meta__kind__isnull": False}, ["a1"]),
        ],
    )


# ---- combinations ----------------------------------------------------------------------------------


def test_features_combine_with_ordinary_fields(world: World) -> None:
    check(
        [
            ({"key__startswith": "a", "temperature__gt": 20}, ["a1", "a3"]),
            ({"description": "first", "temperature__gt": 20}, ["a1"]),
            ({"description__isnull": True, "experiment": "My experiment"}, ["a3"]),
            ({"ulabels__name": "My experiment", "flag": True}, ["a1", "a3"]),
            ({"sample": "S1", "experiment": "Other experiment"}, ["a3"]),
        ],
    )


def test_q_objects_with_features(world: World) -> None:
    from lamella import Q

    def got(*args: Any) -> list[str]:
        return keys(ln.Artifact.filter(*args))

    assert got(Q(temperature__gt=30) | Q(read_count__lt=15)) == ["a2", "a3"]
    assert got(Q(temperature__gt=20) | Q(read_count__lt=5)) == ["a1", "a3"]
    assert got(~Q(treatment="DMSO")) == ["a2", "a3", "a4", "a5"]
    assert got(Q(experiment="Other experiment") & ~Q(flag=True)) == ["a2"]
    assert got(Q(experiment="My experiment") | Q(description="fourth")) == ["a1", "a3", "a4"]
    assert got(~(Q(temperature__gt=20) | Q(temperature__isnull=True))) == ["a2", "a4"]
    assert got(Q(study_metadata__assay__type="RNA-seq") | Q(tags="c")) == ["a1", "a3"]
    assert ln.Artifact.filter(Q(temperature__gt=30) | Q(read_count__lt=15)).count() == 2


def test_exclude_keeps_owners_without_a_value(world: World) -> None:
    check(
        [
            ({"temperature__gt": 20}, ["a2", "a4", "a5"]),
            ({"treatment": "DMSO"}, ["a2", "a3", "a4", "a5"]),
            ({"experiment": "My experiment"}, ["a2", "a4", "a5"]),
            ({"experiment__isnull": True}, ["a1", "a2", "a3"]),
            ({"sample": "S3"}, ["a1", "a2", "a4", "a5"]),
            ({"study_metadata__assay__type": "RNA-seq"}, ["a2", "a3", "a4", "a5"]),
            ({"experiment_date__lt": "2025-01-01"}, ["a1", "a3", "a4", "a5"]),
            ({"treatment__icontains": "dmso"}, ["a2", "a4", "a5"]),
        ],
        exclude=True,
    )


def test_chained_filters_and_count(world: World) -> None:
    qs = ln.Artifact.filter(temperature__gt=10).filter(experiment="My experiment")
    assert keys(qs) == ["a1", "a3"] and qs.count() == 2
    assert keys(qs.exclude(sample="S3")) == ["a1"]
    assert keys(qs.filter(read_count__lt=100)) == ["a3"]
    assert ln.Artifact.filter(experiment__in=["My experiment", "Other experiment"]).count() == 3
    assert ln.Artifact.filter(tags__in=["a", "b", "c"]).count() == 3
    assert ln.Artifact.filter(temperature__isnull=False).exists()
    assert not ln.Artifact.filter(temperature__gt=100).exists()
    assert ln.Artifact.filter(temperature=21.6).one() == world.artifacts["a1"]
    assert ln.Artifact.get(treatment="IFNG") == world.artifacts["a2"]
    ordered = ln.Artifact.filter(temperature__isnull=False).order_by("key")
    assert [k.removesuffix(".txt") for k in ordered.to_list("key")] == ["a1", "a2", "a3", "a4"]


# ---- DataFrames ---------------------------------------------------------------------------------------


def test_to_dataframe_with_all_features(world: World) -> None:
    a = {k: v.id for k, v in world.artifacts.items()}
    df = ln.Artifact.filter(key__in=[f"{k}.txt" for k in ALL]).to_dataframe(include="features")
    assert sorted(df.index) == sorted(a.values())
    assert set(FEATURES) <= set(df.columns)
    assert "key" in df.columns  # the ordinary columns stay
    assert df.loc[a["a1"], "temperature"] == 21.6
    assert df.loc[a["a1"], "read_count"] == 2_000_000
    assert df.loc[a["a1"], "treatment"] == "DMSO"
    assert bool(df.loc[a["a1"], "flag"]) is True
    assert df.loc[a["a1"], "experiment_date"] == date(2025, 10, 31)
    assert type(df.loc[a["a1"], "experiment_date"]) is date
    assert df.loc[a["a1"], "measured_at"] == datetime(2025, 10, 31, 12)
    assert df.loc[a["a1"], "study_metadata"] == {"detail1": "123", "assay": {"type": "RNA-seq"}}
    assert df.loc[a["a1"], "tags"] == ["a", "b"]  # a list value stays one list
    assert df.loc[a["a1"], "source_path"] == "/data/raw/a1.fastq"
    assert df.loc[a["a1"], "experiment"] == "My experiment"  # categorical values as names
    assert df.loc[a["a1"], "sample"] == "S1"
    assert df.loc[a["a2"], "donor"] == "S1"
    assert sorted(df.loc[a["a3"], "experiment"]) == ["My experiment", "Other experiment"]  # several values
    assert sorted(df.loc[a["a3"], "sample"]) == ["S1", "S3"]
    # missing values
    assert missing(df.loc[a["a5"], "temperature"])
    assert missing(df.loc[a["a5"], "treatment"])
    assert missing(df.loc[a["a5"], "experiment"])
    assert missing(df.loc[a["a4"], "experiment_date"])


def test_to_dataframe_with_chosen_features(world: World) -> None:
    temperature = ln.Feature.get(name="temperature")
    df = ln.Artifact.filter(experiment__isnull=False).to_dataframe(features=[temperature, "experiment"])
    ids = {k: v.id for k, v in world.artifacts.items()}
    assert sorted(df.index) == [ids["a1"], ids["a2"], ids["a3"]]
    assert "temperature" in df.columns and "experiment" in df.columns
    assert not {"treatment", "read_count", "sample"} & set(df.columns)
    assert df.loc[ids["a2"], "temperature"] == 4.0
    assert df.loc[ids["a2"], "experiment"] == "Other experiment"
    single = ln.Artifact.filter(key="a1.txt").to_dataframe(features="experiment_date")
    assert single.loc[ids["a1"], "experiment_date"] == date(2025, 10, 31)
    with pytest.raises(InvalidArgument, match="no feature named 'nope'"):
        ln.Artifact.filter().to_dataframe(features=["temperature", "nope"])


def test_to_dataframe_int_features_stay_integers(world: World) -> None:
    df = ln.Artifact.filter(temperature__isnull=False).to_dataframe(features=["temperature", "read_count"])
    assert str(df["temperature"].dtype) == "float64"
    assert sorted(df["temperature"].tolist()) == [4.0, 20.0, 21.6, 37.0]
    assert str(df["read_count"].dtype) == "int64"
    assert sorted(df["read_count"].tolist()) == [3, 10, 500, 2_000_000]


def test_to_dataframe_whole_float_values_stay_floats(world: World) -> None:
    whole = ln.Artifact.filter(temperature__in=[4.0, 20.0]).to_dataframe(features=["temperature"])
    assert str(whole["temperature"].dtype) == "float64"
    assert all(type(v) is float for v in whole["temperature"].tolist())


def test_to_dataframe_of_an_empty_queryset(world: World) -> None:
    df = ln.Artifact.filter(temperature__gt=100).to_dataframe(include="features")
    assert len(df) == 0


# ---- runs and records ----------------------------------------------------------------------------------


def test_filtering_runs_by_feature_values(world: World) -> None:
    def names(qs: Any) -> list[str]:
        return sorted(qs.to_list("name"))

    assert names(ln.Run.filter(temperature__gt=20)) == ["r1"]
    assert names(ln.Run.filter(temperature__lte=10)) == ["r2"]
    assert names(ln.Run.filter(temperature=10)) == ["r2"]
    assert names(ln.Run.filter(treatment="DMSO")) == ["r2"]
    assert names(ln.Run.filter(experiment="My experiment")) == ["r1"]
    assert names(ln.Run.filter(experiment__isnull=True)) == ["r2"]
    assert names(ln.Run.filter(treatment__istartswith="dm")) == ["r2"]
    assert names(ln.Run.filter(tags="a")) == ["r1"]
    assert names(ln.Run.exclude(read_count=7)) == ["r1"]
    assert names(ln.Run.filter(read_count__isnull=True)) == ["r1"]
    df = ln.Run.filter(name__in=["r1", "r2"]).to_dataframe(include="features")
    assert df.loc[world.runs["r1"].id, "experiment"] == "My experiment"
    assert df.loc[world.runs["r2"].id, "temperature"] == 10.0


def test_filtering_records_by_feature_values(world: World) -> None:
    sample = ln.Record.get(name="Sample")

    def names(qs: Any) -> list[str]:
        return sorted(qs.to_list("name"))

    assert names(ln.Record.filter(temperature__gt=20)) == ["S1"]
    assert names(ln.Record.filter(temperature__lt=20)) == ["S2"]
    assert names(ln.Record.filter(temperature__range=(10, 30))) == ["S1", "S2"]
    assert names(ln.Record.filter(temperature=15)) == ["S2"]
    assert names(ln.Record.filter(treatment="IFNG")) == ["S2"]
    assert names(ln.Record.filter(treatment__icontains="ng")) == ["S2"]
    assert names(ln.Record.filter(treatment__regex="^IF")) == ["S2"]
    assert names(ln.Record.filter(flag=True)) == ["S1"]
    assert names(ln.Record.filter(experiment="My experiment")) == ["S1"]
    assert names(ln.Record.filter(experiment__name__startswith="Other")) == ["S2"]
    assert names(ln.Record.filter(donor=world.records["D1"])) == ["S1"]
    assert names(ln.Record.filter(donor__name="D1")) == ["S1"]
    assert names(ln.Record.filter(meta__depth__gt=2)) == ["S1"]
    assert names(ln.Record.filter(experiment_date__gte=date(2024, 1, 1))) == ["S1"]
    assert names(ln.Record.filter(experiment_date="2024-05-01")) == ["S1"]
    assert names(ln.Record.filter(tags="x")) == ["S2"]
    assert names(ln.Record.filter(tags__in=["y", "z"])) == ["S2"]
    assert names(ln.Record.filter(type=sample, temperature__isnull=True)) == ["S3"]
    assert names(ln.Record.filter(type=sample).exclude(experiment="My experiment")) == ["S2", "S3"]
    df = ln.Record.filter(type=sample).to_dataframe(include="features")
    s1, s2 = world.records["S1"].id, world.records["S2"].id
    assert df.loc[s1, "donor"] == "D1"
    assert df.loc[s1, "experiment_date"] == date(2024, 5, 1)
    assert df.loc[s2, "tags"] == ["x", "y"]
    assert df.loc[s2, "experiment"] == "Other experiment"


# ---- errors -------------------------------------------------------------------------------------------


def test_an_unknown_name_is_still_an_unknown_field(own_world: World) -> None:
    with pytest.raises(InvalidArgument, match="no field 'colour'") as info:
        ln.Artifact.filter(colour="red").count()
    assert "valid fields" in str(info.value)
    with pytest.raises(InvalidArgument, match="no field 'colour'"):
        ln.Artifact.filter(colour__startswith="r").count()
    ln.Feature(name="QC metrics", is_type=True).save()  # a feature type holds no values
    with pytest.raises(InvalidArgument, match="no field"):
        ln.Artifact.filter(**{"QC metrics": 1}).count()


INVALID: list[tuple[str, Any, str]] = [  # lookup, value, part of the message
    ("flag__gt", 1, "flag"),
    ("flag__range", (0, 1), "flag"),
    ("flag__contains", "t", "flag"),
    ("flag", "yes", "flag"),
    ("temperature__contains", "x", "temperature"),
    ("temperature__startswith", "2", "temperature"),
    ("temperature__regex", "^2", "temperature"),
    ("temperature", "warm", "temperature"),
    ("temperature__gt", "warm", "temperature"),
    ("temperature__range", 5, "range"),
    ("temperature__in", 5, "__in"),
    ("treatment__in", "DMSO", "__in"),
    ("read_count", 1.5, "read_count"),
    ("read_count__icontains", "1", "read_count"),
    ("experiment_date", "31/10/2025", "experiment_date"),
    ("experiment_date__gt", "yesterday", "experiment_date"),
    ("measured_at__lt", "noon", "measured_at"),
    ("study_metadata__gt", 1, "study_metadata"),
    ("study_metadata__contains", "x", "study_metadata"),
    ("tags__startswith", "a", "tags"),
    ("tags__gt", "a", "tags"),
    ("tags", 1, "tags"),
    ("temperature__unit", "C", "temperature"),  # a sub-field of a non-dict feature
    ("temperature__isnull__gt", True, "isnull"),
]


def test_invalid_lookups_on_feature_dtypes_raise(world: World) -> None:
    wrong = []
    for lookup, value, message in INVALID:
        try:
            ln.Artifact.filter(**{lookup: value}).count()
        except InvalidArgument as e:
            if message not in str(e):
                wrong.append(f"{lookup}={value!r}: {message!r} not in {str(e)!r}")
        except Exception as e:
            wrong.append(f"{lookup}={value!r}: raised {type(e).__name__}: {e}, not InvalidArgument")
        else:
            wrong.append(f"{lookup}={value!r}: no error")
    assert not wrong, "\n".join(wrong)
    assert ln.Artifact.filter(temperature__gt=20).count() == 2  # the session is still usable
