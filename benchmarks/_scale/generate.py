"""Fill an instance with N artifacts by SQL, in the shape of the rows the API saved (the template).

The seed (`seed.py`, through the API) saved the features, the labels and one artifact family of two
versions: those rows are the template. Every generated row copies the template's value in each
column the generator does not vary, so the rows look like API rows column by column. The column
lists come from the SQLAlchemy metadata (`lamella.models.all_tables()`), never from a list written
here: a column a colleague adds is filled (copied from the template when the generator does not
know it, with a warning naming it), and a column the metadata has but the instance lacks is reported.

The data is the same on SQLite and PostgreSQL: uids, hashes and timestamps are functions of the row
number (md5-based on PostgreSQL, the same functions in Python registered on SQLite), and the
"random" choices (temperature, label) are multiplicative hashes of the row number, in integer SQL.

Layout of the `gen = N - 2` generated rows (r = 0 .. gen-1; the template family comes on top):
- rows r < F are version 0 of family f = r (key `project{f % 100}/sample{f}.parquet`);
- rows r >= F are version 1 of family f = 20 * (r - F): 5 % of the families have two versions,
  the older with is_latest=false and updated_at = the newer's created_at;
- uid = 16-character stem of the family + 4-character version suffix (`0000`, `0001`);
- created_at increases by one second (plus a few microseconds) per row, ending before the template;
- every artifact links to one `temperature` FeatureValue: 15.000 .. 33.749 in steps of 0.001 (18,750
  distinct values, one FeatureValue row each), so (20, 20.5) matches 499/18750 = 2.66 %;
- 38 % of the artifacts link to one of `labels` ULabels `label_{j}`; half of these links (chosen by
  hash) carry the id of the cat[ULabel] feature `category` (as `artifact.features.add_values`
  writes), the other half feature_id NULL (as `artifact.ulabels.add` writes).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MULT_A = 2654435761  # multiplicative hashes of the row number (fit in 64 bits up to 10^9 rows)
MULT_B = 2246822519
TWO32 = 4294967296
TEMP_LOW, TEMP_STEP, TEMP_STEPS = 15.0, 0.001, 18_750  # [15, 33.75)
LABEL_PERCENT = 38
VERSIONED_EVERY = 20  # one family in 20 has two versions

SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite

# columns the API fills with the same value on every row of a bench run: copied from the template
# without a warning. Any other column the generator does not vary is copied too, with a warning.
EXPECTED_CONSTANT = {
    "artifact": {
        "description",
        "storage_id",
        "suffix",
        "kind",
        "otype",
        "n_files",
        "n_observations",
        "transform_id",
        "schema_id",
        "_key_is_virtual",
        "_hash_type",
        "version_tag",
        "run_id",
        "created_by_id",
        "branch_id",
        "space_id",
    },
    "featurevalue": {"run_id", "created_by_id"},
    # every generated artifact is on the main branch, as the template is (the triggers fill it anyway)
    "artifact_featurevalue": {"owner_branch_id"},
    "artifact_ulabel": {"owner_branch_id"},
}
TMAP, LMAP = "_bench_scale_tmap", "_bench_scale_lmap"  # scratch tables, dropped after the load


@dataclass
class Layout:
    n: int  # artifact rows in total, the template's two included
    labels: int

    def __post_init__(self) -> None:
        if self.n < 100:
            raise SystemExit("--rows must be at least 100")
        gen = self.n - 2
        families = gen * VERSIONED_EVERY // (VERSIONED_EVERY + 1)
        while gen - families > (families + VERSIONED_EVERY - 1) // VERSIONED_EVERY:
            families += 1
        self.families = families  # F: version-0 rows
        self.second_versions = gen - families  # X: families 0, 20, 40, ... below 20 * X

    @property
    def generated(self) -> int:
        return self.n - 2

    @property
    def template_family(self) -> int:
        return self.families  # the seed's family: one past the generated ones

    def key(self, family: int) -> str:
        return f"project{family % 100}/sample{family}.parquet"


@dataclass
class Template:
    """The API-saved rows the generated ones copy, read back as the database holds them."""

    artifact: dict[str, Any]
    featurevalue: dict[str, Any]
    artifact_featurevalue: dict[str, Any]
    artifact_ulabel: dict[str, Any]  # the link written by features.add_values (feature_id set)
    temperature_id: int
    category_id: int
    label_ids: dict[str, int]


@dataclass
class Report:
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    expected: dict[str, int] = field(default_factory=dict)
    id_base: int = 0


# --- the same "random" strings in Python (SQLite functions) and in PostgreSQL SQL ----------------


def py_stem(family: int) -> str:
    digest = hashlib.md5(f"s{family}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()[:16].translate(str.maketrans("+/", "Ab"))


def py_hash(row: int) -> str:
    digest = hashlib.md5(f"h{row}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()[:22].translate(str.maketrans("+/", "-_"))


def temperature_of(k: int) -> float:
    return round(TEMP_LOW + k * TEMP_STEP, 3)


class _Dialect:
    """The SQL pieces that differ between PostgreSQL and SQLite."""

    def __init__(self, name: str, t0: datetime) -> None:
        self.name = name
        self.t0 = t0

    def series(self) -> tuple[str, str]:
        """(prefix before INSERT, FROM item) producing column r = :lo .. :hi."""
        if self.name == "postgresql":
            return "", "generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g(r)"
        return "WITH RECURSIVE g(r) AS (SELECT :lo UNION ALL SELECT r + 1 FROM g WHERE r < :hi) ", "g"

    def stem(self, f: str) -> str:
        if self.name == "postgresql":
            return f"translate(substr(encode(decode(md5('s' || {f}), 'hex'), 'base64'), 1, 16), '+/', 'Ab')"
        return f"bench_stem({f})"

    def hash(self, r: str) -> str:
        if self.name == "postgresql":
            return f"translate(substr(encode(decode(md5('h' || {r}), 'hex'), 'base64'), 1, 22), '+/', '-_')"
        return f"bench_hash({r})"

    def ts(self, r: str) -> str:
        """created_at of row r: t0 + r seconds + a few microseconds (strictly increasing)."""
        if self.name == "postgresql":
            return (
                f"(CAST(:t0 AS timestamptz) + ({r}) * interval '1 second'"
                f" + ((({r}) * 7919) % 1000000) * interval '1 microsecond')"
            )
        return f"bench_ts({r})"

    def py_ts(self, r: int) -> str:
        return (self.t0 + timedelta(seconds=r, microseconds=(r * 7919) % 1_000_000)).strftime(SQLITE_TS)

    def value_param(self) -> str:
        return "CAST(:value AS jsonb)" if self.name == "postgresql" else ":value"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _plan_columns(
    table: Any, template_row: dict[str, Any], varying: dict[str, str], report: Report
) -> tuple[list[str], list[str], dict[str, Any]]:
    """(columns, SQL expressions, constant parameters) of an INSERT into `table` (metadata columns).

    A column in `varying` gets its expression; an autoincrement primary key not in `varying` is
    left to the database; any other column copies the template's value (a bound parameter).
    """
    names, exprs, params = [], [], {}
    missing = [c.name for c in table.columns if c.name not in template_row]
    if missing:
        report.warnings.append(
            f"{table.name}: the metadata has column(s) {missing} that the instance's table lacks "
            "(a migration missing from the instance's schema?); they are left out"
        )
    extra = [c for c in template_row if c not in table.columns]
    if extra:
        report.warnings.append(f"{table.name}: the instance has column(s) {extra} the metadata lacks")
    for column in table.columns:
        name = column.name
        if name in missing:
            continue
        if name in varying:
            names.append(name)
            exprs.append(varying[name])
            continue
        if column.primary_key and name == "id":
            continue
        value = template_row[name]
        if name not in EXPECTED_CONSTANT.get(table.name, set()):
            report.warnings.append(
                f"{table.name}.{name}: a column the generator does not know; every row copies the "
                f"template's value {value!r}" + (" (NOT NULL)" if not column.nullable else "")
            )
        param = f"c_{name.lstrip('_')}"
        names.append(name)
        exprs.append(f":{param}")
        params[param] = value
    return names, exprs, params


def _insert_sql(table_name: str, names: list[str], exprs: list[str], body: str, prefix: str = "") -> str:
    cols = ", ".join(_quote(n) for n in names)
    return f"{prefix}INSERT INTO {_quote(table_name)} ({cols}) SELECT {', '.join(exprs)} {body}"


def sqlite_functions(dbapi_connection: Any, t0: datetime) -> None:
    dialect = _Dialect("sqlite", t0)
    dbapi_connection.create_function("bench_stem", 1, py_stem, deterministic=True)
    dbapi_connection.create_function("bench_hash", 1, py_hash, deterministic=True)
    dbapi_connection.create_function("bench_ts", 1, dialect.py_ts, deterministic=True)


def _drop_sqlite_indexes(engine: Any) -> list[tuple[str, str]]:
    """SQLite: drop the explicit indexes of the loaded tables, to create them again after the load
    from their own stored SQL (sqlite_master keeps it verbatim, so they come back exactly as they
    were). Building an index once is far faster than inserting millions of random uids and hashes
    into it row by row. Indexes of UNIQUE table constraints (no SQL of their own) stay and are
    maintained during the load. PostgreSQL keeps every index."""
    tables = ("artifact", "artifact_featurevalue", "artifact_ulabel")
    with engine.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join(repr(t) for t in tables)})"
        ).all()
        for name, _sql in rows:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [(str(name), str(sql)) for name, sql in rows]


def template_t0(template: Template, layout: Layout) -> datetime:
    """The created_at of generated row 0: the generated rows end a minute before the template's."""
    created = template.artifact["created_at"]
    if isinstance(created, str):
        created = datetime.strptime(created, SQLITE_TS)
    return created - timedelta(seconds=layout.generated + 60)


def generate(engine: Any, layout: Layout, template: Template, *, chunk: int) -> Report:
    """Insert the artifacts, feature values and label links; ANALYZE; return timings and warnings."""
    from sqlalchemy import text

    from lamella.models import all_tables
    from lamella.models.features.stores import value_hash

    tables = all_tables().tables
    report = Report()
    dialect = _Dialect(engine.dialect.name, template_t0(template, layout))
    pg = dialect.name == "postgresql"
    F, X = layout.families, layout.second_versions

    with engine.begin() as conn:
        report.id_base = int(conn.execute(text("SELECT max(id) FROM artifact")).scalar() or 0)
    id_base = report.id_base
    dropped = _drop_sqlite_indexes(engine) if not pg else []

    # --- artifacts ------------------------------------------------------------------------------
    prefix, series = dialect.series()
    inner = (
        f"FROM (SELECT r, CASE WHEN r < {F} THEN r ELSE {VERSIONED_EVERY} * (r - {F}) END AS f, "
        f"CASE WHEN r < {F} THEN 0 ELSE 1 END AS v, "
        f"CASE WHEN r < {F} AND r % {VERSIONED_EVERY} = 0 AND r / {VERSIONED_EVERY} < {X} THEN 1 ELSE 0 END"
        f" AS older FROM {series}) AS s"
    )
    suffix = template.artifact["suffix"]
    varying = {
        "id": f"{id_base + 1} + r",
        "uid": f"{dialect.stem('f')} || '000' || v",
        "key": f"'project' || (f % 100) || '/sample' || f || '{suffix}'",
        "hash": dialect.hash("r"),
        "size": f"1000 + ((r * {MULT_A}) % {TWO32}) % 50000000",
        "is_latest": "CASE WHEN older = 0 THEN TRUE ELSE FALSE END",
        "created_at": dialect.ts("r"),
        # an older version was last updated when its newer version was saved (is_latest flipped)
        "updated_at": dialect.ts(f"CASE WHEN older = 1 THEN {F} + r / {VERSIONED_EVERY} ELSE r END"),
    }
    names, exprs, params = _plan_columns(tables["artifact"], template.artifact, varying, report)
    sql = text(_insert_sql("artifact", names, exprs, inner, prefix))
    start = time.perf_counter()
    for lo in range(0, layout.generated, chunk):
        hi = min(layout.generated, lo + chunk) - 1
        t = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(sql, {**params, "lo": lo, "hi": hi, "t0": dialect.t0})
        done = hi + 1
        print(
            f"    artifact rows {done:,}/{layout.generated:,} "
            f"({(hi + 1 - lo) / (time.perf_counter() - t):,.0f} rows/s)",
            flush=True,
        )
    if pg:  # the ids were given explicitly: move the sequence past them
        with engine.begin() as conn:
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('artifact', 'id'), (SELECT max(id) FROM artifact))"
                )
            )
    report.seconds["artifact"] = time.perf_counter() - start

    # --- feature values: one row per distinct temperature, then the scratch map k -> row --------
    start = time.perf_counter()
    fv_table = tables["featurevalue"]
    with engine.begin() as conn:
        existing = {
            row[0]: row[1]
            for row in conn.execute(
                text("SELECT hash, id FROM featurevalue WHERE feature_id = :f"),
                {"f": template.temperature_id},
            )
        }
        values = [(k, temperature_of(k)) for k in range(TEMP_STEPS)]
        hashes = {k: value_hash(v) for k, v in values}
        fv_varying = {
            "feature_id": ":feature_id",
            "value": dialect.value_param(),
            "hash": ":hash",
            "created_at": ":created_at",
            "value_num": ":value_num",
        }
        names, exprs, params = _plan_columns(fv_table, template.featurevalue, fv_varying, report)
        cols = ", ".join(_quote(n) for n in names)
        insert_fv = text(f"INSERT INTO featurevalue ({cols}) VALUES ({', '.join(exprs)})")
        rows = [
            {
                **params,
                "feature_id": template.temperature_id,
                "value": json.dumps(v),
                "hash": hashes[k],
                "created_at": template.featurevalue["created_at"],
                "value_num": v,
            }
            for k, v in values
            if hashes[k] not in existing
        ]
        if rows:
            conn.execute(insert_fv, rows)
        ids = {
            row[0]: row[1]
            for row in conn.execute(
                text("SELECT hash, id FROM featurevalue WHERE feature_id = :f"),
                {"f": template.temperature_id},
            )
        }
        conn.execute(text(f"DROP TABLE IF EXISTS {TMAP}"))
        conn.execute(text(f"DROP TABLE IF EXISTS {LMAP}"))
        conn.execute(
            text(
                f"CREATE TABLE {TMAP} (k BIGINT PRIMARY KEY, fv_id BIGINT NOT NULL, value_num DOUBLE PRECISION)"
            )
        )
        conn.execute(
            text(f"INSERT INTO {TMAP} (k, fv_id, value_num) VALUES (:k, :fv, :v)"),
            [{"k": k, "fv": ids[hashes[k]], "v": v} for k, v in values],
        )
        conn.execute(text(f"CREATE TABLE {LMAP} (j BIGINT PRIMARY KEY, ulabel_id BIGINT NOT NULL)"))
        label_rows = [{"j": j, "u": template.label_ids[f"label_{j}"]} for j in range(layout.labels)]
        conn.execute(text(f"INSERT INTO {LMAP} (j, ulabel_id) VALUES (:j, :u)"), label_rows)
    report.seconds["featurevalue"] = time.perf_counter() - start

    # --- links: every generated artifact to a temperature, 38 % to a label ----------------------
    row_of = f"(a.id - {id_base + 1})"
    k_of = f"((({row_of} * {MULT_A}) % {TWO32}) % {TEMP_STEPS})"
    h2 = f"((({row_of} + 7777777) * {MULT_B}) % {TWO32})"
    links = [
        (
            "artifact_featurevalue",
            template.artifact_featurevalue,
            {
                "artifact_id": "a.id",
                "featurevalue_id": "m.fv_id",
                "created_at": "a.created_at",
                "feature_id": str(template.temperature_id),
                "value_num": "m.value_num",
            },
            f"FROM artifact a JOIN {TMAP} m ON m.k = {k_of} WHERE a.id >= :lo AND a.id <= :hi",
        ),
        (
            "artifact_ulabel",
            template.artifact_ulabel,
            {
                "artifact_id": "a.id",
                "ulabel_id": "l.ulabel_id",
                "feature_id": f"CASE WHEN ({h2} / 10000) % 2 = 0 THEN {template.category_id} ELSE NULL END",
                "created_at": "a.created_at",
            },
            f"FROM artifact a JOIN {LMAP} l ON l.j = ({h2} / 100) % {layout.labels} "
            f"WHERE a.id >= :lo AND a.id <= :hi AND {h2} % 100 < {LABEL_PERCENT}",
        ),
    ]
    for table_name, row, link_varying, body in links:
        start = time.perf_counter()
        names, exprs, params = _plan_columns(tables[table_name], row, link_varying, report)
        sql = text(_insert_sql(table_name, names, exprs, body))
        for lo in range(0, layout.generated, chunk):
            hi = min(layout.generated, lo + chunk) - 1
            with engine.begin() as conn:
                conn.execute(sql, {**params, "lo": id_base + 1 + lo, "hi": id_base + 1 + hi})
        report.seconds[table_name] = time.perf_counter() - start
        print(f"    {table_name}: {report.seconds[table_name]:.1f} s", flush=True)

    if dropped:
        start = time.perf_counter()
        with engine.begin() as conn:
            for _name, sql in dropped:
                conn.exec_driver_sql(sql)
        report.seconds["indexes"] = time.perf_counter() - start
        print(f"    {len(dropped)} indexes created again: {report.seconds['indexes']:.1f} s", flush=True)

    # --- what the queries should return, then the planner statistics ----------------------------
    with engine.begin() as conn:
        one = conn.execute
        report.expected = {
            "count_all": int(one(text("SELECT count(*) FROM artifact")).scalar()),
            "key_prefix": int(
                one(text("SELECT count(*) FROM artifact WHERE key LIKE 'project7/%'")).scalar()
            ),
            "temperature_range": int(
                one(
                    text(
                        f"SELECT count(DISTINCT af.artifact_id) FROM artifact_featurevalue af "
                        f"JOIN {TMAP} m ON m.fv_id = af.featurevalue_id "
                        "WHERE m.value_num > 20 AND m.value_num < 20.5"
                    )
                ).scalar()
            ),
            "label_3": int(
                one(
                    text(
                        "SELECT count(DISTINCT au.artifact_id) FROM artifact_ulabel au "
                        "JOIN ulabel u ON u.id = au.ulabel_id WHERE u.name = 'label_3'"
                    )
                ).scalar()
            ),
        }
        one(text(f"DROP TABLE {TMAP}"))
        one(text(f"DROP TABLE {LMAP}"))
    start = time.perf_counter()
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    report.seconds["analyze"] = time.perf_counter() - start
    return report
