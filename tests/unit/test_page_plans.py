"""Pages of a filter through links (`_query/page_plans.py`): a broad one walks the order on SQLite, a
narrow one reads its matches first on PostgreSQL; either way the rows are those of reading every
match and sorting it."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from lamella._query import page_plans
from statements import statements_of


@pytest.fixture
def annotated(backend: str, db_url: str | None, tmp_path: Path, lamella_home: str) -> ModuleType:
    import lamella as ln

    ln.setup.init(storage=tmp_path / "data", name=f"pages-{backend}", db=db_url)
    ln.Feature(name="temperature", dtype=float).save()
    label = ln.ULabel(name="hot").save()
    for i in range(40):
        path = tmp_path / f"f{i}.txt"
        path.write_text(str(i))
        artifact = ln.Artifact(path, key=f"k/{i:02d}.txt").save()
        artifact.features.add_values({"temperature": float(i)})
        if i % 3 == 0:
            artifact.ulabels.add(label)
    return ln


@pytest.mark.parametrize("broad", [5, 10_000])  # steered to EXISTS, or kept as IN
def test_pages_have_the_rows_of_the_whole_sorted_result(
    annotated: ModuleType, monkeypatch: pytest.MonkeyPatch, broad: int
) -> None:
    ln = annotated
    monkeypatch.setattr(page_plans, "BROAD", broad)
    for lookups in (
        {"temperature__gt": 9.5},
        {"temperature__lt": 2},
        {"ulabels__name": "hot"},
        {"ulabels__name": "hot", "temperature__gte": 12},
        {"ulabels__name": "none"},
    ):
        for order in ("-created_at", "key", "-key"):
            qs = ln.Artifact.filter(**lookups).order_by(order)
            everything = [a.key for a in qs]  # no slice: read and sorted whole
            assert [a.key for a in qs[:7]] == everything[:7], (lookups, order)
            assert [a.key for a in qs[7:14]] == everything[7:14], (lookups, order)


def test_a_broad_filter_is_checked_per_row_and_a_narrow_one_read_first(
    annotated: ModuleType, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    ln = annotated
    monkeypatch.setattr(page_plans, "BROAD", 10)
    broad = statements_of(lambda: list(ln.Artifact.filter(temperature__gt=5).order_by("-created_at")[:5]))
    narrow = statements_of(lambda: list(ln.Artifact.filter(temperature__gt=35).order_by("-created_at")[:5]))
    if backend == "sqlite":  # SQLite reads a subquery first: a broad one is checked per row instead
        assert "EXISTS (SELECT" in broad[-1] and "+ artifact_featurevalue.value_num" in broad[-1]
        assert "EXISTS" not in narrow[-1] and "IN (SELECT artifact_featurevalue.artifact_id" in narrow[-1]
    else:  # PostgreSQL walks the order: a narrow filter's ids are read first instead
        assert "array_agg" not in broad[-1] and "IN (SELECT artifact_featurevalue.artifact_id" in broad[-1]
        assert "= ANY (CAST((SELECT array_agg(artifact_featurevalue.artifact_id)" in narrow[-1]
    # whole results and counts are not pages: no probe, no rewrite
    whole = statements_of(lambda: ln.Artifact.filter(temperature__gt=5).count())
    assert len(whole) == 2 and "EXISTS" not in whole[-1]
