"""Child processes of a test: one-off Python code and `lamella` commands, and N workers released at once.

A worker script is Python source run in a fresh interpreter as `python worker.py INDEX GATE ARGS...`.
`race()` prepends `PRELUDE`, which defines INDEX, GATE, ARGS (the remaining arguments) and
`wait_for_start()`: a worker does its slow imports and connecting first, then calls
`wait_for_start()`, so the part after it really overlaps across the workers instead of running one
after the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PRELUDE = r"""
import sys, time
from pathlib import Path
INDEX, GATE, ARGS = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]

def wait_for_start():
    (GATE / f"ready-{INDEX}").touch()
    deadline = time.time() + 60
    while not (GATE / "go").exists():
        if time.time() > deadline:
            sys.exit("no start signal")
        time.sleep(0.002)
"""


def child_env(home: str | os.PathLike[str], **extra: str) -> dict[str, str]:
    """The environment of a child process using the LAMELLA_HOME `home` (and the session's AWS_*)."""
    env = dict(os.environ)
    env["LAMELLA_HOME"] = str(home)
    env.pop("LAMELLA_CACHE_DIR", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def lamella_command() -> list[str]:
    """The installed `lamella` entry point, or the module that implements it."""
    script = Path(sys.executable).with_name("lamella")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lamella._cli.main"]


class Children:
    """Starts Python code and `lamella` commands in fresh processes that share one LAMELLA_HOME."""

    def __init__(self, home: str | os.PathLike[str]) -> None:
        self.home = str(home)

    def env(self, **extra: str) -> dict[str, str]:
        return child_env(self.home, **extra)

    def python(
        self,
        code: str,
        *args: str,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float = 120,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run `code`; by default fail the test (showing the output) on a non-zero exit."""
        proc = subprocess.run(
            [sys.executable, "-c", code, *args],
            env=self.env(),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check:
            assert proc.returncode == 0, f"child failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        return proc

    def popen(
        self, script: str | os.PathLike[str], *args: str, cwd: str | os.PathLike[str] | None = None
    ) -> subprocess.Popen[str]:
        """Start a script file without waiting; output goes to pipes."""
        return subprocess.Popen(
            [sys.executable, str(script), *args],
            env=self.env(),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def cli(
        self, *args: str, cwd: str | os.PathLike[str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run `lamella ARGS`."""
        return subprocess.run(
            [*lamella_command(), *args],
            env=self.env(),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def race(
    source: str,
    folder: Path,
    homes: Sequence[str | os.PathLike[str]],
    *args: str,
    timeout: float = 180,
) -> list[subprocess.CompletedProcess[str]]:
    """Run `source` (after PRELUDE) in one process per entry of `homes` (its LAMELLA_HOME), in `folder`.

    The workers are released together once all are ready (or as soon as one has exited: its exit code
    and output then say why); returns each one's exit code and output, in worker order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "worker.py"
    script.write_text(PRELUDE + source)
    gate = folder / "gate"
    gate.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(i), str(gate), *args],
            env=child_env(home),
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, home in enumerate(homes)
    ]
    try:
        deadline = time.monotonic() + 90  # not an assertion: past it the gate opens anyway
        while len(list(gate.glob("ready-*"))) < len(procs):
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        (gate / "go").touch()
        results = []
        for i, proc in enumerate(procs):
            out, err = proc.communicate(timeout=timeout)
            results.append(subprocess.CompletedProcess([str(i)], proc.returncode, out, err))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def assert_all_succeeded(results: list[subprocess.CompletedProcess[str]]) -> None:
    failed = [
        f"worker {r.args[0]} exited {r.returncode}:\n{r.stdout}\n{r.stderr}" for r in results if r.returncode
    ]
    assert not failed, "\n".join(failed)


def race_json(
    source: str, folder: Path, homes: Sequence[str | os.PathLike[str]], *args: str, timeout: float = 180
) -> list[Any]:
    """`race()`, asserting that every worker succeeded; what each printed last, read as JSON."""
    results = race(source, folder, homes, *args, timeout=timeout)
    assert_all_succeeded(results)
    return [json.loads(r.stdout.strip().splitlines()[-1]) for r in results]


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Wait until `condition()` holds, failing with the child's output if it exits first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the child exited ({proc.returncode}) first:\n{out}\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError("the child did not get there (it hangs)")
        time.sleep(0.01)
