"""The conditions and the order of `QuerySet.search()`, written in the shape the search indexes serve.

A record matches when one of the searched fields holds every word of the text (`lower(field) LIKE
'%word%'` for each word; the whole text as a substring implies that, so it needs no condition of its
own). It ranks by how the best field matches: the whole text exactly, as a prefix, as a substring, or
only word by word; among equals the latest version first, then the shortest first field, then id.

Indexes (`_instance/search_index.py`): on PostgreSQL, `lower(field) LIKE` is the expression of the
pg_trgm GIN indexes, so the planner serves it from them as written (and scans where pg_trgm is
missing); a word whose trigrams are partly in most rows is looked up by its rarer parts and checked
whole (`trigram_stats.py`). On SQLite an FTS5 trigram table first narrows the rows to those holding
every word of at least 3 characters in one field; the same LIKE then decides, so the results are
those of a scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, case, column, func, literal_column, or_, select, table

from lamella._instance import search_index
from lamella._query import trigram_stats
from lamella._query.compiler import escape_like

if TYPE_CHECKING:
    from lamella._instance.database import Database
    from lamella._instance.state import Instance


def search_clauses(
    model: Any, fields: list[str], query: str, words: list[str], instance: Instance
) -> tuple[Any, list[Any]]:
    """(the WHERE condition, the ORDER BY) of a search for `query` (lowercased) and its `words`."""
    table_columns = model.__table__.c
    columns = [table_columns[f] for f in fields]
    indexed = instance.search_index == search_index.TRIGRAM  # read on every dialect: if not, it says so
    postgres = instance.db if indexed and instance.db.dialect == "postgresql" else None
    # the WHERE compares lower(field), exactly the indexed expression; NULL matches no LIKE
    matches = or_(
        *(
            and_(*(_word_in(func.lower(c), w, postgres, model, f) for w in words))
            for c, f in zip(columns, fields, strict=True)
        )
    )
    narrowed = None
    if indexed and instance.db.dialect == "sqlite":
        narrowed = _fts_candidates(model, fields, words)
    condition = matches if narrowed is None else and_(narrowed, matches)

    lowered = [func.lower(func.coalesce(c, "")) for c in columns]
    exact = or_(*(c == query for c in lowered))
    prefix = or_(*(c.like(escape_like(query) + "%", escape="\\") for c in lowered))
    substring = or_(*(_contains(c, query) for c in lowered))
    score = case((exact, 0), (prefix, 1), (substring, 2), else_=3)
    # among equally good matches, a versioned record's latest version comes before its older ones
    latest = [table_columns.is_latest.desc()] if "is_latest" in table_columns else []
    order = [score.asc(), *latest, func.length(func.coalesce(columns[0], "")).asc(), table_columns.id.asc()]
    return condition, order


def _contains(expression: Any, word: str) -> Any:
    return expression.like("%" + escape_like(word) + "%", escape="\\")


def _word_in(lowered: Any, word: str, postgres: Database | None, model: Any, field: str) -> Any:
    """`lower(field)` holds `word`. On PostgreSQL, where some trigrams of the word are in most rows,
    the index looks up its rarer parts and `strpos` checks the word (`trigram_stats.py`)."""
    parts = (
        None if postgres is None else trigram_stats.rare_parts(postgres, model.__table__.name, field, word)
    )
    if parts is None:
        return _contains(lowered, word)
    return and_(*(_contains(lowered, part) for part in parts), func.strpos(lowered, word) > 0)


def _fts_candidates(model: Any, fields: list[str], words: list[str]) -> Any | None:
    """SQLite: `id IN (rows of the FTS5 table matching the words)`, or None where the index cannot
    help (a table without one, a field it does not hold, only words shorter than 3 characters)."""
    name = model.__table__.name
    indexed = search_index.SEARCH_FIELDS.get(name, ())
    if not indexed or not set(fields) <= set(indexed):
        return None
    expression = search_index.fts_query(fields, words)
    if expression is None:
        return None
    fts = table(search_index.fts_table(name), column("rowid"))
    match = literal_column(search_index.fts_table(name)).op("MATCH")(bindparam(None, expression, unique=True))
    return model.__table__.c.id.in_(select(fts.c.rowid).where(match))
