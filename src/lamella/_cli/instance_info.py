"""`lamella info | list`."""

from __future__ import annotations

import click

from lamella._instance import config as cfg
from lamella._setup.instance_facts import stored_hash_type


@click.command()
def info() -> None:
    """Show the current instance and user."""

    name = cfg.current_instance_name()
    user = cfg.read_user()
    click.echo(f"user      {user.handle} ({user.uid})")
    config = cfg.InstanceConfig.load(name) if name else None
    if config is None:
        click.echo("instance  none: create one with `lamella init --storage ./data`")
        return
    mode = ", read-only" if cfg.current_read_only() else ""
    click.echo(f"instance  {config.name} ({config.uid}{mode})")
    click.echo(f"storage   {config.storage_root}")
    click.echo(f"database  {config.dialect}: {_safe_url(config.url())}")
    click.echo(f"hashes    {_hash_type_line(config)}")
    if config.modules:
        click.echo(f"modules   {', '.join(config.modules)}")


def _hash_type_line(config: cfg.InstanceConfig) -> str:
    try:
        hash_type = stored_hash_type(config)
    except Exception as e:  # info shows what it can: an unreachable database is reported, not raised
        return f"unknown: cannot read the database ({e})"
    if hash_type is None:
        return "md5 (an older schema: `lamella migrate` records it)"
    why = "full content, BLAKE3" if hash_type == "blake3" else "full content, md5: created before BLAKE3"
    return f"{hash_type} ({why})"


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command(name="list")
def list_() -> None:
    """List the instances on this machine; the current one is marked with *."""

    current = cfg.current_instance_name()
    configs = cfg.list_instance_configs()
    if not configs:
        click.echo("no instances yet: create one with `lamella init --storage ./data`")
        return
    for config in configs:
        mark = "*" if config.name == current else " "
        click.echo(f"{mark} {config.name:<20} {config.dialect:<10} {config.storage_root}")


list_.name = "list"
