"""`lamella connect | disconnect | delete | migrate`."""

from __future__ import annotations

import click

from lamella._setup.connect import connect as connect_instance
from lamella._setup.connect import migrate as migrate_instance
from lamella._setup.instances import delete as delete_instance
from lamella._setup.instances import disconnect as disconnect_instance


@click.command()
@click.argument("name")
@click.option(
    "--read-only", is_flag=True, help="Only read: queries, load and cache work; writes are refused."
)
def connect(name: str, read_only: bool) -> None:
    """Make NAME the current instance."""

    instance = connect_instance(name, persist=True, read_only=read_only)
    mode = f" (read-only: {instance.db.read_only_reason})" if instance.read_only else ""
    click.echo(f"→ connected lamella: {instance.user.handle}/{instance.name}{mode}")


@click.command()
def disconnect() -> None:
    """Leave the current instance (the next use asks for one)."""

    disconnect_instance()
    click.echo("→ disconnected")


@click.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, force: bool) -> None:
    """Delete instance NAME's settings and embedded database (stored files are kept)."""

    if not force:
        click.confirm(f"Delete instance {name!r}? Its stored files are kept.", abort=True)
    delete_instance(name, force=force)


@click.command()
@click.option("--modules", default=None, help="Comma-separated modules to add, e.g. bionty.")
def migrate(modules: str | None) -> None:
    """Upgrade the current instance's database schema to this version of Lamella."""

    before, after = migrate_instance(modules=modules)
    if before == after:
        click.echo(f"→ already up to date (schema {after})")
    else:
        click.echo(f"→ migrated schema {before} → {after}")
