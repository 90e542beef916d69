"""Benchmark: the public sources of the bionty registries (`lamella.bionty.sources`), read offline.

    .venv/bin/python benchmarks/bench_bionty_sources.py [--scale small|full]

Each measurement runs in a fresh child process (its own LAMELLA_HOME and cache folder):

- `public("CellType")` with an empty cache: the Cell Ontology JSON converted to parquet (< 3 s);
- `public("CellType")` in a later process, the parquet file read (< 0.2 s);
- `public("Gene", organism="human").search("CD8")` warm, median of 21 (< 50 ms);
- `validate()` of 30,000 Ensembl ids (90 % of them real) against the human gene table.

The times are of the calls alone, measured in the child after `import lamella.bionty.sources` and
pandas (which every registry imports anyway); the child's whole wall time is in the note. The scale
changes nothing here: the sources have one size.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Results, clean_env, finish, last_json_line, parse, parser, run_child, temp_folder

# each child prints one JSON line with its timings
PRELUDE = """
import json, time
now = time.perf_counter
start = now()
import pandas
import lamella.bionty.sources as sources
imports = now() - start
"""

FIRST_CALL = (
    PRELUDE
    + """
start = now()
cl = sources.public("CellType")
seconds = now() - start
print(json.dumps({"seconds": seconds, "terms": len(cl), "version": cl.version, "imports": imports}))
"""
)

SEARCH = (
    PRELUDE
    + """
start = now()
genes = sources.public("Gene", organism="human")
load = now() - start
start = now()
first = genes.search("CD8")
cold = now() - start
runs = []
for _ in range(21):
    start = now()
    found = genes.search("CD8")
    runs.append(now() - start)
runs.sort()
print(json.dumps({"load": load, "cold": cold, "median": runs[10], "p95": runs[19], "genes": len(genes),
                  "top": found["symbol"].tolist()[:5]}))
"""
)

VALIDATE = (
    PRELUDE
    + """
import random
genes = sources.public("Gene", organism="human")
ids = genes.to_dataframe().index.tolist()
random.seed(0)
values = random.sample(ids, 27_000) + [f"ENSG9{i:010d}" for i in range(3_000)]
random.shuffle(values)
start = now()
first = genes.validate(values, field="ensembl_gene_id")
cold = now() - start
runs = []
for _ in range(7):
    start = now()
    genes.validate(values, field="ensembl_gene_id")
    runs.append(now() - start)
runs.sort()
print(json.dumps({"cold": cold, "median": runs[3], "valid": int(first.sum()), "n": len(values)}))
"""
)


def child(code: str, env: dict[str, str], cwd: Path) -> tuple[dict[str, float], float]:
    exit_code, out, err, wall, _ = run_child([sys.executable, "-c", code], cwd=cwd, env=env, timeout=300)
    if exit_code != 0:
        raise SystemExit(f"child failed ({exit_code}):\n{out}\n{err}")
    return last_json_line(out), wall


def main() -> None:
    args = parse(parser(__doc__))
    results = Results("bionty_sources", args.scale)
    with temp_folder("bionty", args.tmp, args.keep) as tmp:
        env = clean_env(tmp / "home")
        env["LAMELLA_CACHE_DIR"] = str(tmp / "cache")

        first, wall = child(FIRST_CALL, env, tmp)
        results.add(
            'public("CellType"), empty cache (JSON -> parquet)',
            first["seconds"],
            "s",
            n=int(first["terms"]),
            target=3.0,
            target_text="< 3 s",
            note=f"CL {first['version']}; imports {first['imports']:.2f} s, child wall {wall:.2f} s",
        )
        later = []
        for _ in range(3):
            again, wall = child(FIRST_CALL, env, tmp)
            later.append(again["seconds"])
        later.sort()
        results.add(
            'public("CellType") in a later process (parquet read)',
            later[1],
            "s",
            n=int(first["terms"]),
            target=0.2,
            target_text="< 0.2 s",
            note=f"median of 3 processes; imports {again['imports']:.2f} s, child wall {wall:.2f} s",
        )

        search, wall = child(SEARCH, env, tmp)
        results.add(
            'public("Gene", organism="human")',
            search["load"],
            "s",
            n=int(search["genes"]),
            note="shipped parquet, one row group read",
        )
        results.add(
            '  .search("CD8"), first call (lowercase index built)',
            1000 * search["cold"],
            "ms",
            n=int(search["genes"]),
        )
        results.add(
            '  .search("CD8"), warm',
            1000 * search["median"],
            "ms",
            n=int(search["genes"]),
            target=50,
            target_text="< 50 ms",
            note=f"median of 21, p95 {1000 * search['p95']:.1f} ms; top {json.dumps(search['top'])}",
        )

        validate, wall = child(VALIDATE, env, tmp)
        results.add(
            "  .validate(30,000 Ensembl ids), first call",
            1000 * validate["cold"],
            "ms",
            n=int(validate["n"]),
            note=f"{int(validate['valid']):,} valid; includes building the id set",
        )
        results.add(
            "  .validate(30,000 Ensembl ids), warm",
            1000 * validate["median"],
            "ms",
            n=int(validate["n"]),
            note="median of 7",
        )
    finish(results, args)


if __name__ == "__main__":
    main()
