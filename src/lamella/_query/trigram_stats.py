"""Which part of a search word the PostgreSQL trigram index should look up.

A GIN trigram index answers `lower(key) LIKE '%sample123%'` by intersecting the posting lists of the
word's trigrams. When some of them occur in nearly every row ("sam", "amp", "mpl", "ple" of keys like
`project7/sample123.parquet`), the intersection decodes millions of entries: ~150 ms at 10M rows,
while the rarer part `le123` alone is answered in ~15 ms. So the index is asked for the part of the
word made of uncommon trigrams, and the whole word is checked on the rows it returns
(`strpos(lower(key), 'sample123') > 0`, which no index serves, so the planner does not add the common
trigrams back). The results are the same; only the work differs.

How common a trigram is comes from PostgreSQL's own statistics of the indexed expression
(`pg_stats` of the index `ix_<table>_<field>_trgm`: its most common values and histogram, a sample of
~100 values that ANALYZE and autovacuum keep current), read once per table and database every few
minutes. Without statistics (a new or small table) the whole word is looked up, which is fast there.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from lamella._instance import search_index

if TYPE_CHECKING:
    from lamella._instance.database import Database

# a trigram in at least this share of rows filters little and costs much: left to the check
COMMON = 0.3
# at most this many parts of one word go to the index (each one more posting list to intersect)
MAX_PARTS = 3
# statistics read this long ago are read again (autovacuum refreshes them as tables grow)
MAX_AGE_SECONDS = 600.0

_ALNUM_RUN = re.compile(r"[^\W_]{3,}")  # pg_trgm's trigrams lie inside runs of letters and digits

# per database: table -> (when read, {field: {trigram: share of rows}})
_cache: weakref.WeakKeyDictionary[Database, dict[str, tuple[float, dict[str, dict[str, float]]]]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def rare_parts(db: Database, table: str, field: str, word: str) -> list[str] | None:
    """The substrings of `word` the index should look up (the rarest part of each run of letters and
    digits); None when the whole word should be (no statistics, or no trigram common enough to leave
    out, or none uncommon)."""
    shares = _shares(db, table).get(field)
    if not shares or len(word) < search_index.MIN_INDEXED_LENGTH:
        return None
    chosen: list[tuple[float, str]] = []
    for run in _ALNUM_RUN.finditer(word):
        best: tuple[float, str] | None = None
        for part in _uncommon_parts(run.group(), shares):
            selectivity = 1.0
            for i in range(len(part) - 2):
                selectivity *= max(shares.get(part[i : i + 3], 0.0), 0.001)
            if best is None or selectivity < best[0]:
                best = (selectivity, part)
        if best is not None:
            chosen.append(best)
    parts = [part for _, part in sorted(chosen)[:MAX_PARTS]]
    if not parts or parts == [word]:
        return None
    return parts


def _uncommon_parts(run: str, shares: dict[str, float]) -> list[str]:
    """The longest substrings of `run` (3+ characters) whose trigrams are all uncommon."""
    parts, start = [], None
    for i in range(len(run) - 2):
        if shares.get(run[i : i + 3], 0.0) < COMMON:
            start = i if start is None else start
            continue
        if start is not None:
            parts.append(run[start : i + 2])
            start = None
    if start is not None:
        parts.append(run[start:])
    return parts


def _shares(db: Database, table: str) -> dict[str, dict[str, float]]:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(db, {}).get(table)
    if cached is not None and now - cached[0] < MAX_AGE_SECONDS:
        return cached[1]
    shares = _read(db, table)
    with _lock:
        _cache.setdefault(db, {})[table] = (now, shares)
    return shares


def _read(db: Database, table: str) -> dict[str, dict[str, float]]:
    fields = {search_index.pg_index_name(table, f): f for f in search_index.SEARCH_FIELDS.get(table, ())}
    if not fields:
        return {}
    rows = (
        db.session()
        .execute(
            text(
                "SELECT tablename, null_frac, most_common_vals::text::text[], most_common_freqs, "
                "histogram_bounds::text::text[] FROM pg_stats "
                "WHERE schemaname = current_schema() AND tablename = ANY(:names)"
            ),
            {"names": list(fields)},
        )
        .all()
    )
    return {fields[row[0]]: _trigram_shares(*row[1:]) for row in rows}


def _trigram_shares(
    null_frac: float, common: list[str] | None, common_freqs: list[float] | None, histogram: list[str] | None
) -> dict[str, float]:
    """The share of all rows holding each trigram, estimated from the expression's statistics: the
    most common values with their frequencies, and the histogram's values standing for the rest."""
    shares: dict[str, float] = {}
    for value, frequency in zip(common or [], common_freqs or [], strict=False):
        for trigram in _trigrams(value):
            shares[trigram] = shares.get(trigram, 0.0) + float(frequency)
    histogram = histogram or []
    if histogram:
        rest = max(0.0, 1.0 - float(null_frac or 0.0) - sum(float(f) for f in common_freqs or []))
        for value in histogram:
            for trigram in _trigrams(value):
                shares[trigram] = shares.get(trigram, 0.0) + rest / len(histogram)
    return shares


def _trigrams(value: Any) -> set[str]:
    found: set[str] = set()
    for run in _ALNUM_RUN.finditer(str(value)):
        word = run.group()
        found.update(word[i : i + 3] for i in range(len(word) - 2))
    return found
