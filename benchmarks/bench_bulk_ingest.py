"""Benchmark: registering many objects at once, `ln.Artifact.from_dir(...)` then `ln.save(artifacts)`.

    .venv/bin/python benchmarks/bench_bulk_ingest.py [--scale small|full] [--n N]
        [--only s3-sqlite,s3-postgres,local] [--paged-listing] [--profile]

N = 100,000 at full scale, 5,000 at small. Each workload runs in a child process of its own with a
fresh instance, after a warm-up `from_dir` + `ln.save` of 20 other objects (imports, connection):
(a) records: `ln.save(artifacts)` of N artifacts whose bytes are in storage already: the objects of
    an S3 prefix, each knowing its key, size and md5 (its ETag) from the listing, so the save
    writes records only. On SQLite and on PostgreSQL; records/s, target ≥ 50,000/s on PostgreSQL.
    Baseline: the database inserting the same rows by itself (`INSERT ... SELECT` of a copy with new
    ids, uids, hashes and keys, rolled back), the ceiling of (a) that the table's indexes and
    foreign keys leave.
(b) `ln.Artifact.from_dir("s3://bench/objects")` (one paginated listing, the artifacts made from
    it) + `ln.save()`: target < 60 s for N = 100,000. The listing alone, the same ListObjectsV2
    pages through boto3, is reported beside it, and so is the time from_dir spent in its listing:
    the endpoint's cost, not Lamella's.
(c) a local folder of N files of 40 bytes: registered in place (the folder lies in the storage:
    hashed, not copied) and copied into the storage (it lies outside), from_dir + save each.

Servers: moto's S3 server (`_s3_server.py`: the objects are written into its backend before it
serves, since 100,000 PUTs through HTTP take minutes) and a PostgreSQL cluster as the tests start
it (`tests/servers.py`: fsync off). moto collects and sorts every key of the bucket for each page
of a listing, so a listing of 100,000 objects costs it a minute or more; `--paged-listing` lets
the server page through a sorted index instead (the same answers, at a per-page cost that does
not grow with the bucket, as S3's). The numbers move with the machine's load: see the pressure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DIR,
    RESULTS_DIR,
    Results,
    clean_env,
    finish,
    last_json_line,
    now,
    parse,
    parser,
    pressure,
    run_child,
    settle,
    temp_folder,
)
from _profiling import profiled

BUCKET = "bench"
PREFIX = "objects"  # the N objects
WARM_PREFIX = "warm"  # 20 other objects, for each child's warm-up
WARM_COUNT = 20
WORKLOADS = ("s3-sqlite", "s3-postgres", "local")
RECORDS_TARGET = 50_000  # records/s, PostgreSQL
FROM_DIR_TARGET = 60.0  # seconds for 100,000 objects


# --- in a child process: one workload, one fresh instance -----------------------------------------


def child(args: Any) -> None:
    """Time `from_dir(folder)` and `ln.save()`; print one JSON line."""
    import lamella as ln

    ln.setup.init(storage=args.storage, db=args.db or None)
    ln.settings.creation.artifact_silence_missing_run_warning = True
    ln.save(ln.Artifact.from_dir(args.warm))  # imports, connection, the storage record of the bucket
    listing = timed_listing()
    profile = RESULTS_DIR / f"bulk_ingest-{args.child}.prof"
    with profiled(args.profile, profile):
        started, cpu = now(), time.process_time()
        artifacts = ln.Artifact.from_dir(args.folder)
        made, made_cpu = now(), time.process_time()
        saved = ln.save(artifacts)
        done, done_cpu = now(), time.process_time()
    count = ln.Artifact.filter(key__startswith=artifacts[0].key.rsplit("/", 2)[0] + "/").count()
    if count != len(saved) or len(saved) != args.n:
        raise SystemExit(f"expected {args.n} records, found {count} ({len(saved)} saved)")
    alone = (
        database_alone(args.n, artifacts[0].key.split("/", 1)[0]) if args.child.startswith("s3-") else None
    )
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    result = {
        "from_dir": made - started,
        "from_dir_cpu": made_cpu - cpu,
        "listing": listing[0],
        "save": done - made,
        "save_cpu": done_cpu - made_cpu,
        "hash_type": saved[0]._hash_type,
        "in_place": not saved[0]._key_is_virtual,
        "peak_mb": peak / 1024,
        "database_alone": alone,
        "pressure": pressure(),
    }
    print(json.dumps(result), flush=True)


def timed_listing() -> list[float]:
    """[seconds] that from_dir spends in its listing (the endpoint's share of it), filled as it runs."""
    from lamella.models.artifact import source

    spent = [0.0]
    for name in ("list_remote_detailed", "scan_local"):
        listing = getattr(source, name)

        def timed(*args: Any, _listing: Any = listing) -> Any:
            started = now()
            try:
                return _listing(*args)
            finally:
                spent[0] += now() - started

        setattr(source, name, timed)
    return spent


def database_alone(n: int, folder_key: str) -> float:
    """Seconds the database takes to insert the same rows again by itself, no client in the loop:
    `INSERT INTO artifact SELECT ...` of a copy with new ids, uids, hashes and keys, rolled back."""
    from lamella._instance import state

    db = state.current().db
    postgres = db.dialect == "postgresql"
    random_text = "substr(md5(random()::text), 1, {})" if postgres else "substr(hex(randomblob(16)), 1, {})"
    with db.engine.connect() as connection:
        run = connection.exec_driver_sql
        run("BEGIN" if postgres else "BEGIN IMMEDIATE")
        try:
            prefix = f"{folder_key}/"  # no LIKE: psycopg would read its % as a placeholder
            run(
                f"CREATE TEMP TABLE again AS SELECT * FROM artifact WHERE substr(key, 1, {len(prefix)}) = '{prefix}'"
            )
            highest = run("SELECT max(id) FROM artifact").scalar_one()
            run(
                f"UPDATE again SET id = id + {highest}, uid = {random_text.format(16)} || '0000', "
                f"hash = {random_text.format(22)}, key = 'again/' || key"
            )
            started = now()
            inserted = run("INSERT INTO artifact SELECT * FROM again").rowcount
            seconds = now() - started
        finally:
            run("ROLLBACK")
    if inserted != n:
        raise SystemExit(f"the database alone inserted {inserted} rows, not {n}")
    return seconds


# --- in the benchmark process ---------------------------------------------------------------------


def start_s3(n: int, paged: bool) -> tuple[subprocess.Popen[str], str, float]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    script = BENCH_DIR / "_s3_server.py"
    server = subprocess.Popen(
        [sys.executable, str(script), str(port), BUCKET, PREFIX, str(n), *(["--paged-listing"] * paged)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    ready = server.stdout.readline().split()
    if not ready or ready[0] != "ready":
        server.kill()
        raise SystemExit("the S3 server did not start")
    return server, f"http://127.0.0.1:{port}", float(ready[1])


def s3_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def put_warm_objects(endpoint: str) -> None:
    import boto3

    client = boto3.client("s3", **_client_args(endpoint))
    for index in range(WARM_COUNT):
        client.put_object(Bucket=BUCKET, Key=f"{WARM_PREFIX}/o{index}.txt", Body=f"warm {index}".encode())


def _client_args(endpoint: str) -> dict[str, str]:
    env = s3_env(endpoint)
    return {
        "endpoint_url": endpoint,
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "region_name": env["AWS_DEFAULT_REGION"],
    }


def listing_alone(endpoint: str) -> tuple[float, int, int]:
    """The ListObjectsV2 pages of the prefix through boto3: (seconds, objects, pages)."""
    import boto3

    client = boto3.client("s3", **_client_args(endpoint))
    started, objects, pages = now(), 0, 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{PREFIX}/"):
        objects += len(page.get("Contents", []))
        pages += 1
    return now() - started, objects, pages


def write_small_files(folder: Path, count: int, tag: str = "local") -> None:
    """`count` files of 40 unique bytes (unique per `tag` too), 1,000 per subfolder."""
    for index in range(count):
        sub = folder / f"d{index // 1000:03d}"
        if index % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{index:06d}.txt").write_bytes(f"{tag:5.5} file {index:08d} of the benchmark\n".encode())


def run_workload(
    name: str, tmp: Path, n: int, folder: str, warm: str, *, db: str | None, env: dict[str, str], args: Any
) -> dict[str, Any]:
    home = tmp / f"{name}-home"
    storage = tmp / f"{name}-data"
    cmd = [sys.executable, __file__, "--child", name, "--folder", folder, "--warm", warm]
    cmd += ["--storage", str(storage), "--n", str(n), "--db", db or ""]
    if args.profile:
        cmd.append("--profile")
    child_env = {**clean_env(home), **env}
    code, out, err, _wall, _rss = run_child(cmd, env=child_env, timeout=3600)
    if args.profile:
        print(out)
    if code != 0:
        raise SystemExit(f"workload {name} failed ({code}):\n{out[-3000:]}\n{err[-3000:]}")
    return last_json_line(out)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--n", type=int, default=None, help="objects and files per workload")
    p.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(WORKLOADS)}")
    p.add_argument(
        "--paged-listing", action="store_true", help="an S3 server whose listing pages cost as S3's"
    )
    p.add_argument("--profile", action="store_true", help="cProfile each workload's timed section")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    p.add_argument("--warm", help=argparse.SUPPRESS)
    p.add_argument("--storage", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    if "--child" in sys.argv:
        child(p.parse_args())
        return
    args = parse(p)
    full = args.scale == "full"
    n = args.n or (100_000 if full else 5_000)
    chosen = [w for w in (args.only.split(",") if args.only else WORKLOADS) if w]
    results = Results("bulk_ingest", args.scale)
    scaled = n / 100_000
    print(f"bulk ingest of {n:,} objects (scale {args.scale}): {', '.join(chosen)}", flush=True)
    with temp_folder("bulk-ingest", args.tmp, args.keep) as tmp:
        if any(w.startswith("s3-") for w in chosen):
            s3_workloads(results, tmp, n, chosen, scaled, args)
        if "local" in chosen:
            local_workloads(results, tmp, n, scaled, args)
    finish(results, args)


def s3_workloads(results: Results, tmp: Path, n: int, chosen: list[str], scaled: float, args: Any) -> None:
    sys.path.insert(0, str(BENCH_DIR.parent / "tests"))
    import servers  # the test session's PostgreSQL cluster

    server, endpoint, seeded = start_s3(n, args.paged_listing)
    listing = "paged through a sorted index (--paged-listing)" if args.paged_listing else "moto's own"
    try:
        put_warm_objects(endpoint)
        seconds, objects, pages = listing_alone(endpoint)
        if objects != n:
            raise SystemExit(f"the S3 server lists {objects} objects, not {n}")
        results.add(
            "S3 listing alone: boto3 paginator over the prefix",
            seconds,
            "s",
            n=n,
            note=f"{pages} pages; the endpoint's cost ({listing} listing); seeded in {seeded:.0f} s",
        )
        env = s3_env(endpoint)
        folder, warm = f"s3://{BUCKET}/{PREFIX}", f"s3://{BUCKET}/{WARM_PREFIX}"
        if "s3-sqlite" in chosen:
            measured = run_workload("s3-sqlite", tmp, n, folder, warm, db=None, env=env, args=args)
            report_s3(results, "SQLite", measured, n, seconds, scaled, target=None)
        if "s3-postgres" in chosen:
            pg_ctl, initdb = servers.pg_bin("pg_ctl"), servers.pg_bin("initdb")
            if pg_ctl is None or initdb is None:
                raise SystemExit("PostgreSQL not found (initdb, pg_ctl)")
            with servers.postgres_cluster(initdb, pg_ctl) as url:
                db = servers.create_database(url)
                measured = run_workload("s3-postgres", tmp, n, folder, warm, db=db, env=env, args=args)
            report_s3(results, "PostgreSQL", measured, n, seconds, scaled, target=RECORDS_TARGET)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)


def report_s3(
    results: Results,
    backend: str,
    measured: dict[str, Any],
    n: int,
    listing: float,
    scaled: float,
    *,
    target: float | None,
) -> None:
    rate = n / measured["save"]
    results.add(
        f"(a) ln.save of {n:,} records (bytes in S3 already), {backend}",
        rate,
        "records/s",
        n=n,
        target=target,
        at_least=True,
        note=f"{measured['save']:.2f} s, {measured['save_cpu']:.2f} s CPU in the client; {measured['pressure']}",
    )
    total = measured["from_dir"] + measured["save"]
    limit = FROM_DIR_TARGET * scaled
    results.add(
        f"(b) from_dir(S3 prefix) + ln.save, {backend}",
        total,
        "s",
        n=n,
        target=limit,
        target_text=f"< {limit:g} s" + ("" if scaled == 1 else " (60 s × N/100,000)"),
        note=(
            f"from_dir {measured['from_dir']:.1f} s ({measured['from_dir_cpu']:.1f} s CPU), save "
            f"{measured['save']:.1f} s; peak RSS {measured['peak_mb']:.0f} MB; hashes: {measured['hash_type']}"
        ),
    )
    results.add(
        f"    of which Lamella's own: (b) − the listing inside from_dir, {backend}",
        total - measured["listing"],
        "s",
        n=n,
        note=f"the listing took {measured['listing']:.1f} s inside from_dir ({listing:.1f} s alone, before)",
    )
    results.add(
        f"baseline: {backend} alone inserts the same {n:,} rows (INSERT ... SELECT)",
        n / measured["database_alone"],
        "records/s",
        n=n,
        note=f"{measured['database_alone']:.2f} s: the ceiling of (a) with this schema (indexes, foreign keys)",
    )


def local_workloads(results: Results, tmp: Path, n: int, scaled: float, args: Any) -> None:
    limit = FROM_DIR_TARGET * scaled
    for mode in ("in place", "copied"):
        name = "local-inplace" if mode == "in place" else "local-copied"
        storage = tmp / f"{name}-data"
        folder = storage / "incoming" if mode == "in place" else tmp / f"{name}-source"
        warm = tmp / f"{name}-warm"
        write_small_files(folder, n)
        write_small_files(warm, WARM_COUNT, tag="warm")
        settle()  # the writeback of the files just written stays out of the timing
        measured = run_workload(name, tmp, n, str(folder), str(warm), db=None, env={}, args=args)
        if measured["in_place"] != (mode == "in place"):
            raise SystemExit(f"{name}: expected the files registered {mode}")
        total = measured["from_dir"] + measured["save"]
        results.add(
            f"(c) local folder, {mode}: from_dir + ln.save, SQLite",
            total,
            "s",
            n=n,
            target=limit if mode == "in place" else None,
            target_text=(
                f"< {limit:g} s" + ("" if scaled == 1 else " (60 s × N/100,000)")
                if mode == "in place"
                else ""
            ),
            note=(
                f"from_dir {measured['from_dir']:.1f} s (the scan {measured['listing']:.1f} s), "
                f"save {measured['save']:.1f} s "
                f"({'hashed' if mode == 'in place' else 'copied + hashed'}, {measured['hash_type']}); "
                f"{n / total:,.0f} files/s; {measured['pressure']}"
            ),
        )


if __name__ == "__main__":
    main()
