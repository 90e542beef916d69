"""Records created during a run with a project (`ln.track(project="...")`) join that project."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def link_to_current_project(records: Sequence[Any]) -> None:
    """Link new records of one registry to the run's project; call inside their write transaction."""
    from lamella._instance import state
    from lamella._query.relations import ManyToMany
    from lamella._tracking.context import current_project
    from lamella._tracking.inputs import insert_links

    if not records:
        return
    project = current_project()
    model = type(records[0])
    relation = getattr(model, "_relations", {}).get("projects")
    if project is None or not isinstance(relation, ManyToMany) or model.__name__ == "Project":
        return
    pairs = [(r.id, project.id) for r in records if r.__dict__.get("id") is not None]
    table = relation.link_model.__tablename__
    insert_links(state.current(), table, (relation.self_key, relation.target_key), pairs)
