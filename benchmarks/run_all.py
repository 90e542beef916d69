"""Run every Lamella benchmark, each in its own process with its own fresh instance; print one table.

    .venv/bin/python benchmarks/run_all.py [--scale small|full] [--only artifacts,labels] [--skip hash_copy]

Writes benchmarks/results/<bench>-<scale>.json per benchmark, plus summary-<scale>.json and
summary-<scale>.md (the combined table). A benchmark that fails is reported and the run goes on.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_DIR, RESULTS_DIR, SCALES, Row, machine_info, print_table, setup_bytecode

# name -> (script, extra arguments per scale)
BENCHMARKS: dict[str, tuple[str, dict[str, list[str]]]] = {
    "import_init": ("bench_import_init.py", {}),
    "artifacts": ("bench_artifacts.py", {}),
    "labels": ("bench_labels.py", {}),
    "folder": ("bench_folder.py", {}),
    "big_file": ("bench_big_file.py", {}),
    "big_objects": ("bench_big_objects.py", {}),
    "registry_scale": ("bench_registry_scale.py", {}),
    "bulk_ingest": ("bench_bulk_ingest.py", {}),
    "tracking": ("bench_tracking.py", {}),
    "curation": ("bench_curation.py", {}),
    "features": ("bench_features.py", {}),
    "mapped": ("bench_mapped.py", {}),
    "collections": ("bench_collections.py", {}),
    # 20,000 (small) / 1,000,000 (full) artifacts on SQLite and a throwaway PostgreSQL server
    "scale": ("bench_scale.py", {}),
    "search": ("bench_search.py", {}),
    # the storage layer alone (no instance): copy_and_hash / copy_tree_and_hash vs shutil
    "hash_copy": (
        "bench_hash_copy.py",
        {"small": ["--size-mb", "128", "--files", "1000"], "full": ["--size-mb", "1024", "--files", "10000"]},
    ),
}
TEXT_ONLY = {"hash_copy"}  # prints its own lines, no JSON


def _run_streaming(cmd: list[str], timeout: float) -> tuple[int, str, bool]:
    """Run `cmd`, echoing its output line by line; returns (exit code, output, timed out)."""
    proc = subprocess.Popen(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    lines = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
        code = proc.wait()
    finally:
        timer.cancel()
    return (code if not timed_out.is_set() else -1), "".join(lines), timed_out.is_set()


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", choices=SCALES, default="small")
    p.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    p.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    p.add_argument("--tmp", default=None, help="parent folder of the temp folders")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per benchmark")
    p.add_argument(
        "--cold-bytecode",
        action="store_true",
        help="no .pyc cache: every process compiles lamella's sources (default: warm cache)",
    )
    args = p.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    skip = {n.strip() for n in args.skip.split(",") if n.strip()}
    unknown = [n for n in [*names, *skip] if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = [n for n in names if n not in skip]

    RESULTS_DIR.mkdir(exist_ok=True)
    bytecode = setup_bytecode(args.cold_bytecode)  # children inherit the environment (and skip the warm-up)
    print(f"bytecode: {bytecode}")
    rows: list[Row] = []
    texts: dict[str, str] = {}
    failures: dict[str, str] = {}
    walls: dict[str, float] = {}
    pressures: dict[str, str] = {}
    started = time.time()
    for name in names:
        script, extra = BENCHMARKS[name]
        cmd = [sys.executable, "-u", str(BENCH_DIR / script)]
        json_out = RESULTS_DIR / f"{name}-{args.scale}.json"
        if name in TEXT_ONLY:
            cmd += extra.get(args.scale, [])
            if args.tmp:
                cmd += ["--dir", args.tmp]
        else:
            cmd += ["--scale", args.scale, "--json", str(json_out)]
            if args.cold_bytecode:
                cmd.append("--cold-bytecode")
            if args.tmp:
                cmd += ["--tmp", args.tmp]
        print(f"\n=== {name}: {' '.join(cmd[2:])}", flush=True)
        t0 = time.time()
        code, output, timed_out = _run_streaming(cmd, args.timeout)
        if timed_out:
            failures[name] = f"timed out after {args.timeout:.0f} s"
        walls[name] = time.time() - t0
        if code != 0 and name not in failures:
            failures[name] = f"exit code {code}: " + " | ".join(output.strip().splitlines()[-3:])
        if name in TEXT_ONLY:
            texts[name] = output
        elif code == 0 and json_out.exists():
            payload = json.loads(json_out.read_text())
            pressures[name] = f"{payload.get('pressure_start', '?')} → {payload.get('pressure_end', '?')}"
            rows += [Row(**{k: v for k, v in r.items() if k != "verdict"}) for r in payload["rows"]]

    title = f"Lamella benchmarks, scale {args.scale} ({time.strftime('%Y-%m-%d %H:%M')})"
    print_table(rows, title)
    for name, text in texts.items():
        print(f"\n{name} (storage layer alone):\n{text.rstrip()}")
    for name, reason in failures.items():
        print(f"\nERROR in {name}: {reason}")
    if pressures:
        print("\nmachine pressure during each benchmark (start → end; high io/cpu = pessimistic numbers):")
        for name, text in pressures.items():
            print(f"  {name}: {text}")
    targets = [r for r in rows if r.target is not None]
    passed = sum(r.verdict == "pass" for r in targets)
    print(
        f"\n{passed}/{len(targets)} targets met; benchmark walls: "
        + ", ".join(f"{n} {w:.0f} s" for n, w in walls.items())
        + f"; total {time.time() - started:.0f} s"
    )

    # a subset (--only/--skip) gets its own file, so it never overwrites the summary of a whole run
    stem = f"summary-{args.scale}" + ("" if names == list(BENCHMARKS) else "-partial")
    summary = {
        "scale": args.scale,
        "machine": machine_info(),
        "bytecode": bytecode,
        "walls": walls,
        "pressure": pressures,
        "failures": failures,
        "rows": [
            {
                "bench": r.bench,
                "name": r.name,
                "n": r.n,
                "value": r.value,
                "unit": r.unit,
                "target": r.target,
                "target_text": r.target_text,
                "verdict": r.verdict,
                "lamindb": r.lamindb,
                "note": r.note,
            }
            for r in rows
        ],
        "text": texts,
    }
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(summary, indent=1))
    md = [f"# {title}", "", f"Machine: {machine_info()}", "", f"Bytecode: {bytecode}", ""]
    md.append(print_table(rows, markdown=True, echo=False) if rows else "(no rows)")
    for name, text in texts.items():
        md += ["", f"## {name} (storage layer alone)", "", "```", text.rstrip(), "```"]
    for name, reason in failures.items():
        md += ["", f"**ERROR in {name}:** {reason}"]
    if pressures:
        md += ["", "Machine pressure during each benchmark (start → end):", ""]
        md += [f"- {name}: {text}" for name, text in pressures.items()]
    md += ["", f"{passed}/{len(targets)} targets met.", ""]
    (RESULTS_DIR / f"{stem}.md").write_text("\n".join(md))
    print(f"(summary written to {RESULTS_DIR}/{stem}.json and .md)")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
