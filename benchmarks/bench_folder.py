"""Benchmark: a folder of many small files registered as one artifact, `ln.Artifact(folder, key=...).save()`.

    .venv/bin/python benchmarks/bench_folder.py [--scale small|full] [--rounds 3] [--profile]

Full scale: 10,000 files of 1 KB in 10 subfolders; small: 1,000 files. Every round uses a new folder
(new content, so no round finds the previous one by hash). All folders are written first and dirty
pages are flushed (os.sync) before each timed operation: creating 10,000 files is mostly file-system
metadata work, and the writeback of an earlier step otherwise lands in the next timing. Constructor and save are timed apart;
the target (< 1.5 s at 10,000 files, scaled by N at small scale) is on their sum, median of rounds.
A plain `shutil.copytree` of the same folder is the baseline.
"""

from __future__ import annotations

import shutil
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
    settle,
    temp_folder,
    write_files,
)
from _profiling import profiled


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--profile", action="store_true", help="cProfile the last round")
    args = parse(p)
    full = args.scale == "full"
    n = 10_000 if full else 1_000
    results = Results("folder", args.scale)
    print(f"folder of {n} files (scale {args.scale}, {args.rounds} rounds)")
    with temp_folder("folder", args.tmp, args.keep) as tmp:
        init_instance(tmp)
        import lamella as ln

        start = now()
        warm = write_files(tmp / "warm", 3, 1024)
        ln.Artifact(str(warm[0].parent), key="warmup").save()
        results.add(
            "warm-up: a 3-file folder, first save of the process",
            now() - start,
            "s",
            n=3,
            note="lazy imports + connect",
        )

        constructs, saves, totals, copytrees = [], [], [], []
        folders = []
        for round_index in range(args.rounds):
            folder = tmp / f"src{round_index}"
            write_files(folder, n, 1024, per_dir=max(1, n // 10), prefix=f"r{round_index}_")
            folders.append(folder)
        for round_index, folder in enumerate(folders):
            settle()  # writeback of the files just written (or of the last round) stays out of the timing
            last = round_index == args.rounds - 1
            with profiled(args.profile and last, RESULTS_DIR / f"folder-{args.scale}.prof"):
                start = now()
                artifact = ln.Artifact(str(folder), key=f"bench/folder{round_index}")
                constructs.append(now() - start)
                start = now()
                artifact.save()
                saves.append(now() - start)
            totals.append(constructs[-1] + saves[-1])
            if artifact.n_files != n:
                raise SystemExit(f"expected n_files={n}, got {artifact.n_files}")
            print(
                f"  round {round_index}: construct {constructs[-1]:.3f} s, save {saves[-1]:.3f} s", flush=True
            )
        for round_index, folder in enumerate(folders):  # the baseline, after all Lamella rounds
            settle()
            start = now()
            shutil.copytree(folder, tmp / f"copytree{round_index}")
            copytrees.append(now() - start)
        print(f"  copytree: {', '.join(f'{t:.3f}' for t in copytrees)} s", flush=True)
        target = 1.5 * n / 10_000
        results.add(
            "Artifact(folder, key=...) constructor",
            median(constructs),
            "s",
            n=n,
            note=f"median of {args.rounds}: {', '.join(f'{t:.2f}' for t in constructs)}",
        )
        results.add(
            "  .save() (copy + hash into storage)",
            median(saves),
            "s",
            n=n,
            note=f"median of {args.rounds}: {', '.join(f'{t:.2f}' for t in saves)}",
        )
        results.add(
            "folder artifact constructed + saved, total",
            median(totals),
            "s",
            n=n,
            target=target,
            target_text=f"< {target:g} s" + ("" if full else " (1.5 s × N/10,000)"),
            lamindb="3.2 s",
            note=f"{1000 * median(totals) / n:.3f} ms/file; best {min(totals):.2f} s",
        )
        results.add(
            "baseline: shutil.copytree of the same folder",
            median(copytrees),
            "s",
            n=n,
            note=f"median of {args.rounds}; best {min(copytrees):.2f} s",
        )
    finish(results, args)


if __name__ == "__main__":
    main()
