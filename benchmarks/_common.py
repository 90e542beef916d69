"""Shared helpers of the benchmark scripts: fresh instances, timing, result tables, JSON output.

Standard library only, so importing this module never imports lamella: every script decides itself
when `import lamella` happens (after its fresh LAMELLA_HOME is in place).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
SCALES = ("small", "full")


def now() -> float:
    return time.perf_counter()


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


PYCACHE_DIR = RESULTS_DIR / ".pycache"
WARM_FLAG = "LAMELLA_BENCH_WARM"


def setup_bytecode(cold: bool = False) -> str:
    """Run with a warm bytecode cache (the state of any installed package), unless `cold`.

    Sandboxes often set PYTHONDONTWRITEBYTECODE=1, and an editable install has no .pyc files of its
    own, so every process would compile Lamella's sources again (~0.2 s) while an installed
    LaminDB reads the .pyc files pip wrote. Here the cache goes to benchmarks/results/.pycache
    (PYTHONPYCACHEPREFIX: nothing is written next to the sources), for this process and its
    children, and one warm-up workload fills it. `cold=True` keeps no cache at all instead.
    """
    if cold:
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        os.environ.pop("PYTHONPYCACHEPREFIX", None)
        sys.dont_write_bytecode = True
        sys.pycache_prefix = None
        return "cold (no bytecode cache: every process compiles the sources)"
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(PYCACHE_DIR)
    sys.dont_write_bytecode = False
    sys.pycache_prefix = str(PYCACHE_DIR)
    if os.environ.get(WARM_FLAG) != str(PYCACHE_DIR):
        PYCACHE_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, str(BENCH_DIR / "_warmup.py")], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the warm-up workload failed:\n{done.stdout}\n{done.stderr}")
        os.environ[WARM_FLAG] = str(PYCACHE_DIR)
    return f"warm (bytecode cache in {PYCACHE_DIR.relative_to(BENCH_DIR.parent)})"


def lamella_cli() -> str:
    """The `lamella` executable next to the running interpreter (the venv's), else on PATH."""
    candidate = Path(sys.executable).parent / "lamella"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("lamella")
    if found is None:
        raise SystemExit("`lamella` CLI not found: activate the venv (source .venv/bin/activate)")
    return found


def clean_env(home: Path) -> dict[str, str]:
    """The current environment with every LAMELLA_*/LAMIN_* variable replaced by a fresh home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMELLA", "LAMIN"))}
    env["LAMELLA_HOME"] = str(home)
    return env


@dataclass
class Instance:
    folder: Path  # the temp folder; storage is folder/data, settings folder/home
    home: Path
    storage: Path
    init_seconds: float


def init_instance(folder: Path, *, activate: bool = True) -> Instance:
    """`lamella init --storage ./data` in `folder` with LAMELLA_HOME=folder/home (wall time measured).

    With `activate`, this process's environment and working folder point at the new instance, so a
    later `import lamella` connects to it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / "home"
    env = clean_env(home)
    start = now()
    done = subprocess.run(
        [lamella_cli(), "init", "--storage", "./data"], cwd=folder, env=env, capture_output=True, text=True
    )
    seconds = now() - start
    if done.returncode != 0:
        raise SystemExit(f"lamella init failed in {folder}:\n{done.stdout}\n{done.stderr}")
    if activate:
        for key in [k for k in os.environ if k.startswith(("LAMELLA", "LAMIN"))]:
            del os.environ[key]
        os.environ["LAMELLA_HOME"] = str(home)
        os.chdir(folder)
    return Instance(folder=folder, home=home, storage=folder / "data", init_seconds=seconds)


@contextlib.contextmanager
def temp_folder(prefix: str, base: str | None = None, keep: bool = False) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"lamella-bench-{prefix}-", dir=base))
    cwd = os.getcwd()
    try:
        yield path
    finally:
        os.chdir(cwd)
        if keep:
            print(f"(kept {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


def write_files(folder: Path, count: int, size: int, *, per_dir: int = 0, prefix: str = "f") -> list[Path]:
    """`count` files of `size` random bytes (unique content) in `folder` (subfolders of `per_dir`)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    blob = os.urandom(size * min(count, 1024) + 64)
    for index in range(count):
        sub = folder / f"d{index // per_dir:03d}" if per_dir else folder
        if per_dir and index % per_dir == 0:
            sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{prefix}{index:06d}.txt"
        # unique content: a counter in front of a random slice
        offset = (index * 7) % (len(blob) - size)
        header = index.to_bytes(8, "little")
        path.write_bytes(header + blob[offset : offset + size - 8])
        paths.append(path)
    return paths


def write_big_file(path: Path, size_bytes: int) -> None:
    """A file of random-looking bytes, written in 8 MiB blocks (each block differs in its first bytes)."""
    block = bytearray(os.urandom(8 * 2**20))
    written = 0
    with open(path, "wb") as handle:
        index = 0
        while written < size_bytes:
            block[:8] = index.to_bytes(8, "little")
            chunk = memoryview(block)[: min(len(block), size_bytes - written)]
            handle.write(chunk)
            written += len(chunk)
            index += 1


def settle(seconds: float = 0.3) -> None:
    """Flush dirty pages to disk and pause, so writeback of earlier steps does not land in a timing."""
    os.sync()
    time.sleep(seconds)


def free_bytes(path: str | Path) -> int:
    return shutil.disk_usage(path).free


# --- results ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One measured number. `value` is in `unit`; `target` (same unit) is a pass/fail bound: an upper
    bound, or a lower one with `at_least` (throughputs)."""

    bench: str
    name: str
    n: int | None
    value: float | None
    unit: str
    target: float | None = None
    target_text: str = ""
    lamindb: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    at_least: bool = False

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if self.value is None:
            return "ERROR"
        passed = self.value >= self.target if self.at_least else self.value <= self.target
        return "pass" if passed else "FAIL"


class Results:
    def __init__(self, bench: str, scale: str) -> None:
        self.bench = bench
        self.scale = scale
        self.rows: list[Row] = []
        self.started = time.time()
        self.pressure_start = pressure()

    def add(
        self,
        name: str,
        value: float | None,
        unit: str,
        *,
        n: int | None = None,
        target: float | None = None,
        target_text: str = "",
        lamindb: str = "",
        note: str = "",
        at_least: bool = False,
        **extra: Any,
    ) -> Row:
        if target is not None and not target_text:
            target_text = f"{'≥' if at_least else '<'} {fmt(target)} {unit}"
        row = Row(self.bench, name, n, value, unit, target, target_text, lamindb, note, extra, at_least)
        self.rows.append(row)
        print(f"  · {name}: {fmt(value)} {unit}" + (f"  [{row.verdict}]" if row.verdict else ""), flush=True)
        return row

    def print_table(self, title: str | None = None) -> None:
        load = f"; machine pressure at start {self.pressure_start}, at end {pressure()}"
        print_table(self.rows, title or f"{self.bench} (scale {self.scale}{load})")

    def dump(self, json_out: str | None) -> None:
        payload = {
            "bench": self.bench,
            "scale": self.scale,
            "machine": machine_info(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.started)),
            "pressure_start": self.pressure_start,
            "pressure_end": pressure(),
            "wall_seconds": round(time.time() - self.started, 2),
            "rows": [{**asdict(r), "verdict": r.verdict} for r in self.rows],
        }
        if json_out is None:
            RESULTS_DIR.mkdir(exist_ok=True)
            json_out = str(RESULTS_DIR / f"{self.bench}-{self.scale}.json")
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(payload, indent=1))
        print(f"(results written to {json_out})")


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    if magnitude >= 0.01:
        return f"{value:.3f}"
    return f"{value:.4f}"


def print_table(rows: Sequence[Row], title: str = "", *, markdown: bool = False, echo: bool = True) -> str:
    header = ["bench", "measurement", "N", "value", "target", "verdict", "LaminDB", "note"]
    body = [
        [
            r.bench,
            r.name,
            f"{r.n:,}" if r.n else "",
            f"{fmt(r.value)} {r.unit}",
            r.target_text,
            r.verdict,
            r.lamindb,
            r.note,
        ]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in body]
        text = "\n".join(lines)
    else:
        widths = [
            max(len(h), *(len(line[i]) for line in body)) if body else len(h) for i, h in enumerate(header)
        ]

        def render(cells: Sequence[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        lines = [render(header), render(["-" * w for w in widths])] + [render(line) for line in body]
        text = "\n".join(lines)
    if echo:
        if title:
            print(f"\n{title}")
        print(text, flush=True)
    return text


def pressure() -> str:
    """How busy the machine is: load average and the share of time tasks waited for CPU / IO (PSI).

    Other work on a shared machine moves these benchmarks a lot (file creation above all); a high
    `io` share means the numbers of that run are pessimistic.
    """
    parts = [f"load {os.getloadavg()[0]:.1f}"]
    for kind in ("cpu", "io"):
        try:
            with open(f"/proc/pressure/{kind}") as handle:
                some = handle.readline().split()
            avg10 = next(p for p in some if p.startswith("avg10=")).split("=")[1]
            parts.append(f"{kind} {float(avg10):.0f}%")
        except (OSError, StopIteration, ValueError):
            pass
    return ", ".join(parts)


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        with open("/proc/meminfo") as handle:
            info["mem_total"] = handle.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        from importlib.metadata import version

        info["lamella"] = version("lamella")
    except Exception:
        pass
    try:  # the sources measured: commit plus whether src/ had uncommitted changes
        repo = BENCH_DIR.parent
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=repo, capture_output=True, text=True
        )
        if head.returncode == 0:
            changed = len(dirty.stdout.splitlines())
            info["git"] = head.stdout.strip() + (
                f" + {changed} uncommitted file(s) in src/" if changed else ""
            )
    except OSError:
        pass
    return info


def parser(description: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", choices=SCALES, default="small", help="workload sizes (default: small)")
    p.add_argument(
        "--json",
        dest="json_out",
        default=None,
        help="where to write the JSON results (default: benchmarks/results/<bench>-<scale>.json)",
    )
    p.add_argument("--no-json", action="store_true", help="print the table only")
    p.add_argument("--tmp", default=None, help="parent folder of the temp folders (default: the system's)")
    p.add_argument("--keep", action="store_true", help="keep the temp folders")
    p.add_argument(
        "--cold-bytecode",
        action="store_true",
        help="no .pyc cache: every process compiles lamella's sources (default: warm cache)",
    )
    return p


def parse(p: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the arguments and set up the bytecode cache (see setup_bytecode)."""
    args = p.parse_args()
    if not getattr(args, "child_register", None):
        args.bytecode = setup_bytecode(args.cold_bytecode)
        print(f"bytecode: {args.bytecode}", flush=True)
    return args


def finish(results: Results, args: argparse.Namespace) -> None:
    results.print_table()
    if not args.no_json:
        results.dump(args.json_out)


# --- child processes ----------------------------------------------------------------------------


def run_child(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> tuple[int, str, str, float, float]:
    """Run `cmd`; return (exit code, stdout, stderr, wall seconds, peak RSS of that child in MB).

    The peak RSS comes from wait4() on the child itself, so earlier children do not leak into it
    (unlike getrusage(RUSAGE_CHILDREN), which is the maximum over all children ever waited for).
    Caveat: Linux starts a child's ru_maxrss at the RSS its parent had when the child exec'd (the
    old mm's high-water mark is carried over), so a big parent inflates it; the child's own
    VmHWM (/proc/self/status) does not have that problem.
    """
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        start = now()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out_file, stderr=err_file)
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and now() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = now() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        stdout = out_file.read().decode(errors="replace")
        stderr = err_file.read().decode(errors="replace")
    return proc.returncode, stdout, stderr, wall, usage.ru_maxrss / 1024


def last_json_line(text: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return dict(json.loads(line))
    raise ValueError(f"no JSON line in output:\n{text[-2000:]}")
