"""Benchmark: one big file hashed (full content) and copied into storage, against a plain copy; peak memory.

    .venv/bin/python benchmarks/bench_big_file.py [--scale small|full] [--rounds 3] [--memory-gb 10]

Speed: a 1 GiB file (small: 128 MiB) registered with `ln.Artifact(path, key=...).save()`, timed from
the constructor to the end of the save, alternating round by round with `shutil.copyfile` of the
same file into the same storage folder and plain reads that only hash (md5; BLAKE3 on one thread and
on all cores). The file was just written, so it is usually in the page cache. Each round first
changes 8 bytes at the front of the file, so no round finds the previous one by hash. Two saves per
round: in a new instance (BLAKE3) and in an instance created before BLAKE3 (md5: its hash-type
setting as the migration that introduced it writes it). Each artifact's hash is checked against a
full hash of the file with its algorithm. Target: the BLAKE3 save ≤ 1.25 × copyfile (median over
rounds); the md5 save is what every save cost before BLAKE3.

Memory: a child process imports lamella and registers a 10 GB file (small: 1 GiB); its peak RSS
must stay under 150 MB. The value is the child's own high-water mark (VmHWM in /proc/<pid>/status,
read by the child at the end); wait4's ru_maxrss is shown as a cross-check. It runs before this
process imports lamella, because on Linux a child's ru_maxrss starts at its parent's RSS at the
exec (the kernel carries the old mm's high-water mark over), which inflated it to the parent's size. A second child that
registers a 1 KB file gives the baseline RSS of the interpreter + lamella + connect. At full scale
the size drops below 10 GB only if the temp disk lacks room for the file, its copy and a margin.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Results,
    finish,
    free_bytes,
    init_instance,
    last_json_line,
    median,
    now,
    parse,
    parser,
    run_child,
    settle,
    temp_folder,
    write_big_file,
)

GiB = 2**30
MiB = 2**20


def read_hash(path: Path, hash_type: str, threads: int = 1) -> tuple[str, float]:
    """(the file's hash as Lamella encodes it, seconds) from a plain read: the hashing floor."""
    import blake3

    start = now()
    hasher: Any = hashlib.md5() if hash_type == "md5" else blake3.blake3(max_threads=threads)
    buf = bytearray(8 * MiB)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as handle:
        while count := handle.readinto(buf):
            hasher.update(view[:count])
    digest = hasher.digest() if hash_type == "md5" else hasher.digest(length=16)
    return base64.urlsafe_b64encode(digest).decode()[:22], now() - start


def make_md5_instance(ln: Any, folder: Path) -> str:
    """A second instance whose hash type is md5, as an instance created before BLAKE3 has it after
    `lamella migrate`; the current instance stays connected."""
    current = ln.setup.settings.instance.name
    ln.setup.init(storage=folder, name="created-before-blake3")
    database = sqlite3.connect(folder / ".lamella" / "lamella.db")
    with database:
        database.execute("UPDATE instance_setting SET value = 'md5' WHERE name = 'hash_type'")
    database.close()
    ln.connect(current)
    return "created-before-blake3"


def save_timed(
    ln: Any, instance: str, path: Path, key: str, hash_type: str, back_to: str, warmup: Path
) -> float:
    """Seconds of one save into `instance`, its hash checked against a full read; the artifact is deleted."""
    ln.connect(instance)
    # as in a session that has saved before: the connection's first statements are not the save's
    ln.Artifact(str(warmup), key="warmup/f.txt").save()
    settle()
    start = now()
    artifact = ln.Artifact(str(path), key=key).save()
    seconds = now() - start
    expected, _ = read_hash(path, hash_type, threads=blake3_all_cores())
    if (artifact.hash, artifact._hash_type, artifact.size) != (expected, hash_type, path.stat().st_size):
        raise SystemExit(
            f"hash/size mismatch in {instance}: {artifact.hash} ({artifact._hash_type}) vs full {hash_type} "
            f"{expected}, size {artifact.size}"
        )
    stored = Path(str(artifact.path))
    try:
        artifact.delete(permanent=True)
    except Exception as e:  # keep going; the temp folder goes at the end anyway
        print(f"  (could not delete the artifact: {e}; removing its bytes)")
        stored.unlink(missing_ok=True)
    ln.connect(back_to)
    return seconds


def blake3_all_cores() -> int:
    import blake3

    return int(blake3.blake3.AUTO)


def touch_front(path: Path, round_index: int) -> None:
    with open(path, "r+b") as handle:
        handle.write(b"LAMELLA" + round_index.to_bytes(1, "little"))


def child_register(path: str, key: str) -> None:
    start = now()
    import lamella as ln

    artifact = ln.Artifact(path, key=key).save()
    seconds = now() - start
    hwm_mb = None
    try:  # the kernel's own high-water mark of this process, as a cross-check of wait4's ru_maxrss
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    hwm_mb = int(line.split()[1]) / 1024
    except OSError:
        pass
    payload = {"seconds": seconds, "hash": artifact.hash, "size": artifact.size, "vm_hwm_mb": hwm_mb}
    print(json.dumps({**payload, "path": str(artifact.path)}))


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--memory-gb",
        type=float,
        default=None,
        help="size of the memory test file in GB (default: 10 at full scale, 1 at small)",
    )
    p.add_argument("--skip-memory", action="store_true", help="only the speed test")
    p.add_argument("--child-register", nargs=2, metavar=("PATH", "KEY"), help=argparse.SUPPRESS)
    args = parse(p)
    if args.child_register:
        child_register(*args.child_register)
        return
    full = args.scale == "full"
    size = GiB if full else 128 * MiB
    results = Results("big_file", args.scale)
    print(f"big file (scale {args.scale}): speed {size // MiB} MiB x {args.rounds} rounds")
    with temp_folder("bigfile", args.tmp, args.keep) as tmp:
        instance = init_instance(tmp)
        if not args.skip_memory:  # first, while this process is still small (see _memory)
            _memory(results, args, instance, tmp)
        import lamella as ln

        small = _small_file(tmp)
        ln.Artifact(str(small), key="warmup/f.txt").save()  # lazy imports + connect
        main_instance = ln.setup.settings.instance.name
        if ln.settings.hash_type != "blake3":
            raise SystemExit(f"a new instance hashes with blake3, this one with {ln.settings.hash_type}")
        md5_instance = make_md5_instance(ln, tmp / "md5-data")
        big = tmp / "big.bin"
        write_big_file(big, size)
        baseline_dst = instance.storage / "baseline.copy"
        copies: list[float] = []
        reads: dict[str, list[float]] = {"md5": [], "blake3, 1 thread": [], "blake3, all cores": []}
        ours: dict[str, list[float]] = {"blake3": [], "md5": []}
        for round_index in range(args.rounds):
            settle()
            start = now()
            shutil.copyfile(big, baseline_dst)
            copies.append(now() - start)
            baseline_dst.unlink()

            reads["md5"].append(read_hash(big, "md5")[1])
            reads["blake3, 1 thread"].append(read_hash(big, "blake3")[1])
            reads["blake3, all cores"].append(read_hash(big, "blake3", threads=blake3_all_cores())[1])

            touch_front(big, round_index)
            key = f"bench/big{round_index}.bin"
            ours["blake3"].append(save_timed(ln, main_instance, big, key, "blake3", main_instance, small))
            ours["md5"].append(save_timed(ln, md5_instance, big, key, "md5", main_instance, small))
            print(
                f"  round {round_index}: copyfile {copies[-1]:.3f} s, md5 read {reads['md5'][-1]:.3f} s, "
                f"blake3 read {reads['blake3, 1 thread'][-1]:.3f} s, lamella blake3 {ours['blake3'][-1]:.3f} s, "
                f"lamella md5 {ours['md5'][-1]:.3f} s",
                flush=True,
            )
        mb = size / MiB
        copy = median(copies)
        results.add(
            "baseline: shutil.copyfile",
            copy,
            "s",
            n=1,
            note=f"{mb / copy:,.0f} MiB/s; runs {', '.join(f'{t:.2f}' for t in copies)}",
        )
        for name, times in reads.items():
            results.add(
                f"baseline: full {name} read",
                median(times),
                "s",
                n=1,
                note=f"{mb / median(times):,.0f} MiB/s",
            )
        for hash_type, label in (("blake3", "new instance: BLAKE3"), ("md5", "instance created before: md5")):
            seconds = median(ours[hash_type])
            results.add(
                f"Artifact({size // MiB} MiB file, key=...).save(), {label}",
                seconds,
                "s",
                n=1,
                note=f"{mb / seconds:,.0f} MiB/s; runs {', '.join(f'{t:.2f}' for t in ours[hash_type])}; "
                f"full-content hash checked",
            )
            if hash_type == "blake3":
                results.add("  ratio to copyfile", seconds / copy, "x", target=1.25, target_text="≤ 1.25 x")
            else:
                results.add(
                    "  ratio to copyfile",
                    seconds / copy,
                    "x",
                    note="md5 runs on one core: the floor is its read",
                )
        big.unlink()
    finish(results, args)


def _small_file(tmp: Path) -> Path:
    path = tmp / "small.txt"
    path.write_bytes(os.urandom(1024))
    return path


def _memory(results: Results, args: argparse.Namespace, instance: Any, tmp: Path) -> None:
    full = args.scale == "full"
    wanted_gb = args.memory_gb if args.memory_gb is not None else (10.0 if full else 1.0)
    wanted = int(wanted_gb * 1e9)
    free = free_bytes(tmp)
    margin = 2 * GiB
    fits = max(0, (free - margin) // 2)  # the file and its copy
    size = min(wanted, fits)
    note = ""
    if size < wanted:
        size = (size // GiB) * GiB
        note = f"reduced from {wanted_gb:g} GB: {free / 1e9:.0f} GB free on the temp disk; "
    print(f"memory test: {size / 1e9:.1f} GB file ({free / 1e9:.0f} GB free)", flush=True)
    env = dict(os.environ)
    small = _small_file(tmp)
    code, out, err, _wall, wait4_small = run_child(
        [sys.executable, __file__, "--child-register", str(small), "memory/small.txt"],
        cwd=instance.folder,
        env=env,
    )
    if code != 0:
        raise SystemExit(err)
    hwm_small = last_json_line(out).get("vm_hwm_mb")
    results.add(
        "peak RSS: child registering a 1 KB file (baseline)",
        hwm_small,
        "MB",
        n=1,
        note=f"interpreter + lamella + connect; wait4 ru_maxrss {wait4_small:.0f} MB",
    )

    big = tmp / "huge.bin"
    start = now()
    write_big_file(big, size)
    print(f"  wrote {size / 1e9:.1f} GB in {now() - start:.1f} s", flush=True)
    code, out, err, _wall, wait4_big = run_child(
        [sys.executable, __file__, "--child-register", str(big), "memory/huge.bin"],
        cwd=instance.folder,
        env=env,
    )
    if code != 0:
        raise SystemExit(err)
    data = last_json_line(out)
    if data["size"] != size:
        raise SystemExit(f"size mismatch: {data['size']} != {size}")
    hwm = data.get("vm_hwm_mb")
    results.add(
        f"peak RSS: child hashing + copying a {size / 1e9:.1f} GB file",
        hwm,
        "MB",
        n=1,
        target=150,
        note=note + f"VmHWM of the child; wait4 ru_maxrss {wait4_big:.0f} MB; "
        f"+{(hwm or 0) - (hwm_small or 0):.0f} MB over the baseline; save took {data['seconds']:.1f} s "
        f"({size / MiB / data['seconds']:,.0f} MiB/s, file just written)",
    )
    big.unlink()
    Path(data["path"]).unlink(missing_ok=True)  # the stored copy: free its page cache and disk space
    settle()


if __name__ == "__main__":
    main()
