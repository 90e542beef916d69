"""Run inputs: artifacts a run read, linked without slowing the reading down.

Each artifact is linked once per run (a set remembers what this process linked) with one
`INSERT ... ON CONFLICT DO NOTHING`, so reading the same artifact again costs nothing and another
process linking it concurrently cannot fail the read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lamella._logging import logger

if TYPE_CHECKING:
    from lamella.models import Artifact

_linked: dict[tuple[str, int], set[int]] = {}  # (instance uid, run id) -> artifact ids linked


def link_input(artifact: Artifact, is_run_input: bool | None) -> None:
    from lamella._instance import state
    from lamella._instance.settings import settings
    from lamella._tracking.context import current_run
    from lamella.models.artifact import INTERNAL_KIND_PREFIX

    if is_run_input is False:
        return
    run = current_run()
    if run is None:
        if is_run_input:
            logger.warning("is_run_input=True but no run is active: call ln.track() first")
        return
    if is_run_input is None and not settings.track_run_inputs:
        return
    if (artifact.kind or "").startswith(INTERNAL_KIND_PREFIX) or artifact.run_id == run.id:
        return  # reports/environments, and what the run made itself, are not inputs
    instance = state.current()
    seen = _linked.setdefault((instance.config.uid, run.id), set())
    if artifact.id in seen:
        return
    insert_links(instance, "run_input_artifact", ("run_id", "artifact_id"), [(run.id, artifact.id)])
    seen.add(artifact.id)


def insert_links(
    instance: object, table: str, columns: tuple[str, str], pairs: list[tuple[int, int]]
) -> None:
    """Insert link rows, skipping ones that exist (unique constraint), in one executemany."""
    from lamella._instance.state import Instance
    from lamella.models._base import utcnow

    assert isinstance(instance, Instance)
    if not pairs:
        return
    sqlite = instance.db.dialect == "sqlite"
    marker = "?" if sqlite else "%s"
    verb = "INSERT OR IGNORE" if sqlite else "INSERT"
    tail = "" if sqlite else " ON CONFLICT DO NOTHING"
    first, second = columns
    sql = f'{verb} INTO "{table}" ({first}, {second}, created_at) VALUES ({marker}, {marker}, {marker}){tail}'
    now = utcnow()
    # one statement is atomic on its own: outside a write transaction it runs in autocommit, which
    # keeps linking 1,000 inputs to a run well under a second
    connection = instance.db.session().connection()
    if sqlite:  # the format SQLAlchemy's DateTime writes on SQLite (UTC, no offset)
        stamp = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.executemany(sql, [(a, b, stamp) for a, b in pairs])
    else:
        connection.exec_driver_sql(sql, [(a, b, now) for a, b in pairs])
