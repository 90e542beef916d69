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
from typing import TYPE_CHECKING

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

# per database: table -> (when read, {field: its sample})
_cache: weakref.WeakKeyDictionary[Database, dict[str, tuple[float, dict[str, Sample]]]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def rare_parts(db: Database, table: str, field: str, word: str) -> list[str] | None:
    """The substrings of `word` the index should look up (the rarest part of each run of letters and
    digits); None when the whole word should be (no statistics, or no trigram common enough to leave
    out, or none uncommon)."""
    sample = _samples(db, table).get(field)
    if not sample or len(word) < search_index.MIN_INDEXED_LENGTH:
        return None
    chosen: list[tuple[float, str]] = []
    for run in _ALNUM_RUN.finditer(word):
        best: tuple[float, str] | None = None
        for part in _uncommon_parts(run.group(), sample):
            selectivity = 1.0
            for i in range(len(part) - 2):
                selectivity *= max(sample.share(part[i : i + 3]), 0.001)
            if best is None or selectivity < best[0]:
                best = (selectivity, part)
        if best is not None:
            chosen.append(best)
    parts = [part for _, part in sorted(chosen)[:MAX_PARTS]]
    if not parts or parts == [word]:
        return None
    return parts


def _uncommon_parts(run: str, sample: Sample) -> list[str]:
    """The longest substrings of `run` (3+ characters) whose trigrams are all uncommon."""
    parts, start = [], None
    for i in range(len(run) - 2):
        if sample.share(run[i : i + 3]) < COMMON:
            start = i if start is None else start
            continue
        if start is not None:
            parts.append(run[start : i + 2])
            start = None
    if start is not None:
        parts.append(run[start:])
    return parts


def _samples(db: Database, table: str) -> dict[str, Sample]:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(db, {}).get(table)
    if cached is not None and now - cached[0] < MAX_AGE_SECONDS:
        return cached[1]
    samples = _read(db, table)
    with _lock:
        _cache.setdefault(db, {})[table] = (now, samples)
    return samples


def _read(db: Database, table: str) -> dict[str, Sample]:
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
    return {fields[row[0]]: _sample(*row[1:]) for row in rows}


class Sample:
    """The values of an expression's statistics, each weighted by the share of rows it stands for
    (a most common value: its frequency; a histogram value: an equal part of the rest, NULLs aside).
    A trigram's share is the weight of the values holding it, computed when first asked for."""

    def __init__(self, values: list[str], weights: list[float]) -> None:
        self.values = values
        self.weights = weights
        self._shares: dict[str, float] = {}

    def share(self, trigram: str) -> float:
        found = self._shares.get(trigram)
        if found is None:
            # a trigram of letters and digits found anywhere in a value lies inside one of its runs
            # of letters and digits, where pg_trgm makes its trigrams: a plain substring test is exact
            found = sum(w for v, w in zip(self.values, self.weights, strict=True) if trigram in v)
            self._shares[trigram] = found
        return found

    def __bool__(self) -> bool:
        return bool(self.values)


def _sample(
    null_frac: float, common: list[str] | None, common_freqs: list[float] | None, histogram: list[str] | None
) -> Sample:
    values = [str(v) for v in common or []]
    weights = [float(f) for f in common_freqs or []][: len(values)]
    if histogram:
        rest = max(0.0, 1.0 - float(null_frac or 0.0) - sum(weights))
        values += [str(v) for v in histogram]
        weights += [rest / len(histogram)] * len(histogram)
    return Sample(values, weights)
