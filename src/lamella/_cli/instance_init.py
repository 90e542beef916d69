"""`lamella init`: an embedded instance is created from the SQL snapshot, without SQLAlchemy."""

from __future__ import annotations

import click

from lamella._setup.instances import init_embedded


@click.command()
@click.option(
    "--storage", required=True, help="A local folder (./data) or an S3 location (s3://bucket/prefix)."
)
@click.option("--name", default=None, help="Instance name; defaults to the storage folder's name.")
@click.option(
    "--db", default=None, help="PostgreSQL URL (postgresql://user:pw@host:port/db); SQLite if omitted."
)
@click.option("--modules", default=None, help="Comma-separated schema modules, e.g. bionty.")
def init(storage: str, name: str | None, db: str | None, modules: str | None) -> None:
    """Create an instance and make it the current one."""

    if db is None and init_embedded(storage=storage, name=name, modules=modules):
        return
    # PostgreSQL, or an embedded instance another process is creating right now: only opening the
    # database finishes the job, and that needs SQLAlchemy and the registries, which `lamella init`
    # of an embedded instance never loads
    from lamella._setup import connect

    connect.init(storage=storage, name=name, db=db, modules=modules, connect=False)
