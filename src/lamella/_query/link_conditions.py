"""Recognizing `owner.id IN (SELECT link.owner_id FROM link WHERE ...)`, the shape the lookup compiler
gives every filter through a link table (labels, feature values, relations), so that counts
(`link_counts.py`) and pages (`page_plans.py`) can answer such filters in a better shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList


@dataclass(frozen=True)
class LinkCondition:
    subquery: Select[Any]  # SELECT link.owner_id FROM link WHERE ...
    link: Table
    owner: Any  # the link's column of the owner's id


def flatten(where: list[Any]) -> list[Any]:
    """The conditions ANDed in `where`, nested ANDs opened."""
    flat: list[Any] = []
    for condition in where:
        if isinstance(condition, BooleanClauseList) and condition.operator is operators.and_:
            flat.extend(flatten(list(condition.clauses)))
        else:
            flat.append(condition)
    return flat


def link_condition(id_column: Any, condition: Any) -> LinkCondition | None:
    """`condition` as a filter of owners (ids `id_column`) through one link table, or None."""
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
    owner = selected[0]
    if not any(fk.column.shares_lineage(id_column) for fk in getattr(owner, "foreign_keys", ())):
        return None
    return LinkCondition(subquery, froms[0], owner)
