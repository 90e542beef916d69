"""Shared fixtures: every test runs against its own LAMELLA_HOME and, when it asks for one, a fresh instance.

Lamella keeps per-process state (the connected instance, the run context, a cache of storage roots, the
runtime settings). The fixtures reset all of it before and after each test, so tests can run in any
order and in parallel (`pytest -n 2`): each test has its own `tmp_path`, hence its own settings folder,
database and storage.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest


def reset_process_state() -> None:
    """Forget the connected instance, the run context and every per-process cache."""
    from lamella._instance import state

    state.process.reset()


@pytest.fixture(autouse=True)
def _isolated_lamella_home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """No test ever reads or writes the real ~/.lamella, nor sees another test's instance."""
    if request.node.get_closest_marker("integration") is not None:
        yield  # integration tests manage their own servers and instances
        return
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("LAMELLA_HOME", str(tmp_path / "lamella_home"))
    monkeypatch.delenv("LAMELLA_CACHE_DIR", raising=False)
    reset_process_state()
    try:
        yield
    finally:
        reset_process_state()
        monkeypatch.undo()


@pytest.fixture
def forget_connection() -> Callable[[], None]:
    """Makes this process forget its connection, as a new process would (the settings files stay)."""
    return reset_process_state


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The LAMELLA_HOME of this test (it does not exist until something writes settings)."""
    return tmp_path / "lamella_home"


@pytest.fixture
def storage_root(tmp_path: Path) -> Path:
    """The storage folder of the `ln` fixture's instance."""
    return (tmp_path / "data").resolve()


@pytest.fixture
def ln(storage_root: Path) -> ModuleType:
    """`import lamella as ln`, connected to a fresh instance named "data" with storage `tmp_path/data`."""
    import lamella

    lamella.setup.init(storage=storage_root)
    return lamella


@pytest.fixture
def managed_files(storage_root: Path) -> Callable[[], list[str]]:
    """Lists the files Lamella keeps under `<storage>/.lamella/` (relative paths), without the database."""

    def list_them() -> list[str]:
        folder = storage_root / ".lamella"
        if not folder.exists():
            return []
        return sorted(
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith("lamella.db")
        )

    return list_them


@pytest.fixture
def run_lamella(home: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs the `lamella` command (the installed entry point) with this test's LAMELLA_HOME, in tmp_path."""

    def run(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LAMELLA_HOME": str(home)}
        executable = Path(sys.executable).with_name("lamella")
        command = [str(executable)] if executable.exists() else [sys.executable, "-m", "lamella._cli.main"]
        result = subprocess.run(
            [*command, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    return run


@pytest.fixture
def run_python(home: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs Python code in a fresh interpreter with this test's LAMELLA_HOME, in tmp_path."""

    def run(code: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LAMELLA_HOME": str(home)}
        env.pop("LAMELLA_CACHE_DIR", None)
        return subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )

    return run


@pytest.fixture
def run_script(home: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Writes `source` to `tmp_path/name` and runs it as a script (`python name`) with this test's LAMELLA_HOME."""

    def run(name: str, source: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        (tmp_path / name).write_text(source)
        env = {**os.environ, "LAMELLA_HOME": str(home)}
        env.pop("LAMELLA_CACHE_DIR", None)
        result = subprocess.run(
            [sys.executable, name], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )
        if check:
            assert result.returncode == 0, (name, result.stdout, result.stderr)
        return result

    return run
