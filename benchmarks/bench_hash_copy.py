"""Benchmark: hashing copies against plain copies, with md5 and BLAKE3. Run on demand; not a test.

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
from typing import Any


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _blake3() -> Any:
    import blake3

    return blake3.blake3(max_threads=blake3.blake3.AUTO)


def _child(kind: str, src: str, dst: str) -> None:
    if kind.startswith(("copy_and_hash:", "copy_tree_and_hash:")):
        # imported before the clock starts: the import is not the copy
        from lamella._storage import copy_and_hash, copy_tree_and_hash
    if kind == "blake3":
        _blake3()  # loads the compiled module, as the copies below have once they run
    start = time.perf_counter()
    if kind == "copyfile":
        shutil.copyfile(src, dst)
    elif kind in ("md5", "blake3"):
        hasher: Any = hashlib.md5() if kind == "md5" else _blake3()
        with open(src, "rb", buffering=0) as fh:
            buf = bytearray(8 * 2**20)
            view = memoryview(buf)
            while count := fh.readinto(buf):
                hasher.update(view[:count])
    elif kind.startswith("copy_and_hash:"):
        copy_and_hash(src, dst, kind.split(":", 1)[1])
    elif kind == "copytree":
        shutil.copytree(src, dst)
    elif kind.startswith("copy_tree_and_hash:"):
        copy_tree_and_hash(src, dst, kind.split(":", 1)[1], progress=False)
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
        print(
            f"  shutil.copyfile               {plain['seconds']:7.3f} s   peak RSS {plain['rss_mb']:6.1f} MB"
        )
        for hash_type in ("md5", "blake3"):
            only = _best(hash_type, big, dst, args.repeat)
            ours = _best(f"copy_and_hash:{hash_type}", big, dst, args.repeat)
            print(
                f"  {hash_type + ' only (read+hash)':<28}  {only['seconds']:7.3f} s   peak RSS {only['rss_mb']:6.1f} MB"
                f"   {args.size_mb / only['seconds']:,.0f} MB/s"
            )
            print(
                f"  copy_and_hash {hash_type:<6}          {ours['seconds']:7.3f} s   peak RSS {ours['rss_mb']:6.1f} MB"
            )
            print(f"    ratio to copyfile = {ours['seconds'] / plain['seconds']:.2f}")
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
        print(f"  shutil.copytree             {tree_plain['seconds']:7.3f} s")
        for hash_type in ("md5", "blake3"):
            tree_ours = _best(f"copy_tree_and_hash:{hash_type}", folder, out, args.repeat)
            print(
                f"  copy_tree_and_hash {hash_type:<6}   {tree_ours['seconds']:7.3f} s   "
                f"peak RSS {tree_ours['rss_mb']:6.1f} MB"
            )


if __name__ == "__main__":
    main()
