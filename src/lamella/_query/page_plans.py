"""Pages of a filter through links: walk the order's index when the filter is broad, read the
matches first when it is narrow.

`filter(temperature__gt=20).order_by("-created_at")[:50]` compiles to `artifact.id IN (SELECT
artifact_id FROM artifact_featurevalue WHERE ...)`. SQLite runs such a subquery first and, when it
matches 730,000 of a million artifacts, reads and sorts every match (1.8 s) where walking the
`created_at` index and checking each artifact would stop after about 70. SQLite has no statistics
for the subquery to choose by, so a page asks: the first `BROAD` ids of the subquery are one index
range (a millisecond). When there are that many, the condition becomes a correlated EXISTS on the
link's owner-first index (the link's other columns behind a unary `+`, so SQLite takes that index
rather than the one the subquery ranges), checked row by row along the order; a narrow filter keeps
the IN, whose few ids are fastest read first.

PostgreSQL errs the other way: for 2,600 matches of a million it walks `created_at` backward with
a lookup per row (340 ms: the matches sit far apart), where reading them first and sorting 2,600
takes 18 ms. There a narrow filter becomes `id = ANY((SELECT array_agg(owner) ...))`, which
PostgreSQL evaluates once, before the walk it would otherwise choose; a broad one is left to it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, BigInteger, any_, cast, exists, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import ColumnClause, UnaryExpression

from lamella._query.link_conditions import LinkCondition, flatten, link_condition

# matches from which walking the order beats reading the matches: reading 10,000 ids and sorting
# them costs ~25 ms on SQLite; walking a table where at least 1 % of the rows match stops within
# ~5,000 rows of a million
BROAD = 10_000


def steer(session: Session, id_column: Any, conditions: list[Any]) -> list[Any]:
    """`conditions` of a page: on SQLite broad link filters checked row by row (a correlated EXISTS),
    on PostgreSQL narrow ones read first (an array of their ids)."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return conditions
    steered = []
    for condition in flatten(conditions):
        found = link_condition(id_column, condition)
        if found is not None:
            broad = _is_broad(session, found)
            if dialect == "sqlite" and broad:
                condition = _checked_per_row(found, id_column)
            elif dialect == "postgresql" and not broad:
                condition = _read_first(found, id_column)
        steered.append(condition)
    return steered


def _is_broad(session: Session, found: LinkCondition) -> bool:
    first = found.subquery.limit(BROAD).subquery()
    return int(session.execute(select(func.count()).select_from(first)).scalar_one()) >= BROAD


def _read_first(found: LinkCondition, id_column: Any) -> Any:
    ids = found.subquery.with_only_columns(func.array_agg(found.owner)).scalar_subquery()
    return id_column == any_(cast(ids, ARRAY(BigInteger)))


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
