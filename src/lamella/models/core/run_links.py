"""What a save or a read links to the current run: its inputs, and the run's project.

The current run and project are process state (`_instance.state`), set by `ln.track()` and
`@ln.tracked()`; the registries read them here without importing the tracking layer.

Each artifact is linked as an input once per run (the process state remembers what this process
linked) with one `INSERT ... ON CONFLICT DO NOTHING`, so reading the same artifact again costs
nothing and another process linking it concurrently cannot fail the read.

An artifact or collection of another instance (`ln.Artifact.using("lab")`) read while a run of the
connected instance goes on is first copied into the connected instance (`record.save()`: the user's
variable becomes the copy), then linked as the run's input, as LaminDB "completes the transfer to
track it as input". Without a run, or with `is_run_input=False`, nothing is copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lamella._instance import state
from lamella._logging import logger
from lamella._query.relations import ManyToMany
from lamella.models.core.columns import utcnow

# kinds of artifacts Lamella writes for itself (run reports, environments): reachable from runs,
# hidden from queries, never run inputs
INTERNAL_KIND_PREFIX = "__lamella"


def link_input(artifact: Any, is_run_input: bool | None) -> None:
    """Link an artifact the current run read (load, cache, open) as one of its inputs."""
    if state.instance_of(artifact) is not None:
        _copy_then_link(artifact, is_run_input, link_input)
        return
    run = _reading_run(is_run_input)
    if run is None:
        return
    if (artifact.kind or "").startswith(INTERNAL_KIND_PREFIX) or artifact.run_id == run.id:
        return  # reports/environments, and what the run made itself, are not inputs
    _link_once(run, "run_input_artifact", "artifact_id", artifact.id)


def link_collection_input(collection: Any, is_run_input: bool | None) -> None:
    """Link a collection the current run read (load, open, mapped, cache) as one of its inputs."""
    if state.instance_of(collection) is not None:
        _copy_then_link(collection, is_run_input, link_collection_input)
        return
    run = _reading_run(is_run_input)
    if run is None or collection.run_id == run.id:
        return
    _link_once(run, "run_input_collection", "collection_id", collection.id)


def _copy_then_link(record: Any, is_run_input: bool | None, link: Any) -> None:
    """A record of another instance read during a run of the connected one: its copy here is the input."""
    with state.reading(None):  # the connected instance's run, not the other instance's (it has none)
        if _reading_run(is_run_input) is None:
            return
        record.save()  # copies it (or finds the copy made before); the variable becomes the copy
        link(record, is_run_input)


def _reading_run(is_run_input: bool | None) -> Any:
    """The run a read is recorded in, or None (no run, or the user said not to record it)."""
    if is_run_input is False:
        return None
    run = state.current_run()
    if run is None:
        if is_run_input:
            logger.warning("is_run_input=True but no run is active: call ln.track() first")
        return None
    if is_run_input is None and not state.process.track_run_inputs:
        return None
    return run


def _link_once(run: Any, table: str, column: str, record_id: int) -> None:
    instance = state.current()
    seen = state.process.linked_inputs.setdefault((instance.config.uid, run.id), set())
    if (table, record_id) in seen:
        return
    insert_links(instance, table, ("run_id", column), [(run.id, record_id)])
    seen.add((table, record_id))


def link_to_current_project(records: Sequence[Any]) -> None:
    """Link new records of one registry to the run's project; call inside their write transaction."""
    if not records:
        return
    project = state.current_project()
    model = type(records[0])
    relation = getattr(model, "_relations", {}).get("projects")
    if project is None or not isinstance(relation, ManyToMany) or model.__name__ == "Project":
        return
    pairs = [(r.id, project.id) for r in records if r.__dict__.get("id") is not None]
    table = relation.link_model.__tablename__
    insert_links(state.current(), table, (relation.self_key, relation.target_key), pairs)


def insert_links(
    instance: state.Instance, table: str, columns: tuple[str, str], pairs: list[tuple[int, int]]
) -> None:
    """Insert link rows, skipping ones that exist (unique constraint), in one executemany."""
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
