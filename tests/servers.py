"""The PostgreSQL and S3 servers of a test session, and throwaway databases on the PostgreSQL one.

Plain functions: the session fixtures in tests/conftest.py start each server once, on a free loopback
port, and only when a test asks for it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def moto_s3() -> Iterator[str]:
    """A moto S3 server with bucket "lamella-test"; AWS_* variables point at it while it runs."""
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


def pg_bin(name: str) -> str | None:
    """The path of a PostgreSQL server program, or None when PostgreSQL is not installed."""
    return shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )


@contextmanager
def postgres_cluster(initdb: str, pg_ctl: str) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port; the URL of its `lamella` database."""
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


def server_url(url: str, database: str) -> str:
    """The URL of another database on the server of `url`."""
    return url.rsplit("/", 1)[0] + "/" + database


def create_database(postgres_url: str) -> str:
    """A new, empty database on the server of `postgres_url`; its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url(postgres_url, name)


def drop_database(postgres_url: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(db: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of `sql` run on a database given as a PostgreSQL URL or as the path of a SQLite file."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as connection:
            return connection.execute(sql).fetchall()
    import sqlite3

    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def execute(db: str, sql: str) -> None:
    """Run and commit a writing statement on a database given as `query` takes it."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as connection:
            connection.execute(sql)  # the block commits
        return
    import sqlite3

    connection = sqlite3.connect(db)
    try:
        with connection:  # commits
            connection.execute(sql)
    finally:
        connection.close()
