"""The instances of the scale benchmark: the big generated one per backend and the empty baselines.

Layout of a benchmark folder (a temp folder, or `--keep DIR` to keep it and reuse it later):

    DIR/sqlite/          home/ (LAMELLA_HOME), data/ (storage + lamella.db), files/, manifest.json
    DIR/postgresql/      the same, plus pg/ (the PostgreSQL cluster; its port changes per start)
    DIR/empty-<backend>/ the empty instance of the save baseline (made anew every run)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import clean_env, lamella_cli

from _scale.generate import Layout, Report, Template, generate, sqlite_functions, template_t0
from _scale.pg import PgServer

SEED = Path(__file__).resolve().parent / "seed.py"
MANIFEST_VERSION = 1


@dataclass
class BenchInstance:
    backend: str  # "sqlite" | "postgresql"
    folder: Path
    url: str | None = None  # PostgreSQL only

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def files(self) -> Path:
        return self.folder / "files"

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    def env(self) -> dict[str, str]:
        return clean_env(self.home)

    def sqlalchemy_url(self) -> str:
        if self.backend == "postgresql":
            assert self.url is not None
            return self.url.replace("postgresql://", "postgresql+psycopg://", 1)
        return f"sqlite:///{self.folder / 'data' / '.lamella' / 'lamella.db'}"

    def init(self) -> float:
        self.folder.mkdir(parents=True, exist_ok=True)
        cmd = [lamella_cli(), "init", "--storage", "./data"]
        if self.url:
            cmd += ["--db", self.url]
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=self.folder, env=self.env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"lamella init failed in {self.folder}:\n{done.stdout}\n{done.stderr}")
        return time.perf_counter() - start

    def migrate(self, downgrade_to: str | None = None) -> tuple[float, str]:
        """`lamella migrate` on a kept instance that an older Lamella generated: (seconds, its output).

        `downgrade_to` first takes the schema back to that revision (to time a migration again).
        """
        if downgrade_to is not None:
            code = (
                "import sys\nfrom alembic import command\nfrom lamella._setup import schema\n"
                "command.downgrade(schema.alembic_config(sys.argv[1]), sys.argv[2])\n"
            )
            done = subprocess.run(
                [sys.executable, "-c", code, self.sqlalchemy_url(), downgrade_to],
                env=self.env(),
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise SystemExit(f"downgrade to {downgrade_to} failed in {self.folder}:\n{done.stderr}")
        start = time.perf_counter()
        done = subprocess.run(
            [lamella_cli(), "migrate"], cwd=self.folder, env=self.env(), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"lamella migrate failed in {self.folder}:\n{done.stdout}\n{done.stderr}")
        return time.perf_counter() - start, (done.stdout + done.stderr).strip()

    def seed(self, spec: dict[str, Any]) -> dict[str, Any]:
        spec = {**spec, "files": str(self.files)}
        done = subprocess.run(
            [sys.executable, str(SEED), json.dumps(spec)],
            cwd=self.folder,
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(
                f"seeding through the API failed in {self.folder}:\n{done.stdout}\n{done.stderr}"
            )
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def point_at(self, url: str) -> None:
        """Rewrite the instance's PostgreSQL URL (a restarted server listens on a new port)."""
        self.url = url
        for config in (self.home / "instances").glob("*.json"):
            data = json.loads(config.read_text())
            data["db"] = url
            config.write_text(json.dumps(data, indent=2, sort_keys=True))

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.exists():
            return None
        return dict(json.loads(self.manifest_path.read_text()))

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.manifest_path.write_text(json.dumps(manifest, indent=1, default=str))


def _row(conn: Any, sql: str, **params: Any) -> dict[str, Any]:
    from sqlalchemy import text

    row = conn.execute(text(sql), params).mappings().first()
    if row is None:
        raise SystemExit(f"the template row is missing: {sql} {params}")
    return dict(row)


def read_template(engine: Any, seeded: dict[str, Any]) -> Template:
    second_id = seeded["artifact_ids"][1]
    with engine.connect() as conn:
        artifact = _row(conn, "SELECT * FROM artifact WHERE id = :id", id=second_id)
        link = _row(conn, "SELECT * FROM artifact_featurevalue WHERE artifact_id = :id", id=second_id)
        value = _row(conn, "SELECT * FROM featurevalue WHERE id = :id", id=link["featurevalue_id"])
        label_link = _row(
            conn,
            "SELECT * FROM artifact_ulabel WHERE artifact_id = :id AND feature_id IS NOT NULL",
            id=second_id,
        )
    return Template(
        artifact=artifact,
        featurevalue=value,
        artifact_featurevalue=link,
        artifact_ulabel=label_link,
        temperature_id=seeded["temperature_id"],
        category_id=seeded["category_id"],
        label_ids={k: int(v) for k, v in seeded["label_ids"].items()},
    )


def load_engine(url: str, template: Template, layout: Layout) -> Any:
    """An engine whose connections are set up for the bulk load (and, on SQLite, have the
    generator's functions)."""
    from sqlalchemy import create_engine, event

    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        t0 = template_t0(template, layout)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            sqlite_functions(dbapi_connection, t0)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -1000000")  # 1 GB
            cursor.execute("PRAGMA temp_store = MEMORY")
            cursor.close()

    else:

        @event.listens_for(engine, "connect")
        def _on_connect_pg(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
                cursor.execute("SET maintenance_work_mem = '512MB'")
                # foreign keys are checked by triggers, which a replica session does not fire: the
                # generated ids come from rows that exist (the template's and the scratch maps'), and
                # every index, unique ones included, is still maintained (the role needs a superuser:
                # the throwaway server's `lamella`)
                cursor.execute("SET session_replication_role = replica")
            dbapi_connection.commit()

    return engine


def generate_instance(instance: BenchInstance, layout: Layout, *, chunk: int) -> dict[str, Any]:
    """A new instance: `lamella init`, the API seed, the SQL load. Returns (and writes) its manifest."""
    from sqlalchemy import create_engine

    started = time.perf_counter()
    init_s = instance.init()
    seeded = instance.seed(
        {"mode": "template", "labels": layout.labels, "key": layout.key(layout.template_family)}
    )
    seed_s = time.perf_counter() - started - init_s
    engine = create_engine(instance.sqlalchemy_url())
    template = read_template(engine, seeded)
    engine.dispose()
    engine = load_engine(instance.sqlalchemy_url(), template, layout)
    print(f"  [{instance.backend}] generating {layout.n:,} artifacts ...", flush=True)
    load_start = time.perf_counter()
    report: Report = generate(
        engine, layout, template, chunk=chunk if instance.backend == "postgresql" else chunk // 2
    )
    load_s = time.perf_counter() - load_start
    shape = check_shape(engine, template, report)
    engine.dispose()
    size = database_size(instance)
    manifest = {
        "version": MANIFEST_VERSION,
        "backend": instance.backend,
        "n": layout.n,
        "labels": layout.labels,
        "families": layout.families,
        "second_versions": layout.second_versions,
        "template_family": layout.template_family,
        "id_base": report.id_base,
        "expected": report.expected,
        "seconds": {
            "init": round(init_s, 2),
            "seed": round(seed_s, 2),
            "load": round(load_s, 2),
            **{k: round(v, 2) for k, v in report.seconds.items()},
            "total": round(time.perf_counter() - started, 2),
        },
        "warnings": report.warnings,
        "shape": shape,
        "database_bytes": size,
        "saved_rows": 0,  # rows the save benchmarks added since (they stay in a kept database)
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "seeded": seeded,
    }
    instance.write_manifest(manifest)
    return manifest


def check_shape(engine: Any, template: Template, report: Report) -> list[str]:
    """Differences between the template rows and a generated row, column by column: a column NULL
    in one and set in the other, or of another SQL type (SQLite typeof). Empty list = same shape."""
    from sqlalchemy import text

    problems = []
    first_generated = report.id_base + 1
    pairs = [
        ("artifact", template.artifact, "SELECT * FROM artifact WHERE id = :id", first_generated),
        (
            "artifact_featurevalue",
            template.artifact_featurevalue,
            "SELECT * FROM artifact_featurevalue WHERE artifact_id = :id",
            first_generated,
        ),
        (
            "artifact_ulabel",
            template.artifact_ulabel,
            "SELECT * FROM artifact_ulabel WHERE artifact_id >= :id AND feature_id IS NOT NULL "
            "ORDER BY artifact_id LIMIT 1",
            first_generated,
        ),
    ]
    with engine.connect() as conn:
        for table, want, sql, row_id in pairs:
            got = conn.execute(text(sql), {"id": row_id}).mappings().first()
            if got is None:
                problems.append(f"{table}: no generated row")
                continue
            for column, value in want.items():
                other = got.get(column)
                if (value is None) != (other is None):
                    problems.append(f"{table}.{column}: template {value!r}, generated {other!r}")
                elif value is not None and type(value) is not type(other):
                    problems.append(
                        f"{table}.{column}: template type {type(value).__name__}, "
                        f"generated {type(other).__name__}"
                    )
        if engine.dialect.name == "sqlite":
            # a JSON number is stored as a SQLite number (REAL, or INTEGER for a whole number: the
            # column's NUMERIC affinity, as for values the API saves); text would be a JSON string
            kinds = conn.execute(
                text("SELECT typeof(value), count(*) FROM featurevalue WHERE feature_id = :f GROUP BY 1"),
                {"f": template.featurevalue["feature_id"]},
            ).all()
            wrong = {kind: count for kind, count in kinds if kind not in ("real", "integer")}
            if wrong:
                problems.append(f"featurevalue.value: stored as {wrong} instead of numbers")
    return problems


def database_size(instance: BenchInstance) -> int:
    if instance.backend == "sqlite":
        folder = instance.folder / "data" / ".lamella"
        return sum(p.stat().st_size for p in folder.glob("lamella.db*"))
    import psycopg

    assert instance.url is not None
    with psycopg.connect(instance.url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def empty_instance(
    folder: Path, backend: str, server: PgServer | None, version_keys: list[str]
) -> BenchInstance:
    """A fresh instance of `backend` holding only the artifacts the "new version" save needs."""
    if folder.exists():
        shutil.rmtree(folder)
    url = None
    if backend == "postgresql":
        assert server is not None
        import psycopg

        name = f"lamella_empty_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = server.url(name)
    instance = BenchInstance(backend, folder, url)
    instance.init()
    instance.seed({"mode": "empty", "keys": version_keys})
    return instance


def drop_empty(instance: BenchInstance, server: PgServer | None) -> None:
    if instance.backend == "postgresql" and server is not None and instance.url and server.port:
        import psycopg

        name = instance.url.rsplit("/", 1)[1]
        with psycopg.connect(server.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(instance.folder, ignore_errors=True)
