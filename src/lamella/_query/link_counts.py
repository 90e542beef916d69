"""`count()` of records filtered only through their links, answered from the links' indexes.

`Artifact.filter(ulabels__name="x").count()` compiles to `artifact.id IN (SELECT artifact_id FROM
artifact_ulabel WHERE ...)` plus the default filters on the artifact (branch, kind). Counting that
costs one artifact lookup per matching link: seconds for a feature range over ten million artifacts.
Link tables that copy their owner's branch (`models/core/owner_branch.py`; the table's `info` names
the column) answer the default filters themselves, so the count becomes
`SELECT count(DISTINCT artifact_id) FROM artifact_ulabel WHERE ... AND owner_branch_id = 1`: one
range of one index. Several such conditions intersect their owners. Any other condition, or a
query that sets its own branch or kind, keeps the plain count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, intersect, select

from lamella._query.link_conditions import flatten, link_condition

# the key under which a link table's `info` names its copy of the owner's branch
OWNER_BRANCH_INFO = "owner_branch_column"


def count_through_links(id_column: Any, where: list[Any], branches: tuple[int, ...]) -> Select[Any] | None:
    """The count of owners (whose id is `id_column`) meeting `where` in `branches`, from links alone.

    None when some condition is not `id IN (a link table that copies the branch)`.
    """
    conditions = flatten(where)
    if not conditions:
        return None
    owners = []
    for condition in conditions:
        found = _scoped_link_select(id_column, condition, branches)
        if found is None:
            return None
        owners.append(found)
    if len(owners) == 1:
        # count(DISTINCT): an owner may hold a label under two features; PostgreSQL sorts the ids,
        # which is twice as fast as hashing them in a DISTINCT subquery
        (owner,) = owners[0].selected_columns
        return owners[0].with_only_columns(func.count(owner.distinct()))
    return select(func.count()).select_from(intersect(*owners).subquery())


def _scoped_link_select(id_column: Any, condition: Any, branches: tuple[int, ...]) -> Select[Any] | None:
    found = link_condition(id_column, condition)
    column = None if found is None else found.link.info.get(OWNER_BRANCH_INFO)
    if found is None or column is None:
        return None
    branch = found.link.c[column]
    return found.subquery.where(branch == branches[0] if len(branches) == 1 else branch.in_(branches))
