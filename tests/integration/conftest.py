"""Servers for integration tests, started once per test session on loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

S3_BUCKET = "lamella-test"
_AWS_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with code {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server with bucket "lamella-test"; AWS_* variables point at it while the session runs."""
    port = _free_port()
    # Running the module with this interpreter avoids depending on the venv's bin/ being on PATH.
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    saved = {name: os.environ.get(name) for name in _AWS_ENV}
    try:
        _wait_for_port(port, proc)
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=S3_BUCKET)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# --- PostgreSQL ------------------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    import glob
    import shutil

    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        pytest.skip(f"{name} not found: install PostgreSQL (apt-get install postgresql)")
    return found


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port; the URL of its `lamella` database."""
    import shutil
    import tempfile

    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = tempfile.mkdtemp(prefix="lamella-it-pg-")
    data = os.path.join(base, "data")
    if as_root:
        shutil.chown(base, user="postgres")
    port = _free_port()
    try:
        subprocess.run(
            [*prefix, initdb, "-D", data, "-U", "lamella", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            [*prefix, pg_ctl, "-D", data, "-l", os.path.join(base, "log"), "-w", "-o", options, "start"],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as e:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {e.stdout!r} {e.stderr!r}") from e
    try:
        import psycopg

        with psycopg.connect(f"postgresql://lamella@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE lamella")
        yield f"postgresql://lamella@127.0.0.1:{port}/lamella"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _server_url(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


def _create_database(postgres_url: str) -> str:
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _server_url(postgres_url, name)


def _drop_database(postgres_url: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_pg_db(postgres_url: str) -> Iterator[str]:
    """A new, empty database on the session's server for one test; dropped afterwards."""
    url = _create_database(postgres_url)
    yield url
    _reset_lamella_state()
    _drop_database(postgres_url, url)


# --- process state ---------------------------------------------------------------------------------


def _reset_lamella_state() -> None:
    """Forget the connected instance, the run context, the settings and every cache of this process."""
    from lamella._instance import state

    state.process.reset()


@pytest.fixture
def lamella_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh LAMELLA_HOME (settings, instances, cache) and a process with no instance connected."""
    home = tmp_path_factory.mktemp("lamella-home")
    monkeypatch.setenv("LAMELLA_HOME", str(home))
    monkeypatch.delenv("LAMELLA_CACHE_DIR", raising=False)
    _reset_lamella_state()
    yield str(home)
    _reset_lamella_state()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Runs a test once with the embedded SQLite database and once with PostgreSQL."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite, or the URL of a fresh PostgreSQL database (pass it as `db=`)."""
    if backend == "sqlite":
        return None
    return str(request.getfixturevalue("fresh_pg_db"))


# --- subprocesses ----------------------------------------------------------------------------------


def child_env(home: str, **extra: str) -> dict[str, str]:
    """The environment of a child process using the LAMELLA_HOME `home` (and the session's AWS_*)."""
    env = dict(os.environ)
    env["LAMELLA_HOME"] = home
    env.pop("LAMELLA_CACHE_DIR", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _lamella_command() -> list[str]:
    script = Path(sys.executable).parent / "lamella"
    return [str(script)] if script.exists() else [sys.executable, "-m", "lamella._cli.main"]


class Children:
    """Starts Python code and `lamella` commands in fresh processes that share this test's LAMELLA_HOME."""

    def __init__(self, home: str) -> None:
        self.home = home

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
            [*_lamella_command(), *args],
            env=self.env(),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture
def children(lamella_home: str) -> Children:
    return Children(lamella_home)


# --- one instance shared by the tests of a module --------------------------------------------------


@dataclass
class SharedInstance:
    """An instance set up once (e.g. by expensive concurrent workers) and only read by several tests."""

    home: str
    name: str
    storage: Path
    backend: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def children(self) -> Children:
        """Child processes that use this instance's LAMELLA_HOME."""
        return Children(self.home)


@contextmanager
def lamella_process(home: str) -> Iterator[None]:
    """This process with LAMELLA_HOME=home and no instance connected, on entry and on exit."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAMELLA_HOME", home)
        patch.delenv("LAMELLA_CACHE_DIR", raising=False)
        _reset_lamella_state()
        try:
            yield
        finally:
            _reset_lamella_state()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_instance_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Callable[[SharedInstance], None]], SharedInstance]]:
    """Per backend: `factory(setup)` inits an instance in its own LAMELLA_HOME and runs `setup` once.

    `setup(shared)` runs with the instance connected and may fill `shared.data`; later calls of
    the factory in the same module return the same instance.
    """
    backend = str(request.param)
    made: dict[str, SharedInstance] = {}
    databases: list[str] = []
    postgres = str(request.getfixturevalue("postgres_url")) if backend == "postgresql" else None

    def factory(setup: Callable[[SharedInstance], None]) -> SharedInstance:
        if "it" in made:
            return made["it"]
        import lamella as ln

        base = tmp_path_factory.mktemp(f"shared-{backend}")
        shared = SharedInstance(
            home=str(base / "home"), name=f"shared-{backend}", storage=base / "data", backend=backend
        )
        db = None
        if postgres is not None:
            db = _create_database(postgres)
            databases.append(db)
        with lamella_process(shared.home):
            ln.setup.init(storage=shared.storage, name=shared.name, db=db)
            setup(shared)
        made["it"] = shared
        return shared

    yield factory
    _reset_lamella_state()
    for db in databases:
        assert postgres is not None
        _drop_database(postgres, db)


@pytest.fixture
def connect_shared(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[SharedInstance], None]]:
    """`connect_shared(shared)` points this test's process at a shared instance and connects to it."""

    def connect(shared: SharedInstance) -> None:
        import lamella as ln

        monkeypatch.setenv("LAMELLA_HOME", shared.home)
        monkeypatch.delenv("LAMELLA_CACHE_DIR", raising=False)
        _reset_lamella_state()
        ln.connect(shared.name)

    yield connect
    _reset_lamella_state()
