"""Benchmark: `import lamella` in a fresh interpreter, the first query after it, and `lamella init` (CLI wall).

    .venv/bin/python benchmarks/bench_import_init.py [--scale small|full]

Every measurement is its own child process against a fresh LAMELLA_HOME.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Results,
    clean_env,
    finish,
    init_instance,
    lamella_cli,
    last_json_line,
    median,
    parse,
    parser,
    run_child,
    temp_folder,
)

IMPORT_CHILD = r"""
import json, time
t0 = time.perf_counter()
import lamella as ln
t1 = time.perf_counter()
n = ln.Artifact.filter().count()
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_query": t2 - t1}))
"""


def main() -> None:
    args = parse(parser(__doc__))
    repeat = 7 if args.scale == "full" else 5
    results = Results("import_init", args.scale)
    print(f"import/init benchmark (scale {args.scale}, {repeat} runs each, medians)")

    with temp_folder("import", args.tmp, args.keep) as tmp:
        # `lamella init` wall time in new folders, each with its own home
        init_walls = []
        for index in range(repeat):
            instance = init_instance(tmp / f"init{index}", activate=False)
            init_walls.append(instance.init_seconds)
        results.add(
            "`lamella init --storage ./data` (CLI wall)",
            median(init_walls),
            "s",
            n=1,
            target=0.5,
            lamindb="2.1 s",
            note=f"median of {repeat}; min {min(init_walls):.3f} s",
        )

        instance = init_instance(tmp / "main", activate=False)
        env = clean_env(instance.home)
        pass_walls, import_times, first_queries, import_walls, query_walls = [], [], [], [], []
        for _ in range(repeat):
            code, _, err, wall, _ = run_child([sys.executable, "-c", "pass"], cwd=instance.folder, env=env)
            pass_walls.append(wall)
            code, _, err, wall, _ = run_child(
                [sys.executable, "-c", "import lamella"], cwd=instance.folder, env=env
            )
            if code != 0:
                raise SystemExit(err)
            import_walls.append(wall)
            code, out, err, wall, _ = run_child(
                [sys.executable, "-c", IMPORT_CHILD], cwd=instance.folder, env=env
            )
            if code != 0:
                raise SystemExit(err)
            data = last_json_line(out)
            import_times.append(data["import"])
            first_queries.append(data["first_query"])
            query_walls.append(wall)
        results.add("python -c pass (interpreter start, wall)", median(pass_walls), "s", n=1)
        for command in (["--help"], ["info"]):
            walls = []
            for _ in range(repeat):
                code, _, err, wall, _ = run_child([lamella_cli(), *command], cwd=instance.folder, env=env)
                if code != 0:
                    raise SystemExit(err)
                walls.append(wall)
            results.add(f"`lamella {' '.join(command)}` (CLI wall)", median(walls), "s", n=1, target=0.25)
        results.add(
            "`import lamella` timed in process (fresh interpreter)",
            median(import_times),
            "s",
            n=1,
            target=0.15,
            lamindb="0.87 s",
        )
        results.add(
            "`python -c 'import lamella'` (whole process wall)",
            median(import_walls),
            "s",
            n=1,
            target=0.15,
            lamindb="0.90 s",
        )
        results.add(
            "first query after import: Artifact.filter().count()",
            median(first_queries),
            "s",
            n=1,
            note="connect + registries load lazily here",
            lamindb="0.06 s",
        )
        results.add(
            "import + first query (whole process wall, exit included)",
            median(query_walls),
            "s",
            n=1,
            target=0.30,
            lamindb="1.24 s",
            note=f"min {min(query_walls):.3f} s",
        )

        # the same without any bytecode cache (PYTHONDONTWRITEBYTECODE=1, as this sandbox sets it):
        # every process compiles lamella's sources, which an installed package never does
        if not args.cold_bytecode:
            cold = {k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"}
            cold["PYTHONDONTWRITEBYTECODE"] = "1"
            cold_inits, cold_queries = [], []
            for index in range(repeat):
                folder = tmp / f"cold{index}"
                folder.mkdir()
                cold_env = {**cold, "LAMELLA_HOME": str(folder / "home")}
                code, _, err, wall, _ = run_child(
                    [lamella_cli(), "init", "--storage", "./data"], cwd=folder, env=cold_env
                )
                if code != 0:
                    raise SystemExit(err)
                cold_inits.append(wall)
                code, out, err, wall, _ = run_child(
                    [sys.executable, "-c", IMPORT_CHILD], cwd=folder, env=cold_env
                )
                if code != 0:
                    raise SystemExit(err)
                cold_queries.append(wall)
            results.add(
                "no bytecode cache: `lamella init` (CLI wall)",
                median(cold_inits),
                "s",
                n=1,
                note="PYTHONDONTWRITEBYTECODE=1: sources compiled in every process",
            )
            results.add(
                "no bytecode cache: import + first query (process wall)", median(cold_queries), "s", n=1
            )
    finish(results, args)


if __name__ == "__main__":
    main()
