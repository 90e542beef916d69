"""Benchmark: a registry of 100,000 artifacts: bulk insertion, then `count()` and `get(key=...)` over it.

    .venv/bin/python benchmarks/bench_registry_scale.py [--scale small|full] [--insert-budget SECONDS]

Full scale: 100,000 artifacts; small: 2,000. Tiny files of unique content are registered with
`ln.save([ln.Artifact(path, key=...) ...])` in batches of 1,000; construction and `ln.save` are timed
apart (this insertion is a benchmark of its own). If the insertion budget runs out first
(`--insert-budget`, default 600 s at full scale; 0 = no limit), the remaining rows are filled in by
a direct SQL INSERT of copies of an inserted row (new uid, key and hash; no bytes in storage), which
the table says. The queries read only the registry, so they see the same table either way.

Then, median of several runs each: `Artifact.filter(key__startswith=...).count()` over all rows,
`Artifact.get(key=...)` of random keys, and `filter(key__startswith=<one batch>).to_dataframe()`.
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
    temp_folder,
    write_files,
)
from _profiling import profiled

BATCH = 1_000
PREFIX = "bench/scale/"


def key_of(index: int) -> str:
    return f"{PREFIX}b{index // BATCH:03d}/f{index:06d}.txt"


def fill_with_sql(db_path: Path, start: int, stop: int) -> float:
    """Insert rows start..stop-1 as copies of the newest artifact row (new uid, key, hash)."""
    from lamella._uid import base62

    t0 = now()
    connection = sqlite3.connect(db_path, timeout=60)
    try:
        connection.row_factory = sqlite3.Row
        template = connection.execute(
            "SELECT * FROM artifact WHERE key LIKE ? ORDER BY id DESC LIMIT 1", (PREFIX + "%",)
        ).fetchone()
        columns = [c for c in template.keys() if c != "id"]  # noqa: SIM118 - sqlite3.Row
        base = {c: template[c] for c in columns}
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO artifact ({', '.join(columns)}) VALUES ({placeholders})"
        rows = []
        for index in range(start, stop):
            row = dict(base)
            row["uid"] = base62(16) + "0000"
            row["key"] = key_of(index)
            row["hash"] = f"fill{index:018d}"
            rows.append(tuple(row[c] for c in columns))
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(sql, rows)
        connection.execute("COMMIT")
    finally:
        connection.close()
    return now() - t0


def timed(function, runs: int) -> tuple[float, list[float], object]:  # type: ignore[no-untyped-def]
    times, value = [], None
    for _ in range(runs):
        start = now()
        value = function()
        times.append(now() - start)
    return median(times), times, value


def main() -> None:
    p = parser(__doc__)
    p.add_argument(
        "--insert-budget",
        type=float,
        default=None,
        help="seconds of ln.save insertion before the SQL fill (default 600 at full, 0 = unlimited)",
    )
    p.add_argument("--runs", type=int, default=7, help="runs per query (median reported)")
    p.add_argument(
        "--profile", action="store_true", help="cProfile the first insertion batch and the queries"
    )
    args = parse(p)
    full = args.scale == "full"
    n = 100_000 if full else 2_000
    budget = args.insert_budget if args.insert_budget is not None else (600.0 if full else 0.0)
    results = Results("registry_scale", args.scale)
    print(
        f"registry of {n:,} artifacts (scale {args.scale}, insertion budget "
        f"{'unlimited' if not budget else f'{budget:.0f} s'})"
    )
    with temp_folder("scale", args.tmp, args.keep) as tmp:
        instance = init_instance(tmp)
        start = now()
        paths = write_files(tmp / "src", n, 32, per_dir=BATCH)
        print(f"  wrote {n:,} tiny files in {now() - start:.1f} s", flush=True)
        import lamella as ln

        ln.Artifact(str(_warm(tmp)), key="warmup/f.txt").save()  # lazy imports + connect

        construct_s = save_s = 0.0
        inserted = 0
        insert_start = now()
        last_mark, last_elapsed, per_10k = 0, 0.0, []
        while inserted < n:
            if budget and now() - insert_start > budget:
                break
            stop = min(n, inserted + BATCH)
            with profiled(args.profile and inserted == 0, RESULTS_DIR / f"scale-insert-{args.scale}.prof"):
                start = now()
                batch = [ln.Artifact(str(paths[i]), key=key_of(i)) for i in range(inserted, stop)]
                construct_s += now() - start
                start = now()
                ln.save(batch)
                save_s += now() - start
            inserted = stop
            if inserted % (10 * BATCH) == 0 or inserted == n:
                elapsed = now() - insert_start
                recent = 1000 * (elapsed - last_elapsed) / (inserted - last_mark)
                per_10k.append(round(recent, 2))
                print(
                    f"  {inserted:,} inserted in {elapsed:.1f} s ({1000 * elapsed / inserted:.2f} ms each; "
                    f"the last {inserted - last_mark:,}: {recent:.2f} ms each)",
                    flush=True,
                )
                last_mark, last_elapsed = inserted, elapsed
        results.add(
            "Artifact(tiny file, key=...) constructed, batches of 1,000",
            1000 * construct_s / inserted,
            "ms/item",
            n=inserted,
            note=f"total {construct_s:.1f} s",
            lamindb="4.8 ms",
        )
        results.add(
            "  ln.save(list of Artifacts) per batch",
            1000 * save_s / inserted,
            "ms/item",
            n=inserted,
            note=f"total {save_s:.1f} s",
            lamindb="4.5 ms",
        )
        results.add(
            "bulk insertion, construct + ln.save",
            1000 * (construct_s + save_s) / inserted,
            "ms/item",
            n=inserted,
            note=f"total {construct_s + save_s:.1f} s; ms each per 10,000 rows: "
            + ", ".join(f"{v:g}" for v in per_10k),
            lamindb="9.3 ms",
            ms_each_per_10k=per_10k,
        )
        fill_note = ""
        if inserted < n:
            fill_s = fill_with_sql(Path(instance.storage) / ".lamella" / "lamella.db", inserted, n)
            fill_note = f"{inserted:,} rows via ln.save, {n - inserted:,} via SQL fill (budget spent)"
            results.add(
                "  SQL fill of the remaining rows (not Lamella; setup only)",
                fill_s,
                "s",
                n=n - inserted,
                note=fill_note,
            )

        with profiled(args.profile, RESULTS_DIR / f"scale-queries-{args.scale}.prof"):
            first_start = now()
            first_count = ln.Artifact.filter(key__startswith=PREFIX).count()
            first = now() - first_start
            count_s, _runs, count = timed(
                lambda: ln.Artifact.filter(key__startswith=PREFIX).count(), args.runs
            )
            if count != n or first_count != n:
                raise SystemExit(f"count() returned {count}, expected {n}")
            results.add(
                "Artifact.filter(key__startswith=...).count() over all rows",
                1000 * count_s,
                "ms",
                n=n,
                target=20.0,
                note=f"median of {args.runs}; first call {1000 * first:.1f} ms"
                + (f"; {fill_note}" if fill_note else ""),
                lamindb="1.5 ms at 2,000 rows",
            )

            rng = random.Random(0)
            keys = [key_of(rng.randrange(n)) for _ in range(args.runs * 3)]
            get_times = []
            for key in keys:
                start = now()
                artifact = ln.Artifact.get(key=key)
                get_times.append(now() - start)
                if artifact.key != key:
                    raise SystemExit(f"get(key={key!r}) returned {artifact.key!r}")
            results.add(
                "Artifact.get(key=...) among all rows",
                1000 * median(get_times),
                "ms",
                n=n,
                target=1.0,
                note=f"median of {len(keys)} random keys; max {1000 * max(get_times):.2f} ms",
                lamindb="2.8 ms",
            )

            batch_prefix = f"{PREFIX}b{(n // BATCH) // 2:03d}/"
            df_s, _, df = timed(lambda: ln.Artifact.filter(key__startswith=batch_prefix).to_dataframe(), 3)
            results.add(
                "Artifact.filter(key__startswith=<one batch>).to_dataframe()",
                1000 * df_s,
                "ms",
                n=len(df),
                note="median of 3",
                lamindb="16 ms",
            )  # type: ignore[arg-type]
    finish(results, args)


def _warm(tmp: Path) -> Path:
    path = tmp / "warm.txt"
    path.write_bytes(b"warm-up file of the registry benchmark")
    return path


if __name__ == "__main__":
    main()
