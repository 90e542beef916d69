"""Shared fixtures: every test runs against its own LAMELLA_HOME and, when it asks for one, a fresh instance.

Lamella keeps per-process state (the connected instance, the run context, a cache of storage roots, the
runtime settings). The fixtures reset all of it before and after each test, so tests can run in any
order and in parallel (`pytest -n 2`): each test has its own `tmp_path`, hence its own settings folder,
database and storage.

Backends: `backend` runs a test once on SQLite and once on PostgreSQL (`db_url` is then a fresh database
on the session's server). The PostgreSQL parameter carries the
`integration` marker, as do tests and parameters on S3 (moto's server: `s3_endpoint`, `s3_prefix`). tests/conformance/ is the suite written
once for every backend; tests/servers.py starts the servers, tests/workers.py runs child processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import servers
from workers import Children, lamella_command


def reset_process_state() -> None:
    """Forget the connected instance, the run context and every per-process cache."""
    from lamella._instance import state

    state.process.reset()


@contextmanager
def lamella_process(home: str | os.PathLike[str]) -> Iterator[None]:
    """This process with LAMELLA_HOME=home and no instance connected, on entry and on exit."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAMELLA_HOME", str(home))
        patch.delenv("LAMELLA_CACHE_DIR", raising=False)
        reset_process_state()
        try:
            yield
        finally:
            reset_process_state()


@pytest.fixture(autouse=True)
def _isolated_lamella_home(tmp_path: Path) -> Iterator[None]:
    """No test ever reads or writes the real ~/.lamella, nor sees another test's instance."""
    with lamella_process(tmp_path / "lamella_home"):
        yield


@pytest.fixture
def forget_connection() -> Callable[[], None]:
    """Makes this process forget its connection, as a new process would (the settings files stay)."""
    return reset_process_state


@pytest.fixture
def reconnect() -> Callable[[str], None]:
    """`reconnect(name)`: forget the connection and every cached record, then connect to `name` again."""

    def connect_again(name: str) -> None:
        import lamella

        reset_process_state()
        lamella.connect(name)

    return connect_again


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The LAMELLA_HOME of this test (it does not exist until something writes settings)."""
    return tmp_path / "lamella_home"


@pytest.fixture
def lamella_home(home: Path) -> str:
    """The LAMELLA_HOME of this test, as a string."""
    return str(home)


@pytest.fixture
def children(home: Path) -> Children:
    """Python code and `lamella` commands in fresh processes sharing this test's LAMELLA_HOME."""
    return Children(home)


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
        result = subprocess.run(
            [*lamella_command(), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
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


# --- servers, started once per session when a test needs them ------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server with bucket "lamella-test"; AWS_* variables point at it while the session runs."""
    with servers.moto_s3() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port; the URL of its `lamella` database."""
    initdb, pg_ctl = servers.pg_bin("initdb"), servers.pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("initdb/pg_ctl not found: install PostgreSQL (apt-get install postgresql)")
    with servers.postgres_cluster(initdb, pg_ctl) as url:
        yield url


@pytest.fixture
def fresh_pg_db(postgres_url: str) -> Iterator[str]:
    """A new, empty database on the session's server for one test; dropped afterwards."""
    url = servers.create_database(postgres_url)
    yield url
    reset_process_state()  # closes this process's connections to the database
    servers.drop_database(postgres_url, url)


# --- backends -------------------------------------------------------------------------------------------

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration, id="postgres")]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Runs a test once with the embedded SQLite database and once with PostgreSQL (its dialect name)."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite, or the URL of a fresh PostgreSQL database (pass it as `db=`)."""
    if backend == "sqlite":
        return None
    return str(request.getfixturevalue("fresh_pg_db"))


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    """A boto3 client of the session's S3 server."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint)


@pytest.fixture
def s3_prefix(s3: Any) -> Iterator[str]:
    """A fresh key prefix in the bucket "lamella-test"; its objects are deleted afterwards."""
    import uuid

    prefix = uuid.uuid4().hex[:10]
    yield prefix
    listing = s3.list_objects_v2(Bucket=servers.S3_BUCKET, Prefix=prefix + "/")
    for obj in listing.get("Contents", []):
        s3.delete_object(Bucket=servers.S3_BUCKET, Key=obj["Key"])


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


@pytest.fixture(scope="module", params=BACKENDS)
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
        import lamella

        base = tmp_path_factory.mktemp(f"shared-{backend}")
        shared = SharedInstance(
            home=str(base / "home"), name=f"shared-{backend}", storage=base / "data", backend=backend
        )
        db = None
        if postgres is not None:
            db = servers.create_database(postgres)
            databases.append(db)
        with lamella_process(shared.home):
            lamella.setup.init(storage=shared.storage, name=shared.name, db=db)
            setup(shared)
        made["it"] = shared
        return shared

    yield factory
    reset_process_state()
    for db in databases:
        assert postgres is not None
        servers.drop_database(postgres, db)


@pytest.fixture
def connect_shared(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[SharedInstance], None]]:
    """`connect_shared(shared)` points this test's process at a shared instance and connects to it."""

    def connect(shared: SharedInstance) -> None:
        import lamella

        monkeypatch.setenv("LAMELLA_HOME", shared.home)
        monkeypatch.delenv("LAMELLA_CACHE_DIR", raising=False)
        reset_process_state()
        lamella.connect(shared.name)

    yield connect
    reset_process_state()
