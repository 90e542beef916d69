"""`ln.save(artifacts)`: what a batch of new artifacts does together.

Bytes: the files of a batch up to `POOLED_MAX_SIZE` are copied and hashed by a bounded pool of
threads (file IO and hashing release the GIL; uploads to object stores overlap their requests).
Each worker holds one buffer of at most that size, so a batch never holds more than `WORKERS` of
them; bigger files and folders are stored one at a time by the calling thread with the single-file
pipeline (its own reader and writer threads). Small local files stay in the calling thread unless
they turn out to wait on the disk more than they compute (`store_all`).

Records: the hashes and keys that exist are looked up once per batch (`KnownInBatch`). An
artifact whose content and key are both new, and that revises nothing, is inserted with the other
such artifacts in one multi-row INSERT (ids reserved in one go). Any other artifact (a duplicate, a
new version of a key, `revises=`) takes the one-by-one path, after the new artifacts before it are
inserted: it may repeat their content or their key, and must find them as if saved one by one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from lamella._storage.pipeline import POOLED_CHUNK_SIZE
from lamella.models.core.bulk import insert_many
from lamella.models.core.run_links import INTERNAL_KIND_PREFIX, link_to_current_project
from lamella.models.lineage.lineage import Run

if TYPE_CHECKING:
    from lamella._instance.state import Instance
    from lamella.models.artifact.artifact import Artifact

# copies overlap their waits on the disk or the network, not their Python work: a few per core
WORKERS = min(8, 4 * (os.cpu_count() or 1))
POOLED_MAX_SIZE = POOLED_CHUNK_SIZE  # larger files get the single-file pipeline (its own threads)
# Below this size a local copy is mostly Python work, which threads only serialize on the GIL (1 KB
# files, 2 cores, idle disk: 0.16 ms each inline, 0.36 ms on 8 threads), unless the disk makes each
# file wait (a busy file system: 0.76 ms inline, 0.26 ms on 8 threads). So such files are copied
# inline while they compute more than they wait, and on the pool once they wait more.
LOCAL_POOLED_MIN_SIZE = 64 * 2**10
WAIT_SAMPLE = 16  # small files timed inline before the choice

# where the bytes of one artifact of a batch are stored
ALONE = "alone"  # in the calling thread, one at a time: folders, big files
POOLED = "pooled"  # on the pool
SMALL = "small"  # inline or on the pool, as the first ones show

_LOOKUP_CHUNK = 500  # values per IN (...) list

T = TypeVar("T")
R = TypeVar("R")


def placement(size: int | None, is_dir: bool, cloud: bool) -> str:
    """Where the bytes of one artifact of a batch are stored: ALONE, POOLED or SMALL."""
    if is_dir or size is None or size > POOLED_MAX_SIZE:
        return ALONE
    return POOLED if cloud or size >= LOCAL_POOLED_MIN_SIZE else SMALL


def store_all(items: Sequence[T], placements: Sequence[str], work: Callable[[T], R]) -> list[R]:
    """`work(item)` for every item, where its placement says; the results in the items' order."""
    results: dict[int, R] = {}
    pooled: list[int] = []
    small: list[int] = []
    for index, (item, where) in enumerate(zip(items, placements, strict=True)):
        if where == ALONE or len(items) == 1:
            results[index] = work(item)
        else:
            (pooled if where == POOLED else small).append(index)
    waited = computed = 0.0
    for count, index in enumerate(small):
        if count >= WAIT_SAMPLE and waited > computed:
            pooled.extend(small[count:])
            break
        started, cpu = time.perf_counter(), time.thread_time()
        results[index] = work(items[index])
        spent = time.thread_time() - cpu
        computed += spent
        waited += time.perf_counter() - started - spent
    for index, result in zip(pooled, run_pooled([items[i] for i in pooled], work), strict=True):
        results[index] = result
    return [results[index] for index in range(len(items))]


def run_pooled(items: Sequence[T], work: Callable[[T], R]) -> list[R]:
    """`work(item)` for every item on at most `WORKERS` threads; the results in the items' order.

    On the first failure no further item starts, the running ones finish (so that the caller's
    cleanup sees every file that was written), and the failure of the earliest failed item is
    raised.
    """
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(WORKERS, len(items)), thread_name_prefix="lamella-store") as pool:
        futures = [pool.submit(work, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.exception() is not None for f in done):
            for future in futures:
                future.cancel()
            wait(futures)
            _raise_first_failure(futures)
        return [f.result() for f in futures]


def _raise_first_failure(futures: list[Future[Any]]) -> None:
    for future in futures:
        if not future.cancelled() and future.exception() is not None:
            future.result()  # raises it, with its traceback


@dataclass
class KnownInBatch:
    """The hashes and keys that exist, looked up once for a batch, so that an artifact whose content
    and key are both new costs no lookup of its own; taken under the write lock, and grown with each
    artifact of the batch inserted."""

    hashes: set[str]
    keys: set[tuple[int | None, str]]

    @classmethod
    def of(cls, session: Any, artifacts: list[Artifact]) -> KnownInBatch:
        table = type(
            artifacts[0]
        ).__table__.name  # the registry, without importing it: it imports this module
        hashes = [h for h in {a.__dict__.get("hash") for a in artifacts} if h is not None]
        keys = [k for k in {a.__dict__.get("key") for a in artifacts} if k is not None]
        connection = session.connection()
        found_hashes = _existing(connection, f'SELECT hash FROM "{table}" WHERE hash', hashes)
        found_keys = _existing(connection, f'SELECT storage_id, key FROM "{table}" WHERE key', keys)
        return cls({h for (h,) in found_hashes}, {(storage_id, key) for storage_id, key in found_keys})

    # read from the records' state: these run once per artifact of a batch
    def may_duplicate(self, artifact: Artifact) -> bool:
        digest = artifact.__dict__.get("hash")
        return digest is not None and digest in self.hashes

    def may_extend(self, artifact: Artifact) -> bool:
        values = artifact.__dict__
        if values.get("_revises") is not None:
            return True
        key = values.get("key")
        return key is not None and (values.get("storage_id"), key) in self.keys

    def add(self, artifact: Artifact) -> None:
        values = artifact.__dict__
        if values.get("hash") is not None:
            self.hashes.add(values["hash"])
        if values.get("key") is not None:
            self.keys.add((values.get("storage_id"), values["key"]))


def _existing(connection: Any, select_where: str, values: list[str]) -> list[tuple[Any, ...]]:
    """The rows of `<select_where> IN values`: plain SQL (the ORM's expanding IN compiled 500
    values at a time cost more than the lookup); PostgreSQL takes all values as one array, sent in
    binary (`%b`: half the time of the text form at 100,000 values)."""
    if not values:
        return []
    if connection.dialect.name == "postgresql":
        return [tuple(row) for row in connection.exec_driver_sql(f"{select_where} = ANY(%b)", (values,))]
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(values), _LOOKUP_CHUNK):
        chunk = values[start : start + _LOOKUP_CHUNK]
        sql = f"{select_where} IN ({', '.join('?' * len(chunk))})"
        found.extend(tuple(row) for row in connection.exec_driver_sql(sql, tuple(chunk)))
    return found


def insert_batch(
    artifacts: list[Artifact],
    instance: Instance,
    session: Any,
    insert_one: Callable[[int, KnownInBatch], Artifact],
) -> list[Artifact]:
    """Insert the records of a batch inside its write transaction; returns what each one saved as.

    `insert_one(index, known)` saves the artifact at `index` the one-by-one way (it may return an
    existing record with the same content).
    """
    known = KnownInBatch.of(session, artifacts)
    results: list[Artifact] = []
    new: list[Artifact] = []
    for index, artifact in enumerate(artifacts):
        if known.may_duplicate(artifact) or known.may_extend(artifact):
            _insert_new(new, instance, session)  # it may repeat the content or key of one of them
            new = []
            results.append(insert_one(index, known))
            continue
        known.add(artifact)  # the rest of the batch may repeat its content or its key
        new.append(artifact)
        results.append(artifact)
    _insert_new(new, instance, session)
    return results


def _insert_new(artifacts: list[Artifact], instance: Instance, session: Any) -> None:
    """Artifacts with new content at new keys, revising nothing: version 0000 of new families."""
    if not artifacts:
        return
    users: list[Artifact] = []
    for artifact in artifacts:
        artifact._fill_defaults(instance)  # the registry's own (reports and environments: main, no run)
        if not (artifact.__dict__.get("kind") or "").startswith(INTERNAL_KIND_PREFIX):
            users.append(artifact)
    runs: dict[int, Any] = {}
    for artifact in artifacts:
        values = artifact.__dict__
        if values.get("transform_id") is None:
            run = values.get("run")
            run_id = values.get("run_id")
            if run is None and run_id is not None:
                run = runs.get(run_id) or runs.setdefault(run_id, session.get(Run, run_id))
            if run is not None:
                values["transform_id"] = run.transform_id
        values["is_latest"] = True
    insert_many(type(artifacts[0]), artifacts, session)
    session.flush()  # an artifact pointing at an unsaved record goes through the ORM: its id, now
    link_to_current_project(users)  # reports and environments belong to no project
