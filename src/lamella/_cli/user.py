"""`lamella login HANDLE`."""

from __future__ import annotations

import click

from lamella._instance.config import default_handle
from lamella._setup.instances import login as login_user


@click.command()
@click.argument("handle", required=False)
def login(handle: str | None) -> None:
    """Set the local user's handle (default: the operating-system user)."""

    login_user(handle or default_handle())
