"""Entry point of `lamella`: the command group and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from lamella.errors import LamellaError

# exit codes: 1 a Lamella error the user can fix, 2 a usage error (click's default), 130 interrupted
EXIT_LAMELLA_ERROR = 1
EXIT_INTERRUPTED = 130


# name -> (module, function, one-line help). A command's module is imported only when that command
# runs, so `lamella --help`, `info` and `init` never load SQLAlchemy or the registries; a test keeps
# each line here equal to the first line of the command's docstring.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("lamella._cli.instance_init", "init", "Create an instance and make it the current one."),
    "connect": ("lamella._cli.instance_lifecycle", "connect", "Make NAME the current instance."),
    "disconnect": (
        "lamella._cli.instance_lifecycle",
        "disconnect",
        "Leave the current instance (the next use asks for one).",
    ),
    "delete": (
        "lamella._cli.instance_lifecycle",
        "delete",
        "Delete instance NAME's settings and embedded database (stored files are kept).",
    ),
    "migrate": (
        "lamella._cli.instance_lifecycle",
        "migrate",
        "Upgrade the current instance's database schema to this version of Lamella.",
    ),
    "check": (
        "lamella._cli.check",
        "check",
        "Check the database, every stored artifact's bytes, orphaned files and interrupted saves.",
    ),
    "info": ("lamella._cli.instance_info", "info", "Show the current instance and user."),
    "list": (
        "lamella._cli.instance_info",
        "list_",
        "List the instances on this machine; the current one is marked with *.",
    ),
    "login": (
        "lamella._cli.user",
        "login",
        "Set the local user's handle (default: the operating-system user).",
    ),
    "save": (
        "lamella._cli.transform_source",
        "save",
        "Store a script's or notebook's source (and a notebook's HTML report) in the current instance.",
    ),
    "load": (
        "lamella._cli.transform_source",
        "load",
        "Write the source of transform UID (a stem uid gives the latest version) to the working folder.",
    ),
    "ui": (
        "lamella._cli.ui",
        "ui",
        "Browse the current instance in a web browser (read-only, on this machine).",
    ),
}


class LamellaGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, function, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), function)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_line) for name, (_, _, help_line) in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> Any:

        try:
            return super().invoke(ctx)
        except LamellaError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_LAMELLA_ERROR)
        except FileNotFoundError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_LAMELLA_ERROR)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=LamellaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lamella")
def cli() -> None:
    """Lamella: manage biological data with its lineage and annotations."""


def main() -> None:
    cli(prog_name="lamella")


if __name__ == "__main__":
    main()
