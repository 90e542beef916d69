"""Benchmark: ULabels saved one by one, and many ULabels constructed then saved with `ln.save(list)`.

    .venv/bin/python benchmarks/bench_labels.py [--scale small|full] [--profile]

Full scale: 1,000 one by one and 10,000 in bulk; small: 100 and 1,000. Issue 13's targets: ≤ 1 ms per
label one by one; ≤ 0.40 s for 10,000 at full scale, construction plus `ln.save` (at small scale
scaled by N). Then
`ULabel.validate` of 100,000 values (10,000 at small scale) against the saved labels.
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
)
from _profiling import profiled


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--profile", action="store_true", help="cProfile the timed sections")
    args = parse(p)
    full = args.scale == "full"
    n_single = 1_000 if full else 100
    n_bulk = 10_000 if full else 1_000
    results = Results("labels", args.scale)
    print(f"ULabels (scale {args.scale}, one by one N={n_single}, bulk N={n_bulk})")
    with temp_folder("labels", args.tmp, args.keep) as tmp:
        init_instance(tmp)
        import lamella as ln

        start = now()
        ln.ULabel(name="warmup").save()
        results.add(
            "warm-up: first ULabel(...).save() of the process",
            now() - start,
            "s",
            n=1,
            note="lazy imports + connect",
        )

        times = []
        with profiled(args.profile, RESULTS_DIR / f"labels-single-{args.scale}.prof"):
            total_start = now()
            for index in range(n_single):
                start = now()
                ln.ULabel(name=f"single-{index}").save()
                times.append(now() - start)
            total = now() - total_start
        ms = [t * 1000 for t in times]
        results.add(
            "ULabel(name=...).save() one by one",
            1000 * total / n_single,
            "ms/item",
            n=n_single,
            target=1.0,
            lamindb="21.0 ms",
            note=f"p50 {median(ms):.2f} ms, p95 {percentile(ms, 95):.2f} ms; total {total:.2f} s",
        )

        with profiled(args.profile, RESULTS_DIR / f"labels-bulk-{args.scale}.prof"):
            start = now()
            labels = [ln.ULabel(name=f"bulk-{index}") for index in range(n_bulk)]
            construct = now() - start
            start = now()
            ln.save(labels)
            save = now() - start
        bulk_target = 0.4 * n_bulk / 10_000
        results.add(
            "ULabel(name=...) constructed for a bulk save",
            construct,
            "s",
            n=n_bulk,
            note=f"{1000 * construct / n_bulk:.3f} ms/item",
            lamindb="56 s at 10,000",
        )
        results.add(
            "  ln.save(list of ULabels)",
            save,
            "s",
            n=n_bulk,
            note=f"{1000 * save / n_bulk:.3f} ms/item",
            lamindb="1.2 s at 10,000",
        )
        results.add(
            "ULabels constructed + ln.save(list), total",
            construct + save,
            "s",
            n=n_bulk,
            target=bulk_target,
            lamindb="87 s at 10,000",
            target_text=f"≤ {bulk_target:g} s" + ("" if full else " (0.4 s × N/10,000)"),
        )

        count = ln.ULabel.filter(name__startswith="bulk-").count()
        if count != n_bulk:
            raise SystemExit(f"expected {n_bulk} bulk ULabels, found {count}")

        # half of the values are saved labels, half are not: one query per 10,000 distinct values
        n_values = 100_000 if full else 10_000
        values = [f"bulk-{i % n_bulk}" for i in range(n_values // 2)] + [
            f"other-{i}" for i in range(n_values // 2)
        ]
        runs = []
        for _ in range(3):
            start = now()
            validated = ln.ULabel.validate(values, mute=True)
            runs.append(now() - start)
        if int(validated.sum()) != n_values // 2:
            raise SystemExit(f"expected {n_values // 2} validated values, found {int(validated.sum())}")
        results.add(
            "ULabel.validate(values), half of them saved labels",
            median(runs),
            "s",
            n=n_values,
            target=n_values / 100_000,
            target_text="< 1 s per 100,000 values",
            note=f"median of 3; runs {', '.join(f'{r:.3f}' for r in runs)}",
        )
    finish(results, args)


if __name__ == "__main__":
    main()
