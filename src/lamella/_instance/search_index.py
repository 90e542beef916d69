"""The indexes behind `QuerySet.search()`: which fields of which tables, and their DDL on both dialects.

`search("sample123")` matches substrings (`lower(field) LIKE '%sample123%'`), which no B-tree serves;
at millions of rows a scan takes seconds. Each searched table gets a trigram index over its search
fields (the registries' `_search_fields`):

- PostgreSQL: a GIN index per field on `lower(field)` with `gin_trgm_ops` (extension pg_trgm). It
  serves `lower(field) LIKE '%word%'` as written, so the search query keeps that exact shape.
- SQLite: an FTS5 table `<table>_fts` with the trigram tokenizer (SQLite >= 3.34), an external-content
  index over the fields kept in step by triggers on insert, update of a field, and delete. The search
  asks it for candidate rows (`MATCH`) and checks them with the same LIKE as before, so the results
  are exactly those of the scan.

Where the index cannot be made (pg_trgm not installed or not allowed; SQLite without FTS5 trigram) the
instance records `search_index = scan` in `instance_setting` and search scans; `lamella migrate`
tries again. Standard library only: the SQLite snapshot build (`_setup/sqlite_snapshot.py`) runs this
DDL without SQLAlchemy.
"""

from __future__ import annotations

import functools
import sqlite3

# the instance setting (a row of `instance_setting`) that says whether the indexes exist
SEARCH_INDEX_SETTING = "search_index"
TRIGRAM = "trigram"  # they exist: pg_trgm GIN indexes, or FTS5 trigram tables
SCAN = "scan"  # they could not be made: search scans the tables

# The search fields of every core registry (`_search_fields`, as columns of its table); a unit test
# keeps this equal to the models. Static here because a new SQLite instance is built without
# importing the registries. Modules' tables (bionty) have no search index yet.
SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "user": ("handle", "name"),
    "storage": ("root", "description"),
    "space": ("name", "description"),
    "branch": ("name", "description"),
    "feature": ("name", "description"),
    "transform": ("key", "description"),
    "run": ("name", "uid"),
    "artifact": ("key", "description"),
    "collection": ("key", "description"),
    "ulabel": ("name", "description"),
    "record": ("name", "description"),
    "project": ("name", "description"),
    "reference": ("name", "description"),
    "schema": ("name", "description"),
}

# fewer characters hold no trigram: such a word cannot be looked up in the index
MIN_INDEXED_LENGTH = 3

PG_EXTENSION = "pg_trgm"
PG_STATISTICS = 1000  # values in the statistics of each indexed expression (see pg_index_statements)
PG_FIX = (
    "ask a superuser of the PostgreSQL server to run `CREATE EXTENSION pg_trgm;` in the instance's "
    "database (or install PostgreSQL's contrib package), then run `lamella migrate`"
)
SQLITE_FIX = "use a Python whose sqlite3 module has SQLite >= 3.34 with FTS5, then run `lamella migrate`"


def scan_message(dialect: str, reason: str) -> str:
    """The warning that search scans whole tables on this instance, with the fix."""
    fix = PG_FIX if dialect == "postgresql" else SQLITE_FIX
    return f"search scans whole tables on this instance, slow at millions of records: {reason}; to index it, {fix}"


def fts_table(table: str) -> str:
    """The FTS5 table that indexes `table` on SQLite."""
    return f"{table}_fts"


def is_search_object(name: str) -> bool:
    """Whether a table, trigger or index name belongs to a search index (the FTS5 tables, their
    shadow tables and triggers; the trigram indexes): no model describes them, so schema comparisons
    and the SQLite snapshot leave them out."""
    return name in _PG_INDEX_NAMES or any(
        name == fts_table(t) or name.startswith(fts_table(t) + "_") for t in SEARCH_FIELDS
    )


def pg_index_name(table: str, field: str) -> str:
    return f"ix_{table}_{field}_trgm"


def pg_index_names() -> list[str]:
    return [pg_index_name(t, f) for t, fields in SEARCH_FIELDS.items() for f in fields]


_PG_INDEX_NAMES = frozenset(pg_index_names())


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pg_index_statements(opclass_schema: str, *, concurrently: bool = False) -> list[str]:
    """`CREATE INDEX` of every trigram index; `opclass_schema` is where pg_trgm is installed.

    Each index's expression gets statistics of 1,000 values instead of 100: with 100, PostgreSQL
    estimates any `LIKE '%word%'` to match at least 1% of the rows (100,000 of 10 million), which makes
    it plan a parallel scan whose start costs more than the search; and the search reads the values
    to tell common trigrams (`_query/trigram_stats.py`). ANALYZE of a table samples 10x more rows.
    """
    how = "CONCURRENTLY " if concurrently else ""
    opclass = f"{_quoted(opclass_schema)}.gin_trgm_ops"
    statements = []
    for table, fields in SEARCH_FIELDS.items():
        for field in fields:
            name = pg_index_name(table, field)
            statements.append(
                f"CREATE INDEX {how}IF NOT EXISTS {name} ON {_quoted(table)} "
                f"USING gin (lower({_quoted(field)}) {opclass})"
            )
            statements.append(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS {PG_STATISTICS}")
    return statements


def sqlite_statements(table: str, fields: tuple[str, ...]) -> list[str]:
    """The FTS5 table over `fields` of `table` and the triggers that keep it in step.

    External content: the FTS table stores only the index and reads the text from `table`, so every
    change must reach it with the old values ('delete') and the new ones. An update fires only when a
    statement sets a search field (the ORM sets only changed columns), so saving other fields costs
    nothing here. `columnsize=0`: no per-row sizes, which only ranking functions (bm25) read.
    """
    fts = fts_table(table)
    columns = ", ".join(_quoted(f) for f in fields)
    new = ", ".join(f"new.{_quoted(f)}" for f in fields)
    old = ", ".join(f"old.{_quoted(f)}" for f in fields)
    insert = f"INSERT INTO {fts} (rowid, {columns}) VALUES (new.id, {new});"
    delete = f"INSERT INTO {fts} ({fts}, rowid, {columns}) VALUES ('delete', old.id, {old});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({columns}, content={_quoted(table)}, content_rowid='id', "
        "tokenize='trigram', columnsize=0)",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {_quoted(table)} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {_quoted(table)} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {columns} ON {_quoted(table)} "
        f"BEGIN {delete} {insert} END",
    ]


def sqlite_rebuild(table: str) -> list[str]:
    """Fill the FTS table of `table` from the rows it has (a migration of an existing instance), and
    merge what that wrote into one segment: left unmerged, FTS5 would merge it during later writes."""
    fts = fts_table(table)
    return [f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')", f"INSERT INTO {fts} ({fts}) VALUES ('optimize')"]


def sqlite_drop_statements(table: str) -> list[str]:
    fts = fts_table(table)
    return [f"DROP TRIGGER IF EXISTS {fts}_{event}" for event in ("insert", "delete", "update")] + [
        f"DROP TABLE IF EXISTS {fts}"
    ]


@functools.cache
def sqlite_has_trigram() -> bool:
    """Whether this process's SQLite has FTS5 with the trigram tokenizer (3.34+, FTS5 compiled in)."""
    if sqlite3.sqlite_version_info < (3, 34, 0):
        return False
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE VIRTUAL TABLE probe USING fts5(a, tokenize='trigram')")
        return True
    except sqlite3.OperationalError:  # "no such module: fts5" or "no such tokenizer"
        return False
    finally:
        connection.close()


def fts_query(fields: list[str], words: list[str]) -> str | None:
    """The FTS5 query for rows where one of `fields` holds every word of at least 3 characters; None
    when no word is that long (the index cannot narrow the search: scan).

    Each word is a phrase (quoted, `"` doubled), which with the trigram tokenizer matches the word as
    a substring, case-insensitively. Shorter words are left to the LIKE that checks each candidate.
    """
    indexed = [w for w in words if len(w) >= MIN_INDEXED_LENGTH]
    if not indexed:
        return None
    phrases = " AND ".join('"' + w.replace('"', '""') + '"' for w in indexed)
    return " OR ".join(f"({{{field}}} : ({phrases}))" for field in fields)
