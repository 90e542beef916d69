"""Benchmark: hashing copies against plain copies. Run on demand, prints numbers; not a test.

    .venv/bin/python benchmarks/bench_hash_copy.py --size-mb 1024 --files 10000

Each measurement runs in a fresh child process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, src: str, dst: str) -> None:
    start = time.perf_counter()
    if kind == "copyfile":
        shutil.copyfile(src, dst)
    elif kind == "md5":
        md5 = hashlib.md5()
        with open(src, "rb", buffering=0) as fh:
            buf = bytearray(8 * 2**20)
            view = memoryview(buf)
            while count := fh.readinto(buf):
                md5.update(view[:count])
    elif kind == "copy_and_hash":
        from lamella._storage import copy_and_hash

        copy_and_hash(src, dst)
    elif kind == "copytree":
        shutil.copytree(src, dst)
    elif kind == "copy_tree_and_hash":
        from lamella._storage import copy_tree_and_hash

        copy_tree_and_hash(src, dst, progress=False)
    else:
        raise SystemExit(f"unknown kind {kind}")
    print(json.dumps({"seconds": time.perf_counter() - start, "rss_mb": _peak_rss_mb()}))


def _run(kind: str, src: Path, dst: Path) -> dict[str, float]:
    if dst.is_dir():
        shutil.rmtree(dst)
    elif dst.exists():
        dst.unlink()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1] / "src"), *sys.path])}
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(src), str(dst)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _best(kind: str, src: Path, dst: Path, repeat: int) -> dict[str, float]:
    runs = [_run(kind, src, dst) for _ in range(repeat)]
    return min(runs, key=lambda run: run["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the single big file (MB)")
    parser.add_argument("--files", type=int, default=10_000, help="number of 1 KB files in the folder test")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    parser.add_argument("--dir", default=None, help="where to put the test data (default: a temp folder)")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "SRC", "DST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    with tempfile.TemporaryDirectory(prefix="lamella-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        big = work / "big.bin"
        with open(big, "wb") as fh:
            block = os.urandom(2**20)
            for _ in range(args.size_mb):
                fh.write(block)
        dst = work / "big.copy"
        print(f"single file: {args.size_mb} MB (page cache warm, best of {args.repeat})")
        plain = _best("copyfile", big, dst, args.repeat)
        md5_only = _best("md5", big, dst, args.repeat)
        ours = _best("copy_and_hash", big, dst, args.repeat)
        print(f"  shutil.copyfile      {plain['seconds']:7.3f} s   peak RSS {plain['rss_mb']:6.1f} MB")
        print(f"  md5 only (read+hash) {md5_only['seconds']:7.3f} s   peak RSS {md5_only['rss_mb']:6.1f} MB")
        print(f"  copy_and_hash        {ours['seconds']:7.3f} s   peak RSS {ours['rss_mb']:6.1f} MB")
        print(f"  ratio copy_and_hash / copyfile = {ours['seconds'] / plain['seconds']:.2f}")
        print(f"  ratio copy_and_hash / md5 only = {ours['seconds'] / md5_only['seconds']:.2f}")
        big.unlink()
        dst.unlink(missing_ok=True)

        folder = work / "many"
        for index in range(args.files):
            sub = folder / f"d{index // 1000:03d}"
            if index % 1000 == 0:
                sub.mkdir(parents=True)
            (sub / f"f{index:05d}.txt").write_bytes(os.urandom(1024))
        out = work / "many-copy"
        print(f"folder: {args.files} files of 1 KB (best of {args.repeat})")
        tree_plain = _best("copytree", folder, out, args.repeat)
        tree_ours = _best("copy_tree_and_hash", folder, out, args.repeat)
        print(f"  shutil.copytree      {tree_plain['seconds']:7.3f} s")
        print(
            f"  copy_tree_and_hash   {tree_ours['seconds']:7.3f} s   peak RSS {tree_ours['rss_mb']:6.1f} MB"
        )


if __name__ == "__main__":
    main()
