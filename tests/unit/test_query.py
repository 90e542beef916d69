"""The query language: Django lookups, traversal, Q objects, QuerySet methods, search, lookup, get."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lamella.errors import DoesNotExist, InvalidArgument, MultipleResultsFound

# ---- data -------------------------------------------------------------------------------------------

LABELS = {  # name -> description (None: no description)
    "Apple": "a red fruit",
    "apple pie": "a dessert",
    "Banana": None,
    "ab": "plain",
    "a_b": "with underscore",
    "100%": "percent",
    "x\\y": None,
}


@pytest.fixture
def labels(ln: ModuleType) -> dict[str, Any]:
    return {
        name: ln.ULabel(name=name, description=description).save() for name, description in LABELS.items()
    }


def names(qs: Any) -> list[str]:
    return sorted(qs.to_list("name"))


def check_cases(model: Any, field: str, cases: list[tuple[str, Any, list[Any]]]) -> None:
    """Runs every (lookup, value, expected) case and reports all mismatches at once."""
    wrong = []
    for lookup, value, expected in cases:
        qs = model.filter(**{lookup: value})
        got = sorted(qs.to_list(field))
        if got != sorted(expected) or qs.count() != len(expected):
            wrong.append(f"{lookup}={value!r}: expected {sorted(expected)}, got {got} (count {qs.count()})")
    assert not wrong, "\n".join(wrong)


@dataclass
class World:
    transform_a: Any
    transform_b: Any
    run_a: Any
    run_b: Any
    red: Any
    green: Any
    blue: Any
    artifacts: dict[str, Any]


@pytest.fixture
def world(ln: ModuleType, tmp_path: Path) -> World:
    """Artifacts with sizes 1..5, two runs of two transforms, and labels linked many-to-many."""
    transform_a = ln.Transform(key="pipeline A", kind="pipeline").save()
    transform_b = ln.Transform(key="pipeline B", kind="pipeline").save()
    run_a = ln.Run(transform_a, name="run a", started_at=datetime(2024, 1, 1, tzinfo=UTC)).save()
    run_b = ln.Run(transform_b, name="run b", started_at=datetime(2024, 6, 1, tzinfo=UTC)).save()
    specs = [  # key, size, description, run
        ("alpha/one.txt", 1, "First table", run_a),
        ("alpha/two.txt", 2, "Second TABLE", run_a),
        ("beta/three.txt", 3, None, run_b),
        ("beta/four.txt", 4, "fourth", None),
        ("gamma/five.txt", 5, "fifth", None),
    ]
    folder = tmp_path / "inputs"
    folder.mkdir()
    artifacts = {}
    for key, size, description, run in specs:
        path = folder / key.replace("/", "_")
        path.write_text(str(size) * size)
        artifacts[key] = ln.Artifact(path, key=key, description=description, run=run).save()
    red, green, blue = (ln.ULabel(name=n).save() for n in ("red", "green", "blue"))
    artifacts["alpha/one.txt"].ulabels.add(red, green)
    artifacts["alpha/two.txt"].ulabels.add(red)
    artifacts["beta/three.txt"].ulabels.add(blue)
    return World(transform_a, transform_b, run_a, run_b, red, green, blue, artifacts)


def keys(qs: Any) -> list[str]:
    return sorted(qs.to_list("key"))


# ---- string lookups ---------------------------------------------------------------------------------


STRING_CASES: list[tuple[str, Any, list[Any]]] = [
    ("name", "Apple", ["Apple"]),
    ("name__exact", "apple", []),
    ("name__iexact", "APPLE", ["Apple"]),
    ("name__contains", "pple", ["Apple", "apple pie"]),
    ("name__contains", "PPLE", []),
    ("name__icontains", "PPLE", ["Apple", "apple pie"]),
    ("name__startswith", "a", ["a_b", "ab", "apple pie"]),
    ("name__istartswith", "a", ["Apple", "a_b", "ab", "apple pie"]),
    ("name__endswith", "e", ["Apple", "apple pie"]),
    ("name__iendswith", "NANA", ["Banana"]),
    ("name__in", ["Apple", "Banana", "Cherry"], ["Apple", "Banana"]),
    ("name__in", [], []),
    ("name__regex", r"^[A-Z]", ["Apple", "Banana"]),
    ("name__regex", r"an{1}a$", ["Banana"]),
    ("name__gt", "b", ["x\\y"]),  # "x" sorts after "b"
    ("name__lt", "B", ["100%", "Apple"]),
    ("name__range", ("A", "Az"), ["Apple"]),
    ("description__isnull", True, ["Banana", "x\\y"]),
    ("description__isnull", False, ["100%", "Apple", "a_b", "ab", "apple pie"]),
    ("description", None, ["Banana", "x\\y"]),
    ("description__icontains", "RED", ["Apple"]),
]


def test_string_lookups(ln: ModuleType, labels: dict[str, Any]) -> None:
    check_cases(ln.ULabel, "name", STRING_CASES)


WILDCARD_CASES: list[tuple[str, Any, list[Any]]] = [
    ("name__startswith", "a_", ["a_b"]),  # "_" is not a wildcard
    ("name__istartswith", "A_", ["a_b"]),
    ("name__contains", "_", ["a_b"]),
    ("name__contains", "%", ["100%"]),  # "%" is not a wildcard
    ("name__icontains", "%", ["100%"]),
    ("name__endswith", "0%", ["100%"]),
    ("name__iendswith", "_B", ["a_b"]),
    ("name__contains", "\\", ["x\\y"]),  # nor is the escape character special
    ("name__startswith", "x\\", ["x\\y"]),
]


def test_like_wildcards_are_literal(ln: ModuleType, labels: dict[str, Any]) -> None:
    check_cases(ln.ULabel, "name", WILDCARD_CASES)


def test_iregex_ignores_case(ln: ModuleType, labels: dict[str, Any]) -> None:
    assert names(ln.ULabel.filter(name__iregex=r"^A")) == ["Apple", "a_b", "ab", "apple pie"]
    assert names(ln.ULabel.filter(name__iregex=r"BANANA")) == ["Banana"]


def test_text_lookups_reject_non_strings(ln: ModuleType, labels: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument, match="startswith"):
        ln.ULabel.filter(name__startswith=3).count()


def test_in_rejects_a_string(ln: ModuleType, labels: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument, match="__in"):
        ln.ULabel.filter(name__in="Apple").count()


def test_range_needs_two_values(ln: ModuleType, labels: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument, match="range"):
        ln.ULabel.filter(name__range="A").count()


# ---- numbers, dates, nulls --------------------------------------------------------------------------


INTEGER_CASES: list[tuple[str, Any, list[Any]]] = [
    ("size", 3, [3]),
    ("size__gt", 3, [4, 5]),
    ("size__gte", 3, [3, 4, 5]),
    ("size__lt", 3, [1, 2]),
    ("size__lte", 3, [1, 2, 3]),
    ("size__range", (2, 4), [2, 3, 4]),
    ("size__in", [1, 5, 7], [1, 5]),
    ("size__isnull", True, []),
    ("size__isnull", False, [1, 2, 3, 4, 5]),
]


def test_integer_lookups(ln: ModuleType, world: World) -> None:
    check_cases(ln.Artifact, "size", INTEGER_CASES)


def test_id_lookups(ln: ModuleType, world: World) -> None:
    one = world.artifacts["alpha/one.txt"]
    assert ln.Artifact.filter(id=one.id).one() == one
    assert ln.Artifact.filter(pk=one.id).one() == one
    assert ln.Artifact.filter(id__gt=one.id).count() == 4


DATETIME_CASES: list[tuple[str, Any, list[Any]]] = [
    ("started_at__gt", "2024-03-01", ["run b"]),
    ("started_at__gte", "2024-06-01T00:00:00+00:00", ["run b"]),
    ("started_at__lt", datetime(2024, 3, 1, tzinfo=UTC), ["run a"]),
    ("started_at__lte", "2024-01-01T00:00:00", ["run a"]),
    ("started_at__range", ("2023-12-31", "2024-01-02"), ["run a"]),
    ("started_at", datetime(2024, 6, 1, tzinfo=UTC), ["run b"]),
    ("finished_at__isnull", True, ["run a", "run b"]),
    ("finished_at__isnull", False, []),
]


def test_datetime_lookups(ln: ModuleType, world: World) -> None:
    check_cases(ln.Run, "name", DATETIME_CASES)


def test_datetime_lookup_rejects_a_non_date_string(ln: ModuleType, world: World) -> None:
    with pytest.raises(InvalidArgument, match="yesterday"):
        ln.Run.filter(started_at__gt="yesterday").count()


def test_datetimes_in_other_time_zones_compare_by_instant(ln: ModuleType) -> None:
    transform = ln.Transform(key="t").save()
    plus_two = timezone(timedelta(hours=2))
    ln.Run(
        transform, name="ten utc", started_at=datetime(2024, 6, 1, 12, tzinfo=plus_two)
    ).save()  # 10:00 UTC
    ln.Run(transform, name="noon utc", started_at=datetime(2024, 6, 1, 12, tzinfo=UTC)).save()
    assert names(ln.Run.filter(started_at__gt="2024-06-01T11:00:00+00:00")) == ["noon utc"]
    assert ln.Run.filter(started_at__lt=datetime(2024, 6, 1, 11, tzinfo=UTC)).to_list("name") == ["ten utc"]
    assert ln.Run.filter().order_by("started_at").to_list("name") == ["ten utc", "noon utc"]


def test_created_at_lookups(ln: ModuleType) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    ln.ULabel(name="new").save()
    assert ln.ULabel.filter(created_at__gte=before).count() == 1
    assert ln.ULabel.filter(created_at__gte=before.isoformat()).count() == 1
    assert ln.ULabel.filter(created_at__lt=before.isoformat()).count() == 0


def test_boolean_lookups(ln: ModuleType) -> None:
    ln.ULabel(name="Type", is_type=True).save()
    ln.ULabel(name="plain").save()
    assert ln.ULabel.filter(is_type=True).to_list("name") == ["Type"]
    assert ln.ULabel.filter(is_type=False).to_list("name") == ["plain"]


# ---- traversal --------------------------------------------------------------------------------------


def test_foreign_key_traversal(ln: ModuleType, world: World, storage_root: Path) -> None:
    assert keys(ln.Artifact.filter(run__transform__key="pipeline A")) == ["alpha/one.txt", "alpha/two.txt"]
    assert keys(ln.Artifact.filter(run__transform__key__endswith="B")) == ["beta/three.txt"]
    assert keys(ln.Artifact.filter(run__name__in=["run a", "run b"])) == keys(
        ln.Artifact.filter(run__isnull=False)
    )
    assert ln.Artifact.filter(transform=world.transform_a).count() == 2
    assert ln.Artifact.filter(transform__key__icontains="pipeline").count() == 3
    assert ln.Artifact.filter(run=world.run_b).one().key == "beta/three.txt"
    assert ln.Artifact.filter(run_id=world.run_b.id).one().key == "beta/three.txt"
    assert ln.Artifact.filter(run__id=world.run_b.id).one().key == "beta/three.txt"
    assert ln.Artifact.filter(run__in=[world.run_a, world.run_b]).count() == 3
    assert ln.Artifact.filter(run__isnull=True).count() == 2
    handle = ln.setup.settings.user.handle
    assert ln.Artifact.filter(created_by__handle=handle).count() == 5
    assert ln.Artifact.filter(created_by__handle="someone else").count() == 0
    assert ln.Artifact.filter(storage__root=str(storage_root)).count() == 5
    assert ln.Run.filter(transform__key="pipeline B").one() == world.run_b


def test_many_to_many_traversal(ln: ModuleType, world: World) -> None:
    assert keys(ln.Artifact.filter(ulabels=world.red)) == ["alpha/one.txt", "alpha/two.txt"]
    assert keys(ln.Artifact.filter(ulabels__name="green")) == ["alpha/one.txt"]
    assert keys(ln.Artifact.filter(ulabels__name__in=["green", "blue"])) == [
        "alpha/one.txt",
        "beta/three.txt",
    ]
    assert keys(ln.Artifact.filter(ulabels__in=[world.blue])) == ["beta/three.txt"]
    assert keys(ln.Artifact.filter(ulabels__isnull=True)) == ["beta/four.txt", "gamma/five.txt"]
    assert ln.Artifact.filter(ulabels__isnull=False).count() == 3
    assert names(ln.ULabel.filter(artifacts__key__startswith="alpha/")) == ["green", "red"]
    assert ln.Run.filter(output_artifacts__key="beta/three.txt").one() == world.run_b
    assert ln.Transform.filter(runs__name="run a").one() == world.transform_a


def test_to_many_filters_never_repeat_rows(ln: ModuleType, world: World) -> None:
    qs = ln.Artifact.filter(ulabels__name__in=["red", "green"])  # alpha/one.txt has both
    assert keys(qs) == ["alpha/one.txt", "alpha/two.txt"]
    assert qs.count() == len(qs) == len(list(qs)) == 2
    assert len(qs.to_dataframe()) == 2
    both = ln.Artifact.filter(ulabels=world.red).filter(ulabels=world.green)
    assert keys(both) == ["alpha/one.txt"]
    transform_qs = ln.Transform.filter(runs__name__startswith="run")
    assert transform_qs.count() == len(transform_qs) == 2
    assert ln.ULabel.filter(artifacts__key__startswith="alpha").count() == 2  # red is linked twice


def test_in_with_a_queryset(ln: ModuleType, world: World) -> None:
    warm = ln.ULabel.filter(name__in=["red", "green"])
    assert keys(ln.Artifact.filter(ulabels__in=warm)) == ["alpha/one.txt", "alpha/two.txt"]
    alpha = ln.Artifact.filter(key__startswith="alpha/")
    assert keys(ln.Artifact.filter(id__in=alpha)) == ["alpha/one.txt", "alpha/two.txt"]
    assert ln.Run.filter(transform__in=ln.Transform.filter(key="pipeline A")).one() == world.run_a
    assert names(ln.ULabel.filter(id__in=warm[:1])) == ["red"]


def test_traversal_through_an_unknown_field(ln: ModuleType, world: World) -> None:
    with pytest.raises(InvalidArgument, match="'colour'") as info:
        ln.Artifact.filter(run__transform__colour="x").count()
    assert "key" in str(info.value)  # lists the Transform's fields
    with pytest.raises(InvalidArgument, match="'foo'"):
        ln.Artifact.filter(size__foo=1).count()


# ---- Q objects and exclude --------------------------------------------------------------------------


def test_q_or_and_not(ln: ModuleType, world: World) -> None:
    Q = ln.Q
    assert keys(ln.Artifact.filter(Q(key__endswith="one.txt") | Q(key__endswith="five.txt"))) == [
        "alpha/one.txt",
        "gamma/five.txt",
    ]
    assert keys(ln.Artifact.filter(Q(key__startswith="alpha/") & Q(size__gt=1))) == ["alpha/two.txt"]
    assert keys(ln.Artifact.filter(~Q(key__startswith="alpha/"))) == [
        "beta/four.txt",
        "beta/three.txt",
        "gamma/five.txt",
    ]
    combined = (Q(size__lt=2) | Q(size__gt=4)) & ~Q(key__startswith="gamma/")
    assert keys(ln.Artifact.filter(combined)) == ["alpha/one.txt"]
    assert keys(ln.Artifact.filter(Q(size__gt=1), key__startswith="alpha/")) == ["alpha/two.txt"]
    assert ln.Artifact.filter(~~Q(key__startswith="alpha/")).count() == 2
    assert ln.Artifact.filter(Q()).count() == 5


def test_q_negation_across_relations(ln: ModuleType, world: World) -> None:
    Q = ln.Q
    # not linked to red: three, four, five (including those with no labels at all)
    assert keys(ln.Artifact.filter(~Q(ulabels=world.red))) == [
        "beta/four.txt",
        "beta/three.txt",
        "gamma/five.txt",
    ]
    assert keys(ln.Artifact.exclude(ulabels__name="red")) == [
        "beta/four.txt",
        "beta/three.txt",
        "gamma/five.txt",
    ]
    # not made by pipeline A: includes the artifacts without a run
    assert keys(ln.Artifact.exclude(run__transform__key="pipeline A")) == [
        "beta/four.txt",
        "beta/three.txt",
        "gamma/five.txt",
    ]


def test_exclude_follows_django_null_semantics(ln: ModuleType, world: World) -> None:
    # beta/three.txt has no description: it is not "fourth", so exclude keeps it
    assert keys(ln.Artifact.exclude(description="fourth")) == [
        "alpha/one.txt",
        "alpha/two.txt",
        "beta/three.txt",
        "gamma/five.txt",
    ]
    assert ln.Artifact.exclude(description__startswith="f").count() == 3
    assert ln.Artifact.filter(~ln.Q(description__icontains="table")).count() == 3
    assert keys(ln.Artifact.exclude(description__isnull=True)) == [
        "alpha/one.txt",
        "alpha/two.txt",
        "beta/four.txt",
        "gamma/five.txt",
    ]
    assert keys(ln.Artifact.exclude(description=None)) == keys(ln.Artifact.filter(description__isnull=False))
    assert ln.Artifact.exclude(description__in=["fourth", "fifth"]).count() == 3


def test_exclude_with_several_lookups_excludes_their_conjunction(ln: ModuleType, world: World) -> None:
    # Django: exclude(a, b) removes rows matching a AND b
    assert keys(ln.Artifact.exclude(key__startswith="alpha/", size=1)) == [
        "alpha/two.txt",
        "beta/four.txt",
        "beta/three.txt",
        "gamma/five.txt",
    ]


def test_filter_and_exclude_chain(ln: ModuleType, world: World) -> None:
    qs = ln.Artifact.filter(key__startswith="beta/").exclude(size=3)
    assert keys(qs) == ["beta/four.txt"]


def test_q_rejects_positional_non_q(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument):
        ln.Q("name")


# ---- QuerySet methods -------------------------------------------------------------------------------


def test_order_by_slicing_iteration(ln: ModuleType, world: World) -> None:
    qs = ln.Artifact.filter().order_by("size")
    assert [a.size for a in qs] == [1, 2, 3, 4, 5]
    assert ln.Artifact.filter().order_by("-size").to_list("size") == [5, 4, 3, 2, 1]
    assert [a.size for a in qs[1:3]] == [2, 3]
    assert [a.size for a in qs[3:]] == [4, 5]
    assert [a.size for a in qs[:2]] == [1, 2]
    assert qs[1:4][1:2].to_list("size") == [3]
    assert qs[0].size == 1 and qs[4].size == 5
    assert qs[1:3].count() == 2
    with pytest.raises(IndexError):
        qs[5]
    assert ln.Artifact.filter().order_by("-description").first().description == "fourth"
    by_run = ln.Artifact.filter(run__isnull=False).order_by("-run_id", "-size").to_list("size")
    assert by_run == [3, 2, 1]
    two_keys = ln.Run.filter().order_by("transform_id", "-started_at")
    assert two_keys.to_list("name") == ["run a", "run b"]


def test_order_by_an_unknown_field(ln: ModuleType, world: World) -> None:
    with pytest.raises(InvalidArgument, match="'colour'"):
        ln.Artifact.filter().order_by("colour")
    with pytest.raises(InvalidArgument, match="'colour'"):
        ln.Artifact.filter().order_by("-colour")


def test_filter_after_slicing_is_refused(ln: ModuleType, world: World) -> None:
    with pytest.raises(InvalidArgument, match="slice"):
        ln.Artifact.filter()[:2].filter(size=1)


def test_negative_indexing_is_refused(ln: ModuleType, world: World) -> None:
    with pytest.raises(InvalidArgument):
        ln.Artifact.filter()[-1]


def test_first_last_one_one_or_none(ln: ModuleType, world: World) -> None:
    qs = ln.Artifact.filter(key__startswith="alpha/").order_by("size")
    assert qs.first().key == "alpha/one.txt"
    assert qs.last().key == "alpha/two.txt"
    assert ln.Artifact.filter(key__startswith="alpha/").order_by("-size").last().key == "alpha/one.txt"
    assert ln.Artifact.filter().last() == world.artifacts["gamma/five.txt"]  # by id without an order
    assert ln.Artifact.filter(key="nope").first() is None
    assert ln.Artifact.filter(key="nope").last() is None
    assert ln.Artifact.filter(size=3).one().key == "beta/three.txt"
    assert ln.Artifact.filter(size=3).one_or_none().key == "beta/three.txt"
    assert ln.Artifact.filter(size=30).one_or_none() is None
    with pytest.raises(MultipleResultsFound):
        qs.one()
    with pytest.raises(MultipleResultsFound):
        qs.one_or_none()
    with pytest.raises(DoesNotExist):
        ln.Artifact.filter(size=30).one()


def test_exists_and_count(ln: ModuleType, world: World) -> None:
    assert ln.Artifact.filter(size__gt=4).exists()
    assert not ln.Artifact.filter(size__gt=5).exists()
    assert ln.Artifact.filter().count() == 5
    assert ln.Artifact.filter(size__gt=2).count() == 3
    assert bool(ln.Artifact.filter(size=1)) and not bool(ln.Artifact.filter(size=100))


def test_querysets_are_lazy_and_reusable(ln: ModuleType, world: World) -> None:
    base = ln.Artifact.filter(key__startswith="alpha/")
    narrower = base.filter(size=2)
    assert base.count() == 2 and narrower.count() == 1  # filter returns a new QuerySet
    pending = ln.ULabel.filter(name__startswith="late")
    ln.ULabel(name="late label").save()
    assert pending.count() == 1  # evaluated when asked


def test_to_list(ln: ModuleType, world: World) -> None:
    qs = ln.Artifact.filter(key__startswith="alpha/").order_by("key")
    assert qs.to_list("key") == ["alpha/one.txt", "alpha/two.txt"]
    assert [a.key for a in qs.to_list()] == ["alpha/one.txt", "alpha/two.txt"]
    with pytest.raises(InvalidArgument, match="'colour'"):
        qs.to_list("colour")


def test_to_dataframe(ln: ModuleType, world: World) -> None:
    df = ln.Artifact.filter(key__startswith="alpha/").order_by("key").to_dataframe()
    assert df.index.name == "id"
    assert list(df["key"]) == ["alpha/one.txt", "alpha/two.txt"]
    assert {"uid", "key", "description", "suffix", "size", "hash", "is_latest", "created_at"} <= set(
        df.columns
    )
    assert not any(column.startswith("_") for column in df.columns)
    assert list(df.index) == [world.artifacts["alpha/one.txt"].id, world.artifacts["alpha/two.txt"].id]


def test_to_dataframe_include(ln: ModuleType, world: World) -> None:
    df = (
        ln.Artifact.filter()
        .order_by("size")
        .to_dataframe(include=["created_by__handle", "run__transform__key", "ulabels__name"])
    )
    assert set(df["created_by__handle"]) == {ln.setup.settings.user.handle}
    assert list(df["run__transform__key"])[:3] == ["pipeline A", "pipeline A", "pipeline B"]
    assert df["run__transform__key"].iloc[3:].isna().all()
    by_key = dict(zip(df["key"], df["ulabels__name"], strict=True))
    assert sorted(by_key["alpha/one.txt"]) == ["green", "red"]  # a to-many include gives lists
    assert by_key["alpha/two.txt"] == ["red"]
    assert by_key["gamma/five.txt"] in (None, [])
    assert len(df) == 5


def test_to_dataframe_include_a_string(ln: ModuleType, world: World) -> None:
    df = ln.Run.filter().order_by("name").to_dataframe(include="transform__key")
    assert list(df["transform__key"]) == ["pipeline A", "pipeline B"]


def test_to_dataframe_include_reverse_relation(ln: ModuleType, world: World) -> None:
    df = ln.Transform.filter().order_by("key").to_dataframe(include=["runs__name"])
    assert list(df["runs__name"]) == [["run a"], ["run b"]]


def test_to_dataframe_include_errors(ln: ModuleType, world: World) -> None:
    with pytest.raises(InvalidArgument):
        ln.Artifact.filter().to_dataframe(include=["run__colour"])
    with pytest.raises(InvalidArgument):
        ln.Artifact.filter().to_dataframe(include=["run"])


def test_df_is_the_old_spelling(ln: ModuleType, world: World) -> None:
    assert ln.Artifact.df().equals(ln.Artifact.to_dataframe())
    assert ln.Artifact.filter(size=1).df().equals(ln.Artifact.filter(size=1).to_dataframe())
    assert len(ln.Artifact.df()) == 5
    assert list(ln.Artifact.filter(size=1).df(include="run__name")["run__name"]) == ["run a"]


def test_empty_dataframe(ln: ModuleType) -> None:
    df = ln.ULabel.filter(name="nothing").to_dataframe()
    assert len(df) == 0
    assert "name" in df.columns


def test_queryset_delete(ln: ModuleType, labels: dict[str, Any]) -> None:
    deleted = ln.ULabel.filter(name__istartswith="a").delete()
    assert deleted == 4
    assert names(ln.ULabel.filter()) == ["100%", "Banana", "x\\y"]
    assert ln.ULabel.filter(branch_id=-1).count() == 4  # in the trash
    ln.ULabel.filter(branch_id=-1, name="ab").delete(permanent=True)
    assert ln.ULabel.filter(branch_id=None).count() == 6


def test_all_and_repr(ln: ModuleType, labels: dict[str, Any]) -> None:
    assert ln.ULabel.all().count() == len(LABELS)
    assert ln.ULabel.filter(name="Apple").all().count() == 1
    assert "Apple" in repr(ln.ULabel.filter(name="Apple"))


# ---- unknown fields ---------------------------------------------------------------------------------


def test_filter_on_an_unknown_field(ln: ModuleType, world: World) -> None:
    with pytest.raises(InvalidArgument, match="'colour'") as info:
        ln.Artifact.filter(colour="red").count()
    message = str(info.value)
    for valid in ("key", "description", "size", "ulabels", "run"):
        assert valid in message
    with pytest.raises(InvalidArgument, match="'colour'"):
        ln.Artifact.exclude(colour="red")
    with pytest.raises(InvalidArgument, match="'colour'"):
        ln.Artifact.filter(ln.Q(colour="red"))
    with pytest.raises(InvalidArgument, match="'colour'"):
        ln.Artifact.get(colour="red")


def test_unknown_lookup_operator(ln: ModuleType, world: World) -> None:
    with pytest.raises(InvalidArgument, match="sortof"):
        ln.Artifact.filter(key__sortof="x").count()


# ---- JSON lookups on Run.params ---------------------------------------------------------------------


@pytest.fixture
def param_runs(ln: ModuleType) -> None:
    transform = ln.Transform(key="training").save()
    for name, params in [
        (
            "small",
            {"learning_rate": 0.01, "batch_size": 16, "a": {"b": "x"}, "optimizer": "adam", "debug": True},
        ),
        (
            "large",
            {"learning_rate": 0.1, "batch_size": 64, "a": {"b": "y"}, "optimizer": "sgd", "debug": False},
        ),
        ("int lr", {"learning_rate": 1, "batch_size": 32, "a": {"b": "x", "c": 3}}),
        ("none", None),
    ]:
        ln.Run(transform, name=name, params=params).save()


JSON_CASES: list[tuple[str, Any, list[Any]]] = [
    ("params__learning_rate", 0.01, ["small"]),
    ("params__learning_rate", 1, ["int lr"]),
    ("params__batch_size", 16, ["small"]),
    ("params__batch_size__gt", 16, ["int lr", "large"]),
    ("params__batch_size__lte", 32, ["int lr", "small"]),
    ("params__batch_size__in", [16, 64], ["large", "small"]),
    ("params__batch_size__range", (20, 70), ["int lr", "large"]),
    ("params__a__b", "x", ["int lr", "small"]),
    ("params__a__c", 3, ["int lr"]),
    ("params__optimizer", "adam", ["small"]),
    ("params__optimizer__startswith", "s", ["large"]),
    ("params__optimizer__in", ["adam", "sgd"], ["large", "small"]),
    ("params__debug", True, ["small"]),
    ("params__debug", False, ["large"]),
    ("params__optimizer__isnull", True, ["int lr", "none"]),
    ("params__optimizer__isnull", False, ["large", "small"]),
]


def test_json_lookups(ln: ModuleType, param_runs: None) -> None:
    check_cases(ln.Run, "name", JSON_CASES)


def test_json_field_isnull_finds_runs_without_params(ln: ModuleType, param_runs: None) -> None:
    assert names(ln.Run.filter(params__isnull=True)) == ["none"]
    assert names(ln.Run.filter(params__isnull=False)) == ["int lr", "large", "small"]
    assert names(ln.Run.filter(params=None)) == ["none"]


def test_json_exclude(ln: ModuleType, param_runs: None) -> None:
    # Django null semantics: runs without the key are not "x", so they stay
    assert names(ln.Run.exclude(params__a__b="x")) == ["large", "none"]


# ---- get --------------------------------------------------------------------------------------------


def test_get_by_id_uid_and_lookups(ln: ModuleType, world: World) -> None:
    one = world.artifacts["alpha/one.txt"]
    assert ln.Artifact.get(one.id) == one
    assert ln.Artifact.get(one.uid) == one
    assert ln.Artifact.get(key="alpha/one.txt") == one
    assert ln.Artifact.get(size=1, key__startswith="alpha/") == one
    assert ln.Artifact.filter(key__startswith="alpha/").get(size=1) == one
    assert ln.ULabel.get(name="red") == world.red
    assert ln.Transform.get(key="pipeline A") == world.transform_a
    assert ln.Run.get(world.run_a.uid) == world.run_a


def test_get_by_stem_uid_returns_the_latest_version(ln: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "v.txt"
    path.write_text("v1")
    v1 = ln.Artifact(path, key="v.txt").save()
    path.write_text("v2")
    v2 = ln.Artifact(path, key="v.txt").save()
    assert ln.Artifact.get(v1.uid[:16]) == v2
    assert ln.Artifact.get(v1.uid) == v1
    assert ln.Artifact.get(key="v.txt") == v2
    assert ln.Artifact.get(key="v.txt", is_latest=False) == v1
    transform = ln.Transform(key="t").save()
    assert ln.Transform.get(transform.uid[:12]) == transform


def test_get_errors(ln: ModuleType, world: World) -> None:
    with pytest.raises(DoesNotExist, match="nope"):
        ln.Artifact.get(key="nope")
    with pytest.raises(DoesNotExist):
        ln.Artifact.get(99999)
    with pytest.raises(DoesNotExist):
        ln.Artifact.get("A" * 20)
    with pytest.raises(DoesNotExist):
        ln.Artifact.get("A" * 16)
    with pytest.raises(MultipleResultsFound):
        ln.Artifact.get(key__startswith="alpha/")
    with pytest.raises(InvalidArgument):
        ln.Artifact.get()
    with pytest.raises(InvalidArgument):
        ln.Artifact.get(1.5)  # type: ignore[arg-type]
    with pytest.raises(LookupError):
        ln.ULabel.get(name="none such")


def test_lookup_errors_are_lookup_errors() -> None:
    assert issubclass(DoesNotExist, LookupError)
    assert issubclass(MultipleResultsFound, LookupError)


def test_manager_get_and_trash_via_uid(ln: ModuleType, world: World) -> None:
    one = world.artifacts["alpha/one.txt"]
    one.delete()
    assert ln.Artifact.get(one.uid) == one
    assert ln.Artifact.get(one.id) == one
    with pytest.raises(DoesNotExist):
        ln.Artifact.get(key="alpha/one.txt")
    assert ln.Artifact.get(key="alpha/one.txt", branch_id=-1) == one


# ---- search and lookup ------------------------------------------------------------------------------


@pytest.fixture
def searchable(ln: ModuleType) -> None:
    for name, description in [
        ("T cell receptor", "a receptor"),
        ("T cell", "a lymphocyte"),
        ("Regulatory T cell", "suppresses"),
        ("cell cycle T phase", None),
        ("B cell", "T helper target"),
        ("Neuron", None),
    ]:
        ln.ULabel(name=name, description=description).save()


def test_search_ranks_best_first(ln: ModuleType, searchable: None) -> None:
    hits = ln.ULabel.search("t cell").to_list("name")
    assert hits[0] == "T cell"  # exact
    assert hits[1] == "T cell receptor"  # prefix
    assert hits[2] == "Regulatory T cell"  # substring
    assert "cell cycle T phase" in hits[3:]  # every word somewhere
    assert "Neuron" not in hits


def test_search_matches_descriptions(ln: ModuleType, searchable: None) -> None:
    assert ln.ULabel.search("lymphocyte").to_list("name") == ["T cell"]
    assert "B cell" in ln.ULabel.search("helper").to_list("name")


def test_search_chained_after_filter(ln: ModuleType, searchable: None) -> None:
    hits = ln.ULabel.filter(name__startswith="R").search("T cell").to_list("name")
    assert hits == ["Regulatory T cell"]
    assert ln.ULabel.filter(description__isnull=True).search("cell").to_list("name") == ["cell cycle T phase"]


def test_search_field_limit_and_errors(ln: ModuleType, searchable: None) -> None:
    assert ln.ULabel.search("receptor", field="name").to_list("name") == ["T cell receptor"]
    assert ln.ULabel.search("cell", limit=2).count() == 2
    assert ln.ULabel.search("nothing like this").count() == 0
    with pytest.raises(InvalidArgument):
        ln.ULabel.search("   ")


def test_search_treats_wildcards_literally(ln: ModuleType, labels: dict[str, Any]) -> None:
    assert ln.ULabel.search("a_").to_list("name") == ["a_b"]
    assert ln.ULabel.search("%").to_list("name") == ["100%"]


def test_search_artifacts_by_key_and_description(ln: ModuleType, world: World) -> None:
    assert ln.Artifact.search("first table").first().key == "alpha/one.txt"
    assert ln.Artifact.search("gamma").to_list("key") == ["gamma/five.txt"]
    assert ln.Transform.search("pipeline b").first() == world.transform_b


def test_lookup_normalizes_names(ln: ModuleType, labels: dict[str, Any]) -> None:
    lookup = ln.ULabel.lookup()
    assert lookup.apple == labels["Apple"]
    assert lookup.apple_pie == labels["apple pie"]
    assert lookup.banana == labels["Banana"]
    assert lookup.a_b == labels["a_b"]
    assert lookup._100 == labels["100%"]
    assert lookup["apple pie"] == labels["apple pie"]
    assert "apple_pie" in dir(lookup)
    assert len(lookup) == len(LABELS)
    with pytest.raises(AttributeError, match="cherry"):
        lookup.cherry  # noqa: B018


def test_lookup_by_another_field_and_on_a_queryset(ln: ModuleType, world: World) -> None:
    by_key = ln.Artifact.lookup()
    assert by_key.alpha_one_txt == world.artifacts["alpha/one.txt"]
    handle = ln.setup.settings.user.handle
    assert ln.User.lookup("handle")[handle].handle == handle
    assert list(ln.ULabel.filter(name__in=["red", "blue"]).lookup().dict()) == ["red", "blue"]


# --- keyset pagination --------------------------------------------------------------------------------


@pytest.fixture
def many_labels(ln: ModuleType) -> list[Any]:
    """25 labels, several sharing a created_at (ties the order must still place once each)."""
    labels = ln.save([ln.ULabel(name=f"page_{i:02d}", is_type=i % 3 == 0) for i in range(25)])
    shared = datetime(2026, 1, 1, tzinfo=UTC)
    for label in list(ln.ULabel.filter(name__startswith="page_"))[:10]:
        label.created_at = shared
        label.save()
    return list(labels)


def _pages(qs: Any, size: int) -> list[Any]:
    pages, page = [], list(qs[:size])
    while page:
        pages.append(page)
        page = list(qs.after(page[-1])[:size])
    return pages


@pytest.mark.parametrize("order", [("-created_at",), ("created_at",), ("is_type", "-created_at"), ("-uid",)])
def test_pages_after_a_row_list_every_row_once_in_order(ln: ModuleType, many_labels: Any, order: Any) -> None:
    qs = ln.ULabel.filter(name__startswith="page_").order_by(*order)
    expected = [label.name for label in qs]
    pages = _pages(qs, 7)
    assert [len(p) for p in pages] == [7, 7, 7, 4]
    assert [label.name for page in pages for label in page] == expected
    assert [label.name for label in qs.iterator(chunk_size=4)] == expected


def test_iterator_reads_in_chunks_of_any_order_and_slice(ln: ModuleType, many_labels: Any) -> None:
    by_description = ln.ULabel.filter(name__startswith="page_").order_by("description", "name")
    assert [x.name for x in by_description.iterator(chunk_size=6)] == [x.name for x in by_description]
    sliced = ln.ULabel.filter(name__startswith="page_").order_by("name")[3:17]
    assert [x.name for x in sliced.iterator(chunk_size=5)] == [f"page_{i:02d}" for i in range(3, 17)]
    with pytest.raises(InvalidArgument, match="positive integer"):
        next(by_description.iterator(chunk_size=0))


def test_after_needs_an_order_without_nulls_and_a_record_of_the_query(
    ln: ModuleType, many_labels: Any
) -> None:
    qs = ln.ULabel.filter(name__startswith="page_")
    first = qs.order_by("name").first()
    with pytest.raises(InvalidArgument, match="'description' can be NULL"):
        qs.order_by("description").after(first)
    with pytest.raises(InvalidArgument, match="slice"):
        qs[:3].after(first)
    with pytest.raises(InvalidArgument, match="takes a ULabel"):
        qs.after("page_01")
    # the default order is by id
    assert [x.id for x in qs.after(first)] == sorted(x.id for x in qs if x.id > first.id)
