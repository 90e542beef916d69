"""`lamella save FILE` and `lamella load UID`."""

from __future__ import annotations

import click

from lamella._tracking.transfer import load_source, save_source


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
def save(file: str) -> None:
    """Store a script's or notebook's source (and a notebook's HTML report) in the current instance."""

    save_source(file)


@click.command()
@click.argument("uid")
@click.option("--force", is_flag=True, help="Overwrite a file of the same name.")
def load(uid: str, force: bool) -> None:
    """Write the source of transform UID (a stem uid gives the latest version) to the working folder."""

    load_source(uid, ".", force=force)
