"""The scale benchmark's generator (benchmarks/_scale) writes rows the API reads as its own.

Shape only, at a few hundred rows: nothing here is timed (the benchmark itself measures speed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def scale_modules() -> Any:
    sys.path.insert(0, str(BENCH_DIR))
    try:
        from _scale import generate, instances, seed

        yield generate, instances, seed
    finally:
        sys.path.remove(str(BENCH_DIR))


def test_generated_rows_read_like_api_rows(ln: ModuleType, tmp_path: Path, scale_modules: Any) -> None:
    generate, instances, seed = scale_modules
    from lamella._instance import state

    layout = generate.Layout(n=400, labels=10)
    seeded = seed.seed(
        ln,
        {
            "mode": "template",
            "labels": layout.labels,
            "key": layout.key(layout.template_family),
            "files": str(tmp_path / "files"),
        },
    )
    url = f"sqlite:///{state.current().config.sqlite_path()}"
    from sqlalchemy import create_engine

    reader = create_engine(url)
    template = instances.read_template(reader, seeded)
    reader.dispose()
    engine = instances.load_engine(url, template, layout)
    indexes = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    with engine.connect() as conn:
        before = conn.exec_driver_sql(indexes).all()
    report = generate.generate(engine, layout, template, chunk=150)
    with engine.connect() as conn:  # dropped for the load, created again from their own SQL
        assert conn.exec_driver_sql(indexes).all() == before
    assert instances.check_shape(engine, template, report) == []
    assert report.warnings == []
    engine.dispose()

    assert ln.Artifact.filter().count() == layout.n == report.expected["count_all"]
    assert ln.Artifact.filter(key__startswith="project7/").count() == report.expected["key_prefix"]
    assert (
        ln.Artifact.filter(temperature__gt=20, temperature__lt=20.5).count()
        == report.expected["temperature_range"]
    )
    assert ln.Artifact.filter(ulabels__name="label_3").count() == report.expected["label_3"]

    # a single-version family: uid stem + "0000", a float feature, found by key
    artifact = ln.Artifact.get(key=layout.key(7))
    assert len(artifact.uid) == 20 and artifact.uid.endswith("0000") and artifact.is_latest
    temperature = artifact.features.get_values()["temperature"]
    assert isinstance(temperature, float) and 15 <= temperature < 33.75
    assert len(artifact.hash) == 22

    # a two-version family: same stem, the older not latest, get(key=) answers the newer one
    versions = ln.Artifact.filter(key=layout.key(20)).order_by("created_at").to_list()
    assert [v.uid[16:] for v in versions] == ["0000", "0001"]
    assert [v.is_latest for v in versions] == [False, True]
    assert versions[0].uid[:16] == versions[1].uid[:16]
    assert ln.Artifact.get(key=layout.key(20)).uid == versions[1].uid
    assert versions[0].updated_at == versions[1].created_at

    # the API continues a generated family: a new version takes the next suffix
    path = tmp_path / "next.parquet"
    seed.write_parquet(path, "next")
    saved = ln.Artifact(str(path), key=layout.key(20)).save()
    assert saved.uid == versions[1].uid[:16] + "0002"
    assert ln.Artifact.filter(key=layout.key(20), is_latest=True).count() == 1

    # labels: some links carry the cat[ULabel] feature (features.get_values shows them)
    with_feature = [
        a.features.get_values()
        for a in ln.Artifact.filter(ulabels__name__startswith="label_")[:60]
        if "category" in a.features.get_values()
    ]
    assert with_feature and all(v["category"].startswith("label_") for v in with_feature)
