"""A save that dies halfway leaves neither a record nor stray bytes, once the next process connects.

A child process saves an artifact and is stopped with SIGKILL at a chosen point: while its bytes
are being copied, after they are stored but before the record commits (inside the open write
transaction), or right after the commit. A fresh process then connects to the instance (which
sweeps interrupted saves) and the test inspects the database and the storage.

The child pauses at a point by waiting for a file that never comes; the pause points hook the
byte sinks of `lamella._storage.copying` and the write transaction of `Database.write`, so they
do not depend on how `_artifact_store` is organised inside.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

import lamella as ln
from lamella._storage import hash_file

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]

MiB = 2**20
BUCKET = "lamella-test"

CHILD = r"""
import os, sys, time
from contextlib import contextmanager
from pathlib import Path

mode, source, key, signals = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
threshold = int(sys.argv[5]) if len(sys.argv) > 5 else 0


def pause(tag):
    (signals / tag).touch()
    deadline = time.time() + 120
    while not (signals / "continue").exists() and time.time() < deadline:
        time.sleep(0.02)


import lamella as ln
from lamella._instance.database import Database
from lamella._storage import copying

ln.Artifact.filter().count()  # connect now, not in the middle of the save

if mode == "mid-copy":
    copying.UPLOAD_PART_SIZE = 5 * 2**20  # uploads of a few MiB become multipart
    # a local copy is made by the kernel, chunk by chunk (`pipeline.kernel_copy_hash`)
    copying.pipeline.KERNEL_CHUNK_SIZE = 2**20
    copied = [0]

    def copy_range(*args, _original=copying.pipeline._copy_range):
        count = _original(*args)
        copied[0] += count
        if copied[0] > threshold and copied[0] - count <= threshold:
            pause("copying")
        return count

    copying.pipeline._copy_range = copy_range
    for sink in (copying._LocalSink, copying._RemoteSink):
        def write(self, data, _original=sink.write):
            _original(self, data)
            self._written = getattr(self, "_written", 0) + len(data)
            if self._written > threshold and not getattr(self, "_paused", False):
                self._paused = True
                pause("copying")
        sink.write = write

if mode in ("before-commit", "after-commit"):
    original_write = Database.write

    @contextmanager
    def write(self, *locks):
        outermost = not self.in_write()
        with original_write(self, *locks) as session:
            yield session
            if outermost and "lamella:artifact" in locks and mode == "before-commit":
                session.flush()
                pause("before-commit")
        if outermost and "lamella:artifact" in locks and mode == "after-commit":
            pause("after-commit")

    Database.write = write

if source == "dataframe":
    import pandas as pd
    ln.Artifact.from_dataframe(pd.DataFrame({"a": [2, 3]}), key=key).save()
else:
    ln.Artifact(source, key=key).save()
(signals / "saved").touch()
"""

INSPECT = r"""
import json, sys
import lamella as ln
artifacts = [
    {"uid": a.uid, "key": a.key, "path": str(a.path), "hash": a.hash, "hash_type": a._hash_type,
     "latest": a.is_latest}
    for a in ln.Artifact.filter()
]
if sys.argv[1:] != ["read-only"]:
    ln.ULabel(name="written after the crash").save()  # the instance still takes writes
print(json.dumps(artifacts))
"""


def leftovers(storage: Path) -> list[str]:
    """Files under `<storage>/.lamella` other than the embedded database (empty folders are fine)."""
    managed = storage / ".lamella"
    if not managed.exists():
        return []
    return sorted(
        str(p.relative_to(managed))
        for p in managed.rglob("*")
        if p.is_file() and not p.name.startswith("lamella.db")
    )


class Child:
    """A child process saving one artifact, to be stopped at a pause point."""

    def __init__(
        self, children: Any, tmp_path: Path, mode: str, source: str, key: str, threshold: int = 0
    ) -> None:
        script = tmp_path / "child_save.py"
        script.write_text(CHILD)
        self.signals = tmp_path / f"signals-{uuid.uuid4().hex[:6]}"
        self.signals.mkdir()
        self.proc: subprocess.Popen[str] = children.popen(
            script, mode, source, key, str(self.signals), str(threshold), cwd=tmp_path
        )

    def wait_for(self, tag: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not (self.signals / tag).exists():
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                pytest.fail(
                    f"the child ended ({self.proc.returncode}) before reaching {tag!r}:\n{out}\n{err}"
                )
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the child did not reach {tag!r} within {timeout} s")
            time.sleep(0.01)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.communicate(timeout=30)  # reaped: its pid no longer counts as a live writer

    def resume(self) -> None:
        (self.signals / "continue").touch()
        out, err = self.proc.communicate(timeout=120)
        assert self.proc.returncode == 0, out + err


def inspect_in_fresh_process(children: Any, *args: str) -> list[dict[str, Any]]:
    """Connect in a new process (which sweeps interrupted saves); return its view of the artifacts."""
    proc = children.python(INSPECT, *args)
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.fixture
def local_instance(backend: str, db_url: str | None, tmp_path: Path) -> Path:
    storage = tmp_path / "data"
    ln.setup.init(storage=storage, name=f"crash-{backend}", db=db_url)
    return storage


@pytest.fixture
def sqlite_instance(tmp_path: Path) -> Path:
    storage = tmp_path / "data"
    ln.setup.init(storage=storage, name="crash")
    return storage


def big_file(path: Path, size: int) -> Path:
    block = os.urandom(MiB)
    with open(path, "wb") as fh:
        for i in range(size // MiB):
            fh.write(i.to_bytes(8, "little") + block[8:])
    return path


# --- local storage ---------------------------------------------------------------------------------


def test_killed_while_copying_leaves_nothing(sqlite_instance: Path, tmp_path: Path, children: Any) -> None:
    source = big_file(tmp_path / "big.bin", 24 * MiB)
    child = Child(children, tmp_path, "mid-copy", str(source), "big/big.bin", threshold=MiB)
    child.wait_for("copying")
    partial = leftovers(sqlite_instance)
    assert partial, "no bytes were on disk when the child was paused mid-copy"
    child.kill()

    assert inspect_in_fresh_process(children) == []
    assert leftovers(sqlite_instance) == [], "the interrupted copy left files behind"
    assert ln.Artifact.filter().count() == 0


def test_killed_while_copying_a_large_file_for_real(
    sqlite_instance: Path, tmp_path: Path, children: Any
) -> None:
    """No hooks: a 320 MB copy, killed as soon as its first bytes appear in the storage."""
    source = big_file(tmp_path / "huge.bin", 320 * MiB)
    script = tmp_path / "plain_save.py"
    script.write_text(
        "import sys, lamella as ln\nln.Artifact.filter().count()\nopen(sys.argv[3], 'w').close()\n"
        "ln.Artifact(sys.argv[1], key=sys.argv[2]).save()\n"
    )
    ready = tmp_path / "ready"
    proc = children.popen(script, str(source), "big/huge.bin", str(ready))
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() or not leftovers(sqlite_instance):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the copy did not start"
            time.sleep(0.002)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)

    artifacts = inspect_in_fresh_process(children)
    if artifacts:  # the kill came after the commit: then the record and its complete bytes must exist
        (artifact,) = artifacts
        assert Path(artifact["path"]).stat().st_size == source.stat().st_size
        assert leftovers(sqlite_instance) == [Path(artifact["path"]).name]
    else:
        assert leftovers(sqlite_instance) == [], "the interrupted copy left files behind"


def test_killed_before_the_commit_leaves_nothing(local_instance: Path, tmp_path: Path, children: Any) -> None:
    source = tmp_path / "table.csv"
    source.write_text("a,b\n1,2\n")
    child = Child(children, tmp_path, "before-commit", str(source), "tables/table.csv")
    child.wait_for("before-commit")
    assert leftovers(local_instance), "the bytes should be stored before the record commits"
    child.kill()

    assert inspect_in_fresh_process(children) == []
    assert leftovers(local_instance) == [], "the bytes of the uncommitted save were left behind"
    assert ln.Artifact.filter().count() == 0
    assert ln.ULabel.filter(name="written after the crash").count() == 1
    # and this process can save the same file afterwards (no lock or half-written row in the way)
    saved = ln.Artifact(source, key="tables/table.csv").save()
    assert leftovers(local_instance) == [Path(str(saved.path)).name]


def test_killed_right_after_the_commit_keeps_record_and_bytes(
    local_instance: Path, tmp_path: Path, children: Any
) -> None:
    source = tmp_path / "table.csv"
    source.write_text("a,b\n3,4\n")
    child = Child(children, tmp_path, "after-commit", str(source), "tables/table.csv")
    child.wait_for("after-commit")
    child.kill()

    (artifact,) = inspect_in_fresh_process(children)
    path = Path(artifact["path"])
    assert path.is_file(), "a committed record lost its bytes"
    assert hash_file(path, artifact["hash_type"])[0] == artifact["hash"]
    assert leftovers(local_instance) == [path.name]
    assert ln.Artifact.get(key="tables/table.csv").load().shape == (1, 2)


def test_killed_while_saving_a_new_version_keeps_the_old_one(
    local_instance: Path, tmp_path: Path, children: Any
) -> None:
    import pandas as pd

    v1 = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key="tables/v.parquet").save()
    # the child saves another DataFrame under the same key: a new version, numbered in the transaction
    child = Child(children, tmp_path, "before-commit", "dataframe", "tables/v.parquet")
    child.wait_for("before-commit")
    child.kill()

    artifacts = inspect_in_fresh_process(children)
    assert [(a["uid"], a["latest"]) for a in artifacts] == [(v1.uid, True)]
    assert leftovers(local_instance) == [f"{v1.uid}.parquet"]
    assert ln.Artifact.get(key="tables/v.parquet").load()["a"].tolist() == [1]
    v2 = ln.Artifact.from_dataframe(pd.DataFrame({"a": [2]}), key="tables/v.parquet").save()
    assert v2.uid == v1.stem_uid + "0001"


def test_a_save_in_progress_is_not_swept_by_another_process(
    sqlite_instance: Path, tmp_path: Path, children: Any
) -> None:
    source = tmp_path / "table.csv"
    source.write_text("a,b\n5,6\n")
    child = Child(children, tmp_path, "before-commit", str(source), "tables/live.csv")
    child.wait_for("before-commit")
    staged = leftovers(sqlite_instance)
    assert staged
    # another process connects (and sweeps) while the save is still running; on SQLite it cannot
    # write while the child holds the write lock, so it only reads
    assert inspect_in_fresh_process(children, "read-only") == []
    assert leftovers(sqlite_instance) == staged, "the sweep removed the bytes of a live save"
    child.resume()
    artifact = ln.Artifact.get(key="tables/live.csv")
    assert Path(str(artifact.path)).read_text() == "a,b\n5,6\n"
    assert leftovers(sqlite_instance) == [Path(str(artifact.path)).name]


# --- failures inside this process ------------------------------------------------------------------


@pytest.fixture
def failing_insert(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the write transaction of the next artifact save fail after the bytes are stored."""
    from lamella.models.artifact.artifact import Artifact

    def broken(self: Any, instance: Any) -> None:
        raise RuntimeError("the database refused the insert")

    monkeypatch.setattr(Artifact, "_fill_defaults", broken)


def test_failing_database_write_removes_the_copied_bytes(
    local_instance: Path, tmp_path: Path, failing_insert: None
) -> None:
    source = tmp_path / "x.txt"
    source.write_text("never recorded")
    with pytest.raises(RuntimeError, match="refused"):
        ln.Artifact(source, key="x/x.txt").save()
    assert ln.Artifact.filter().count() == 0
    assert leftovers(local_instance) == []


def test_failing_database_write_of_a_new_version_keeps_only_the_old_bytes(
    local_instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    v1 = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key="tables/v.parquet").save()
    from lamella.models.artifact.artifact import Artifact

    def broken(self: Any, instance: Any) -> None:
        raise RuntimeError("the database refused the insert")

    monkeypatch.setattr(Artifact, "_fill_defaults", broken)
    with pytest.raises(RuntimeError, match="refused"):
        ln.Artifact.from_dataframe(pd.DataFrame({"a": [2]}), key="tables/v.parquet").save()
    monkeypatch.undo()
    assert [a.uid for a in ln.Artifact.filter(key="tables/v.parquet")] == [v1.uid]
    assert ln.Artifact.get(key="tables/v.parquet").is_latest
    assert leftovers(local_instance) == [f"{v1.uid}.parquet"]
    v2 = ln.Artifact.from_dataframe(pd.DataFrame({"a": [2]}), key="tables/v.parquet").save()
    assert v2.uid.endswith("0001")


@pytest.mark.parametrize("copy", ["in the kernel", "streamed"])
def test_failing_copy_leaves_no_partial_file(
    sqlite_instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy: str
) -> None:
    from lamella._storage import copying, pipeline

    source = big_file(tmp_path / "big.bin", 24 * MiB)
    written = [0]
    if copy == "streamed":  # where the kernel cannot copy (no copy_file_range)
        monkeypatch.delattr(os, "copy_file_range", raising=False)
        original = copying._LocalSink.write

        def failing(self: Any, data: Any) -> None:
            if written[0] > 4 * MiB:
                raise OSError("disk full")
            written[0] += len(data)
            original(self, data)

        monkeypatch.setattr(copying._LocalSink, "write", failing)
    else:
        monkeypatch.setattr(pipeline, "KERNEL_CHUNK_SIZE", MiB)
        original_range = pipeline._copy_range

        def failing_range(*args: int) -> int:
            if written[0] > 4 * MiB:
                raise OSError("disk full")
            count = original_range(*args)
            written[0] += count
            return count

        monkeypatch.setattr(pipeline, "_copy_range", failing_range)
    with pytest.raises(OSError, match="disk full"):
        ln.Artifact(source, key="big/big.bin").save()
    assert ln.Artifact.filter().count() == 0
    assert leftovers(sqlite_instance) == []


# --- S3 storage ------------------------------------------------------------------------------------


@pytest.fixture
def s3_instance(s3_prefix: str) -> str:
    ln.setup.init(storage=f"s3://{BUCKET}/{s3_prefix}", name="crash-cloud")
    return s3_prefix


def bucket_keys(s3: Any, prefix: str) -> list[str]:
    return sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/").get("Contents", [])
    )


def test_s3_killed_while_uploading_leaves_no_object(
    s3_instance: str, s3: Any, tmp_path: Path, children: Any
) -> None:
    source = big_file(tmp_path / "big.bin", 12 * MiB)
    child = Child(children, tmp_path, "mid-copy", str(source), "big/big.bin", threshold=6 * MiB)
    child.wait_for("copying")
    child.kill()

    assert inspect_in_fresh_process(children) == []
    assert bucket_keys(s3, s3_instance) == [], "the interrupted upload left objects behind"
    # the parts already sent are not objects, but the bucket keeps (and bills) them until aborted
    uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=s3_instance + "/").get("Uploads", [])
    assert [u["Key"] for u in uploads] == [], "the interrupted multipart upload was never aborted"


def test_s3_killed_before_the_commit_leaves_no_object(
    s3_instance: str, s3: Any, tmp_path: Path, children: Any
) -> None:
    source = tmp_path / "table.csv"
    source.write_text("a,b\n1,2\n")
    child = Child(children, tmp_path, "before-commit", str(source), "tables/table.csv")
    child.wait_for("before-commit")
    assert any(k.endswith(".csv") for k in bucket_keys(s3, s3_instance)), "the object should be uploaded"
    child.kill()

    assert inspect_in_fresh_process(children) == []
    assert bucket_keys(s3, s3_instance) == [], "the object of the uncommitted save was left behind"


def test_s3_killed_right_after_the_commit_keeps_the_object(
    s3_instance: str, s3: Any, tmp_path: Path, children: Any
) -> None:
    source = tmp_path / "table.csv"
    source.write_text("a,b\n7,8\n")
    child = Child(children, tmp_path, "after-commit", str(source), "tables/table.csv")
    child.wait_for("after-commit")
    child.kill()

    (artifact,) = inspect_in_fresh_process(children)
    expected = f"{s3_instance}/.lamella/{artifact['uid']}.csv"
    assert bucket_keys(s3, s3_instance) == [expected], "the intent or the object is wrong after the sweep"
    assert ln.Artifact.get(key="tables/table.csv").load().shape == (1, 2)
