"""Alembic environment of the bionty module: its tables only, versioned in their own table."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine

import lamella.bionty  # noqa: F401  (declares the module's tables)
from lamella.bionty.migrations import VERSION_TABLE
from lamella.models import Base

config = context.config


def _bionty_only(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return (table or "").startswith("bionty_")


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        include_object=_bionty_only,
        version_table=VERSION_TABLE,
        transaction_per_migration=True,  # as the core migrations: a revision may build indexes concurrently
    )


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
        connection = engine.connect()
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
