"""A moto S3 server with many small objects in place, for `bench_bulk_ingest.py` (run as a script).

    python _s3_server.py PORT BUCKET PREFIX COUNT [--paged-listing]

Objects are written into moto's backend in this process, before the server answers its first
request: 100,000 PUTs through HTTP would take minutes of setup, and each object gets the ETag an
upload gives it (the md5 of its bytes). `<PREFIX>/d<NNN>/o<NNNNNN>.txt`, 1,000 per folder, each a
few dozen unique bytes. Prints "ready <seconds>" once it listens and stops when stdin closes.

`--paged-listing`: moto collects and sorts every key of the bucket for each page of a listing, so
listing 100,000 objects (100 pages) costs it a minute or more, where S3 answers each page in tens
of milliseconds. With this flag a listing without delimiter pages through a sorted index of the
bucket's keys instead: the same pages, tokens and objects, at a cost per page that does not grow
with the bucket. The benchmark reports the listing alone either way.
"""

from __future__ import annotations

import sys
import time
from typing import Any


def seed(bucket: str, prefix: str, count: int) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(bucket, "us-east-1")
    for index in range(count):
        key = f"{prefix}/d{index // 1000:03d}/o{index:06d}.txt"
        backend.put_object(bucket, key, f"object {index} of the bulk ingest benchmark\n".encode())


def page_listings_by_index() -> None:
    """ListObjectsV2 without delimiter from a sorted index of the keys (rebuilt when the bucket changes)."""
    import bisect

    from moto.s3.models import FakeDeleteMarker, S3Backend

    listed = S3Backend.list_objects_v2
    indexes: dict[int, tuple[int, list[str]]] = {}

    def list_objects_v2(
        self: Any,
        bucket: Any,
        prefix: str | None,
        delimiter: str | None,
        continuation_token: str | None,
        start_after: str | None,
        max_keys: int,
    ) -> Any:
        if delimiter or max_keys == 0:
            return listed(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys)
        size, names = indexes.get(id(bucket), (-1, []))
        if size != len(bucket.keys):
            names = sorted(bucket.keys.keys())
            indexes[id(bucket)] = (len(names), names)
        prefix = prefix or ""
        after = self._pagination_tokens.get(continuation_token) if continuation_token else start_after
        start = bisect.bisect_right(names, after) if after else bisect.bisect_left(names, prefix)
        found: list[Any] = []
        for name in names[start:]:
            if not name.startswith(prefix) or len(found) > max_keys:
                break
            key = bucket.keys.get(name)
            if key is not None and not isinstance(key, FakeDeleteMarker):
                found.append(key)
        return self._truncate_result(found, max_keys)

    S3Backend.list_objects_v2 = list_objects_v2  # type: ignore[method-assign]


def main() -> None:
    port, bucket, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    from moto.server import ThreadedMotoServer

    if "--paged-listing" in sys.argv[5:]:
        page_listings_by_index()
    started = time.perf_counter()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(port), verbose=False)
    server.start()
    seed(bucket, prefix, count)
    print(f"ready {time.perf_counter() - started:.1f}", flush=True)
    sys.stdin.read()  # until the benchmark closes it (or exits)
    server.stop()


if __name__ == "__main__":
    main()
