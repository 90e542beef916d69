"""Benchmark: 1 KB files registered one by one, `ln.Artifact(path, key=...).save()`, then in bulk.

    .venv/bin/python benchmarks/bench_artifacts.py [--scale small|full] [--profile]

Full scale: 1,000 files; small: 100. The first registration of the process (lazy imports, connect)
is a warm-up reported on its own row; the per-item numbers are over the N that follow it.
Then the same number of other 1 KB files constructed and saved with one `ln.save(list)`. Issue 13's
targets: ≤ 2 ms per artifact one by one, ≤ 0.25 ms per item in bulk (construction included). `--profile` writes a cProfile of the timed loop to benchmarks/results/artifacts-<scale>.prof and
prints its top functions.
"""

from __future__ import annotations

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
    write_files,
)
from _profiling import profiled


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--profile", action="store_true", help="cProfile the timed loop")
    args = parse(p)
    n = 1_000 if args.scale == "full" else 100
    results = Results("artifacts", args.scale)
    print(f"artifacts one by one (scale {args.scale}, N={n})")
    with temp_folder("artifacts", args.tmp, args.keep) as tmp:
        init_instance(tmp)
        paths = write_files(tmp / "src", n + 1, 1024)

        start = now()
        import lamella as ln

        import_s = now() - start
        start = now()
        ln.Artifact(str(paths[0]), key="warmup/f.txt").save()
        results.add(
            "warm-up: first Artifact(...).save() of the process",
            now() - start,
            "s",
            n=1,
            note=f"lazy imports + connect; `import lamella` itself {import_s * 1000:.0f} ms",
        )

        times = []
        with profiled(args.profile, RESULTS_DIR / f"artifacts-{args.scale}.prof"):
            total_start = now()
            for index, path in enumerate(paths[1:]):
                start = now()
                ln.Artifact(str(path), key=f"bench/one_by_one/f{index:06d}.txt").save()
                times.append(now() - start)
            total = now() - total_start
        ms = [t * 1000 for t in times]
        results.add(
            "Artifact(1 KB file, key=...).save() one by one",
            1000 * total / n,
            "ms/item",
            n=n,
            target=2.0,
            lamindb="17.6 ms",
            note=f"p50 {median(ms):.2f} ms, p95 {percentile(ms, 95):.2f} ms, "
            f"max {max(ms):.1f} ms; total {total:.2f} s",
        )

        # the same artifacts queried back (cheap sanity check that all rows are there)
        start = now()
        count = ln.Artifact.filter(key__startswith="bench/one_by_one/").count()
        results.add("filter(key__startswith=...).count() after the loop", now() - start, "s", n=count)
        if count != n:
            raise SystemExit(f"expected {n} artifacts, found {count}")

        bulk_paths = write_files(tmp / "bulk", n, 1024, prefix="b")
        start = now()
        batch = [ln.Artifact(str(path), key=f"bench/bulk/f{i:06d}.txt") for i, path in enumerate(bulk_paths)]
        built = now() - start
        start = now()
        ln.save(batch)
        saved = now() - start
        results.add(
            "1 KB file artifacts constructed + ln.save(list)",
            1000 * (built + saved) / n,
            "ms/item",
            n=n,
            target=0.25,
            lamindb="3.8 ms",
            note=f"construct {1000 * built / n:.3f} ms/item, ln.save {1000 * saved / n:.3f} ms/item",
        )
        if ln.Artifact.filter(key__startswith="bench/bulk/").count() != n:
            raise SystemExit("the bulk save lost artifacts")
    finish(results, args)


if __name__ == "__main__":
    main()
