"""Benchmark: feature values: `add_values`, `filter(temperature__gt=20).count()`, `to_dataframe(include="features")`.

    .venv/bin/python benchmarks/bench_features.py [--scale small|full] [--profile]

Full scale: add_values on 1,000 artifacts (1 float, then 10 floats each); the count over those 1,000
annotated artifacts and over 100,000 (the 99,000 extra artifacts and their values are filled in with
direct SQL, which is not timed); to_dataframe(include="features") of 10,000 artifacts × 10 features.
Small scale: 200 artifacts, 5,000 for the large count, 1,000 for the DataFrame.
"""

from __future__ import annotations

import random
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    RESULTS_DIR,
    Results,
    finish,
    init_instance,
    median,
    now,
    parse,
    parser,
    percentile,
    temp_folder,
)
from _profiling import profiled


def fill_values_with_sql(
    db_path: Path, n_artifacts: int, feature_ids: list[int], start: int, prefix: str = "bench/features/fill/"
) -> None:
    """Copies of the newest artifact row, each with one distinct value of every feature in `feature_ids`."""
    import base64
    import hashlib
    import json

    from lamella._uid import base62

    connection = sqlite3.connect(db_path, timeout=60)
    connection.row_factory = sqlite3.Row
    template = connection.execute("SELECT * FROM artifact ORDER BY id DESC LIMIT 1").fetchone()
    columns = [c for c in template.keys() if c != "id"]  # noqa: SIM118 - sqlite3.Row
    insert_artifact = (
        f"INSERT INTO artifact ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )
    user_id = template["created_by_id"]
    rng = random.Random(start)
    connection.execute("BEGIN IMMEDIATE")
    first = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM artifact").fetchone()[0]
    rows = []
    for index in range(n_artifacts):
        row = {c: template[c] for c in columns}
        row["uid"] = base62(16) + "0000"
        row["key"] = f"{prefix}{start + index:07d}.txt"
        row["hash"] = f"fillf{start + index:017d}"
        rows.append(tuple(row[c] for c in columns))
    connection.executemany(insert_artifact, rows)
    values, links = [], []
    next_value = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM featurevalue").fetchone()[0]
    for index in range(n_artifacts):
        for feature_id in feature_ids:
            value = 40 * (index + rng.random()) / n_artifacts  # spread over [0, 40), distinct per feature
            text = json.dumps(value)
            digest = base64.urlsafe_b64encode(hashlib.md5(text.encode()).digest()).decode()[:22]
            values.append((next_value, feature_id, text, digest, "2026-01-01 00:00:00", user_id))
            links.append((first + index, next_value, "2026-01-01 00:00:00"))
            next_value += 1
    connection.executemany(
        "INSERT OR IGNORE INTO featurevalue (id, feature_id, value, hash, created_at, created_by_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        values,
    )
    connection.executemany(
        "INSERT INTO artifact_featurevalue (artifact_id, featurevalue_id, created_at) VALUES (?, ?, ?)", links
    )
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()


def timed_query(function, runs: int) -> tuple[float, list[float], object]:  # type: ignore[no-untyped-def]
    times, value = [], None
    for _ in range(runs):
        start = now()
        value = function()
        times.append(now() - start)
    return median(times), times, value


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--profile", action="store_true", help="cProfile the timed sections")
    args = parse(p)
    full = args.scale == "full"
    n = 1_000 if full else 200
    n_large = 100_000 if full else 5_000
    n_frame = 10_000 if full else 1_000
    results = Results("features", args.scale)
    print(
        f"feature values (scale {args.scale}: {n:,} artifacts, count over {n_large:,}, frame of {n_frame:,})"
    )
    with temp_folder("features", args.tmp, args.keep) as tmp:
        instance = init_instance(tmp)
        import lamella as ln

        files = tmp / "files"
        files.mkdir()
        artifacts = []
        for index in range(n):
            path = files / f"f{index:05d}.txt"
            path.write_text(f"artifact {index}")
            artifacts.append(ln.Artifact(str(path), key=f"bench/features/f{index:05d}.txt"))
        ln.save(artifacts)
        ln.Feature(name="temperature", dtype=float).save()
        many = [ln.Feature(name=f"f{i}", dtype=float).save() for i in range(10)]
        artifacts[0].features.add_values({"temperature": 1.0})  # warm-up: first statements compiled

        rng = random.Random(0)
        times = []
        with profiled(args.profile, RESULTS_DIR / f"features-one-{args.scale}.prof"):
            for artifact in artifacts[1:]:
                start = now()
                artifact.features.add_values({"temperature": round(rng.uniform(0, 40), 2)})
                times.append(now() - start)
        ms = [t * 1000 for t in times]
        results.add(
            "add_values with 1 float feature",
            sum(ms) / len(ms),
            "ms/artifact",
            n=len(ms),
            target=2.0,
            lamindb="19.9 ms",
            note=f"p50 {median(ms):.2f} ms, p95 {percentile(ms, 95):.2f} ms",
        )

        times = []
        with profiled(args.profile, RESULTS_DIR / f"features-ten-{args.scale}.prof"):
            for artifact in artifacts:
                values = {f.name: round(rng.uniform(0, 40), 2) for f in many}
                start = now()
                artifact.features.add_values(values)
                times.append(now() - start)
        ms = [t * 1000 for t in times]
        results.add(
            "add_values with 10 float features",
            sum(ms) / len(ms),
            "ms/artifact",
            n=len(ms),
            target=4.0,
            lamindb="64.9 ms",
            note=f"p50 {median(ms):.2f} ms, p95 {percentile(ms, 95):.2f} ms",
        )

        expected = sum(
            1
            for v in ln.Artifact.filter().to_dataframe(features=["temperature"])["temperature"]
            if v is not None and v > 20
        )
        seconds, runs, count = timed_query(lambda: ln.Artifact.filter(temperature__gt=20).count(), 21)
        if count != expected:
            raise SystemExit(f"count {count} != {expected}")
        results.add(
            f"filter(temperature__gt=20).count() over {n:,} annotated artifacts",
            1000 * seconds,
            "ms",
            n=n,
            target=5.0,
            lamindb="86 ms",
            note=f"median of {len(runs)}; {count} match",
        )

        temperature = ln.Feature.get(name="temperature")
        from lamella._instance import state

        db_path = Path(state.current().config.sqlite_path())
        fill_values_with_sql(db_path, n_large - n, [temperature.id], start=n)
        seconds, runs, count = timed_query(lambda: ln.Artifact.filter(temperature__gt=20).count(), 11)
        results.add(
            f"filter(temperature__gt=20).count() over {n_large:,} annotated artifacts",
            1000 * seconds,
            "ms",
            n=n_large,
            target=100.0,
            note=f"median of {len(runs)}; {count:,} match; values beyond the first {n:,} filled by SQL",
        )

        fill_values_with_sql(db_path, n_frame, [f.id for f in many], start=0, prefix="bench/frame/")
        qs = ln.Artifact.filter(key__startswith="bench/frame/")
        with profiled(args.profile, RESULTS_DIR / f"features-frame-{args.scale}.prof"):
            seconds, runs, df = timed_query(lambda: qs.to_dataframe(include="features"), 3)
        if df.shape[0] != n_frame or df["f9"].isna().any():
            raise SystemExit(f"unexpected frame {df.shape}")
        results.add(
            f'to_dataframe(include="features") of {n_frame:,} artifacts × 10 features',
            seconds,
            "s",
            n=n_frame,
            target=0.5 * n_frame / 10_000,
            note=f"median of {len(runs)}; the {n_frame:,} artifacts and values filled by SQL",
        )
        _ = instance
    finish(results, args)


if __name__ == "__main__":
    main()
