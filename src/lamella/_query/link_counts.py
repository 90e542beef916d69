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

from sqlalchemy import Select, Table, func, intersect, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList

# the key under which a link table's `info` names its copy of the owner's branch
OWNER_BRANCH_INFO = "owner_branch_column"


def count_through_links(id_column: Any, where: list[Any], branches: tuple[int, ...]) -> Select[Any] | None:
    """The count of owners (whose id is `id_column`) meeting `where` in `branches`, from links alone.

    None when some condition is not `id IN (a link table that copies the branch)`.
    """
    conditions = _flatten(where)
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


def _flatten(where: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for condition in where:
        if isinstance(condition, BooleanClauseList) and condition.operator is operators.and_:
            flat.extend(_flatten(list(condition.clauses)))
        else:
            flat.append(condition)
    return flat


def _scoped_link_select(id_column: Any, condition: Any, branches: tuple[int, ...]) -> Select[Any] | None:
    if not (
        isinstance(condition, BinaryExpression)
        and condition.operator is operators.in_op
        and isinstance(getattr(condition.left, "table", None), Table)
        and condition.left.shares_lineage(id_column)
    ):
        return None
    subquery = getattr(condition.right, "element", None)
    if not isinstance(subquery, Select):
        return None
    froms = subquery.get_final_froms()
    selected = list(subquery.selected_columns)
    if len(froms) != 1 or not isinstance(froms[0], Table) or len(selected) != 1:
        return None
    link, owner = froms[0], selected[0]
    column = link.info.get(OWNER_BRANCH_INFO)
    owner_fks = getattr(owner, "foreign_keys", ())
    if column is None or not any(fk.column.shares_lineage(id_column) for fk in owner_fks):
        return None
    branch = link.c[column]
    return subquery.where(branch == branches[0] if len(branches) == 1 else branch.in_(branches))
