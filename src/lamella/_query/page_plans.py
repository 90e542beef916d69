"""Pages of a broad filter through links, on SQLite: walk the order's index and check each row.

`filter(temperature__gt=20).order_by("-created_at")[:50]` compiles to `artifact.id IN (SELECT
artifact_id FROM artifact_featurevalue WHERE ...)`. SQLite runs such a subquery first and, when it
matches 730,000 of a million artifacts, reads and sorts every match (1.8 s) where walking the
`created_at` index and checking each artifact would stop after about 70. SQLite has no statistics
for the subquery to choose by, so a page asks: the first `BROAD` ids of the subquery are one index
range (a millisecond). When there are that many, the condition becomes a correlated EXISTS on the
link's owner-first index (the link's other columns behind a unary `+`, so SQLite takes that index
rather than the one the subquery ranges), checked row by row along the order; a narrow filter keeps
the IN, whose few ids are fastest read first. PostgreSQL plans this from its statistics.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import ColumnClause, UnaryExpression

from lamella._query.link_conditions import LinkCondition, flatten, link_condition

# matches from which walking the order beats reading the matches: reading 10,000 ids and sorting
# them costs ~25 ms on SQLite; walking a table where at least 1 % of the rows match stops within
# ~5,000 rows of a million
BROAD = 10_000


def steer(session: Session, id_column: Any, conditions: list[Any]) -> list[Any]:
    """`conditions` of a page, with broad link filters as correlated EXISTS (SQLite only)."""
    if session.get_bind().dialect.name != "sqlite":
        return conditions
    steered = []
    for condition in flatten(conditions):
        found = link_condition(id_column, condition)
        if found is not None and _is_broad(session, found):
            condition = _checked_per_row(found, id_column)
        steered.append(condition)
    return steered


def _is_broad(session: Session, found: LinkCondition) -> bool:
    first = found.subquery.limit(BROAD).subquery()
    return int(session.execute(select(func.count()).select_from(first)).scalar_one()) >= BROAD


def _checked_per_row(found: LinkCondition, id_column: Any) -> Any:
    owner_key = found.owner.key

    def behind_plus(element: Any, **_: Any) -> Any:
        # `+column` keeps SQLite from ranging an index on the column: it looks the owner up instead
        if isinstance(element, ColumnClause) and element.table is found.link and element.key != owner_key:
            return UnaryExpression(element, operator=operators.custom_op("+"), type_=element.type)
        return None

    where = found.subquery.whereclause
    checks = [] if where is None else [visitors.replacement_traverse(where, {}, behind_plus)]
    return exists(select(literal(1)).select_from(found.link).where(found.owner == id_column, *checks))
