"""The timed side of one operation, run in a fresh `python -c` process per operation.

    python -c "import sys; sys.path.insert(0, BENCH_DIR); from _scale.child import main; main()" SPEC

SPEC (JSON): `setup` (Python run once, after connecting), `expr` (a Python expression: the
operation; `i` is the run number, 0 for the warm-up), `runs`, `target_ms` (None: no plan), `dialect`.
The process imports lamella, connects (both timed apart), runs the operation once to warm up (the
first call, reported apart), then `runs` timed runs. Every statement Lamella sends is recorded with
SQLAlchemy's cursor events on the instance's engine; when the median is over the target, the
slowest statement of the median run is explained on the same database: `EXPLAIN (ANALYZE, BUFFERS)`
on PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite. Prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

SQL_KEEP = 2000  # characters of a statement kept in the JSON


def _summary(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    shape = getattr(value, "shape", None)
    if shape is not None:
        return {"type": type(value).__name__, "shape": list(shape)}
    if isinstance(value, list | tuple):
        return {"type": type(value).__name__, "len": len(value)}
    uid = getattr(value, "uid", None)
    return {"type": type(value).__name__, "uid": uid, "key": getattr(value, "key", None)}


def _explain(engine: Any, statement: str, parameters: Any) -> list[str]:
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters or ()).fetchall()
    if engine.dialect.name == "postgresql":
        return [row[0] for row in rows]
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + str(detail))
    return lines


def main() -> None:
    spec = json.loads(sys.argv[1])
    start = time.perf_counter()
    import lamella as ln

    import_s = time.perf_counter() - start
    from sqlalchemy import event

    from lamella._instance import state

    start = time.perf_counter()
    engine = state.current().db.engine
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    connect_s = time.perf_counter() - start

    statements: list[tuple[str, Any, float, bool]] = []
    pending: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        pending.append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters, time.perf_counter() - pending.pop(), many))

    namespace: dict[str, Any] = {"ln": ln}
    exec(spec.get("setup", ""), namespace)
    code = compile(spec["expr"], "<operation>", "eval")
    per_run: list[list[tuple[str, Any, float, bool]]] = []
    times: list[float] = []
    value: Any = None
    error = None
    try:
        for i in range(spec["runs"] + 1):
            namespace["i"] = i
            statements.clear()
            t = time.perf_counter()
            value = eval(code, namespace)
            times.append(time.perf_counter() - t)
            per_run.append(list(statements))
    except Exception as e:  # a Lamella bug or a missing feature: reported as the row's error
        import traceback

        error = f"{type(e).__name__}: {e}\n" + "".join(traceback.format_exc().splitlines(True)[-12:])
    out: dict[str, Any] = {
        "import_ms": 1000 * import_s,
        "connect_ms": 1000 * connect_s,
        "error": error,
    }
    if times:
        out["first_ms"] = 1000 * times[0]
    timed = times[1:]
    if timed and error is None:
        median = statistics.median(timed)
        out.update(
            median_ms=1000 * median,
            runs_ms=[1000 * t for t in timed],
            result=_summary(value),
        )
        # the run closest to the median: its statements, slowest first
        index = 1 + min(range(len(timed)), key=lambda k: abs(timed[k] - median))
        ran = sorted(per_run[index], key=lambda s: -s[2])
        out["statements"] = [{"sql": s[0][:SQL_KEEP], "ms": 1000 * s[2], "executemany": s[3]} for s in ran]
        out["statement_ms"] = 1000 * sum(s[2] for s in ran)
        target = spec.get("target_ms")
        if target is not None and 1000 * median > target:
            readers = [s for s in ran if not s[3] and s[0].lstrip().upper().startswith(("SELECT", "WITH"))]
            if readers:
                slowest = readers[0]
                try:
                    out["plan_sql"] = slowest[0]
                    out["plan_ms"] = 1000 * slowest[2]
                    out["plan_params"] = repr(slowest[1])[:500]
                    out["plan"] = _explain(engine, slowest[0], slowest[1])
                except Exception as e:
                    out["plan"] = [f"(EXPLAIN failed: {type(e).__name__}: {e})"]
    print(json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    main()
