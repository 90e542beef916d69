"""A throwaway PostgreSQL 15 server for the scale benchmark (as tests/servers.py starts one).

The cluster lives in a folder of its own (`<dir>/pg`), so a kept benchmark folder can be started
again later (`--reuse`): the server then listens on a new free port, and the caller rewrites the
instance's URL.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# settings for a server that only ever holds generated data: nothing needs to survive a crash
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off "
    "-c max_wal_size=2GB -c checkpoint_timeout=30min -c maintenance_work_mem=512MB "
    "-c shared_buffers=1GB -c work_mem=64MB -c max_connections=50"
)


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/15/bin/{name}")) or sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True
    )
    path = found[0] if found else shutil.which(name)
    if path is None:
        raise SystemExit(f"PostgreSQL's {name} not found (looked in /usr/lib/postgresql/*/bin and PATH)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PgServer:
    folder: Path  # <dir>/pg: data/, log, the socket
    port: int = 0

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://lamella@127.0.0.1:{self.port}/postgres"

    def url(self, database: str = "lamella") -> str:
        return f"postgresql://lamella@127.0.0.1:{self.port}/{database}"

    def version(self) -> str:
        done = subprocess.run([pg_bin("postgres"), "--version"], capture_output=True, text=True)
        return done.stdout.strip()

    def create(self) -> None:
        """initdb (C.UTF-8 locale, UTF8, trust auth) and start; then CREATE DATABASE lamella."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, user="postgres")
        subprocess.run(
            [
                *_as_postgres(),
                pg_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "lamella",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        self.start()
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE lamella")

    def start(self) -> None:
        self.port = free_port()
        options = f"-p {self.port} -k {self.folder} {SERVER_OPTIONS}"
        done = subprocess.run(
            [
                *_as_postgres(),
                pg_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "log"),
                "-w",
                "-t",
                "120",
                "-o",
                options,
                "start",
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            log = (self.folder / "log").read_text()[-2000:] if (self.folder / "log").exists() else ""
            raise SystemExit(f"could not start PostgreSQL: {done.stdout} {done.stderr}\n{log}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise SystemExit(f"PostgreSQL does not listen on port {self.port}")

    def stop(self) -> None:
        if not self.port:
            return
        subprocess.run(
            [*_as_postgres(), pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            capture_output=True,
        )
        self.port = 0
