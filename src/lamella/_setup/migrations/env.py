"""Alembic environment for Lamella's schema; `lamella migrate` runs it with a live connection."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from lamella._setup.schema import is_core_object
from lamella.models import all_tables

config = context.config
target_metadata = all_tables()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_object=is_core_object,  # modules (bionty) create their own tables
        # one transaction per revision: a revision may leave its transaction for an autocommit block
        # (0006 builds PostgreSQL's indexes CONCURRENTLY), which commits the revisions before it
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations()
