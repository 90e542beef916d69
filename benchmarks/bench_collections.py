"""Benchmark: a collection of parquet shards opened and loaded as one, against pyarrow and pandas alone.

    .venv/bin/python benchmarks/bench_collections.py [--scale small|full]

Workload (full scale): 10 parquet artifacts × 1,000,000 rows (an int64 id, three float64 columns, a
dictionary-encoded string column), saved into a fresh instance, grouped in one collection. Small
scale: 10 × 100,000 rows.

Measured, median of 3:
- in this process, connected: `collection.open().to_table()` against
  `pyarrow.dataset.dataset(paths).to_table()` on the same files (target ≤ 1.2 ×), and
  `collection.load()` against `pandas.concat([pandas.read_parquet(p) for p in paths])`;
- the same in a fresh child process each (import, connect and the first query included: what a
  script waits for; the fixed cost of connecting is issue 13's first answer).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Results, clean_env, finish, init_instance, now, parse, parser, run_child, temp_folder

OPEN = """
import time; start = time.perf_counter()
import lamella as ln
table = ln.Collection.get(key="bench/shards").open().to_table()
print(table.num_rows, time.perf_counter() - start)
"""
OPEN_RAW = """
import time, sys; start = time.perf_counter()
import pyarrow.dataset as ds
table = ds.dataset(sys.argv[1:], format="parquet").to_table()
print(table.num_rows, time.perf_counter() - start)
"""
LOAD = """
import time; start = time.perf_counter()
import lamella as ln
frame = ln.Collection.get(key="bench/shards").load()
print(len(frame), time.perf_counter() - start)
"""
LOAD_RAW = """
import time, sys; start = time.perf_counter()
import pandas as pd
frame = pd.concat([pd.read_parquet(p) for p in sys.argv[1:]])
print(len(frame), time.perf_counter() - start)
"""


def main() -> None:
    args = parse(parser(__doc__))
    rows = 1_000_000 if args.scale == "full" else 100_000
    shards = 10
    results = Results("collections", args.scale)
    print(f"collections (scale {args.scale}: {shards} parquet shards × {rows:,} rows)")
    with temp_folder("collections", args.tmp, args.keep) as tmp:
        instance = init_instance(tmp)
        import numpy as np
        import pandas as pd

        import lamella as ln

        rng = np.random.default_rng(0)
        artifacts = []
        for index in range(shards):
            frame = pd.DataFrame(
                {
                    "id": np.arange(index * rows, (index + 1) * rows, dtype="int64"),
                    "a": rng.random(rows),
                    "b": rng.random(rows),
                    "c": rng.random(rows),
                    "group": pd.Categorical(rng.choice(["x", "y", "z"], size=rows)),
                }
            )
            artifacts.append(ln.Artifact.from_dataframe(frame, key=f"bench/shard{index}.parquet").save())
        ln.Collection(artifacts, key="bench/shards").save()
        paths = [str(a.path) for a in artifacts]
        env = clean_env(instance.home)

        def timed(code: str, argv: list[str]) -> float:
            runs = []
            for _ in range(3):
                status, out, err, _wall, _rss = run_child(
                    [sys.executable, "-c", code, *argv], cwd=tmp, env=env
                )
                if status != 0:
                    raise SystemExit(f"child failed:\n{out}\n{err}")
                count, seconds = out.split()[-2:]
                if int(count) != shards * rows:
                    raise SystemExit(f"read {count} rows, expected {shards * rows}")
                runs.append(float(seconds))
            return statistics.median(runs)

        import pyarrow.dataset as ds

        collection = ln.Collection.get(key="bench/shards")

        def best_of_3(work: object) -> float:
            runs = []
            for _ in range(3):
                start = now()
                work()  # type: ignore[operator]
                runs.append(now() - start)
            return statistics.median(runs)

        raw = best_of_3(lambda: ds.dataset(paths, format="parquet").to_table())
        mine = best_of_3(lambda: collection.open().to_table())
        results.add(
            "collection.open().to_table()",
            mine,
            "s",
            n=shards * rows,
            target=1.2 * raw,
            note=f"pyarrow.dataset alone {raw:.3f} s; ratio {mine / raw:.2f}",
        )
        raw = best_of_3(lambda: pd.concat([pd.read_parquet(p) for p in paths]))
        mine = best_of_3(lambda: collection.load())
        results.add(
            "collection.load()",
            mine,
            "s",
            n=shards * rows,
            target=1.2 * raw,
            note=f"pandas read_parquet + concat alone {raw:.3f} s; ratio {mine / raw:.2f}",
        )

        raw_open = timed(OPEN_RAW, paths)
        lamella_open = timed(OPEN, [])
        results.add(
            "fresh process: Collection.get(key).open().to_table()",
            lamella_open,
            "s",
            n=shards * rows,
            note=f"pyarrow.dataset alone {raw_open:.3f} s; ratio {lamella_open / raw_open:.2f}",
        )
        raw_load = timed(LOAD_RAW, paths)
        lamella_load = timed(LOAD, [])
        results.add(
            "fresh process: Collection.get(key).load()",
            lamella_load,
            "s",
            n=shards * rows,
            note=f"pandas read_parquet + concat alone {raw_load:.3f} s; ratio {lamella_load / raw_load:.2f}",
        )
    finish(results, args)


if __name__ == "__main__":
    main()
