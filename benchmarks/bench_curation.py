"""Benchmark: `DataFrameCurator(df, schema).validate()` on a large DataFrame.

    .venv/bin/python benchmarks/bench_curation.py [--scale small|full] [--profile]

Full scale: 1,000,000 rows × 10 columns (8 numeric features — 4 int, 4 float — and 2 categorical
`cat[ULabel]` features with 1,000 labels each, stored as object columns of strings), all labels saved in
ULabel. Small scale: 100,000 rows, same columns and labels. The target (< 2 s at full scale, scaled by
N at small scale) is for a validate() call after a first warm-up call (which also imports pandera);
the first call is reported separately. Also reported: the same with categorical (pandas category)
columns, and `Artifact.from_dataframe(df, schema=...)` construction (validation + parquet + hash).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS_DIR, Results, finish, init_instance, median, now, parse, parser, temp_folder
from _profiling import profiled


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--profile", action="store_true", help="cProfile the timed sections")
    args = parse(p)
    full = args.scale == "full"
    n_rows = 1_000_000 if full else 100_000
    n_labels = 1_000
    target = 2.0 * n_rows / 1_000_000
    results = Results("curation", args.scale)
    print(f"curation (scale {args.scale}, {n_rows:,} rows × 10 columns, 2 × {n_labels:,} labels)")
    with temp_folder("curation", args.tmp, args.keep) as tmp:
        init_instance(tmp)
        import numpy as np
        import pandas as pd

        import lamella as ln

        rng = np.random.default_rng(0)
        data: dict[str, object] = {}
        features = []
        for i in range(4):
            data[f"count_{i}"] = rng.integers(0, 1_000, n_rows)
            features.append(ln.Feature(name=f"count_{i}", dtype=int).save())
        for i in range(4):
            data[f"value_{i}"] = rng.random(n_rows)
            features.append(ln.Feature(name=f"value_{i}", dtype=float).save())
        for name in ("cell_type", "donor"):
            labels = np.array([f"{name}-{j}" for j in range(n_labels)], dtype=object)
            ln.save([ln.ULabel(name=label) for label in labels])
            data[name] = labels[rng.integers(0, n_labels, n_rows)]
            features.append(ln.Feature(name=name, dtype=ln.ULabel).save())
        df = pd.DataFrame(data)
        schema = ln.Schema(name="bench schema", features=features).save()

        start = now()
        ln.curators.DataFrameCurator(df, schema).validate()
        results.add(
            "first validate() of the process (object columns)",
            now() - start,
            "s",
            n=n_rows,
            note="includes importing pandera",
        )

        times = []
        with profiled(args.profile, RESULTS_DIR / f"curation-validate-{args.scale}.prof"):
            for _ in range(5):
                start = now()
                ln.curators.DataFrameCurator(df, schema).validate()
                times.append(now() - start)
        results.add(
            "DataFrameCurator(df, schema).validate(), object columns (median of 5)",
            median(times),
            "s",
            n=n_rows,
            target=target,
            target_text=f"< {target:g} s" + ("" if full else " (2 s × N/1,000,000)"),
            note=f"min {min(times):.3f} s, max {max(times):.3f} s",
        )

        as_category = df.astype({"cell_type": "category", "donor": "category"})
        times = []
        for _ in range(5):
            start = now()
            ln.curators.DataFrameCurator(as_category, schema).validate()
            times.append(now() - start)
        results.add(
            "  same, categorical columns (median of 5)",
            median(times),
            "s",
            n=n_rows,
            target=target,
            target_text=f"< {target:g} s" + ("" if full else " (2 s × N/1,000,000)"),
        )

        bad = df.copy()
        bad.loc[0, "donor"] = "not-a-donor"
        start = now()
        try:
            ln.curators.DataFrameCurator(bad, schema).validate()
        except ln.errors.ValidationError as error:
            if "not-a-donor" not in str(error):
                raise SystemExit(f"unexpected message: {error}") from None
        else:
            raise SystemExit("a typo must fail validation")
        results.add("validate() that fails on one typo", now() - start, "s", n=n_rows)

        start = now()
        artifact = ln.Artifact.from_dataframe(as_category, key="bench/curated.parquet", schema=schema)
        construct = now() - start
        start = now()
        artifact.save()
        save = now() - start
        results.add(
            "Artifact.from_dataframe(df, schema=) (validate + parquet + hash)",
            construct,
            "s",
            n=n_rows,
        )
        results.add(".save() (store + link feature set and 2,000 labels)", save, "s", n=n_rows)
        linked = artifact.ulabels.count()
        if linked != 2 * n_labels:
            raise SystemExit(f"expected {2 * n_labels} linked labels, found {linked}")
    finish(results, args)


if __name__ == "__main__":
    main()
