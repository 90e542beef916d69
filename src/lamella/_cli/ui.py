"""`lamella ui`."""

from __future__ import annotations

import click

from lamella._instance import config as cfg
from lamella._ui import DEFAULT_HOST, DEFAULT_PORT, serve
from lamella.errors import NotConnected


@click.command()
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="The port to serve on.")
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="The address to serve on; another than 127.0.0.1 lets other machines read the instance.",
)
@click.option("--instance", default=None, help="The instance to show (default: the current one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the UI in a browser tab.")
def ui(port: int, host: str, instance: str | None, open_browser: bool) -> None:
    """Browse the current instance in a web browser (read-only, on this machine)."""

    name = instance or cfg.current_instance_name()
    if name is None:
        raise NotConnected(
            "no current instance: create one with `lamella init --storage ./data`, or pass --instance"
        )
    try:
        serve(host=host, port=port, instance=name, open_browser=open_browser)
    except KeyboardInterrupt:
        pass
