"""Entry point of `lamella`: the command group and the one place errors become exit codes."""

from __future__ import annotations

import sys
from typing import Any

import click

from lamella._cli import check, instance_info, instance_lifecycle, transform_source, user
from lamella.errors import LamellaError

# exit codes: 1 a Lamella error the user can fix, 2 a usage error (click's default), 130 interrupted
EXIT_LAMELLA_ERROR = 1
EXIT_INTERRUPTED = 130


class LamellaGroup(click.Group):
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


for command in (
    instance_lifecycle.init,
    instance_lifecycle.connect,
    instance_lifecycle.disconnect,
    instance_lifecycle.delete,
    instance_lifecycle.migrate,
    check.check,
    instance_info.info,
    instance_info.list_,
    user.login,
    transform_source.save,
    transform_source.load,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="lamella")


if __name__ == "__main__":
    main()
