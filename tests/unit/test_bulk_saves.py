"""`ln.save(list)`: the bytes of a batch on a bounded pool of threads, records and links in bulk."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lamella.models.artifact import batch as batch_module


def test_the_files_of_a_batch_are_copied_by_a_bounded_pool(
    ln: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella import _storage

    lock = threading.Lock()
    running, most, threads = [0], [0], set()
    original = _storage.copy_and_hash

    def tracked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            threads.add(threading.get_ident())
        try:
            time.sleep(0.01)  # long enough that the copies would all overlap on an unbounded pool
            return original(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(_storage, "copy_and_hash", tracked)
    size = batch_module.LOCAL_POOLED_MIN_SIZE
    n = 3 * batch_module.WORKERS
    paths = []
    for index in range(n):
        path = tmp_path / f"f{index:02d}.bin"
        path.write_bytes(index.to_bytes(2, "big") * (size // 2))
        paths.append(path)
    saved = ln.save([ln.Artifact(path, key=f"pool/f{i:02d}.bin") for i, path in enumerate(paths)])
    assert 1 < most[0] <= batch_module.WORKERS
    assert threading.get_ident() not in threads  # the copies ran on the pool
    assert [Path(a.path).read_bytes() for a in saved] == [p.read_bytes() for p in paths]


def test_small_local_files_and_single_saves_are_copied_by_the_calling_thread(
    ln: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella import _storage

    threads: list[int] = []
    original = _storage.copy_and_hash

    def tracked(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(_storage, "copy_and_hash", tracked)
    for index in range(4):
        (tmp_path / f"s{index}.txt").write_text(f"small {index}")
    ln.save([ln.Artifact(tmp_path / f"s{i}.txt", key=f"small/s{i}.txt") for i in range(3)])
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * batch_module.LOCAL_POOLED_MIN_SIZE)
    ln.Artifact(big, key="single/big.bin").save()
    assert threads == [threading.get_ident()] * 4


def test_a_failed_bulk_save_of_labels_leaves_them_unsaved(
    ln: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella.models.core import bulk

    def broken(records: Any) -> None:  # inside the write transaction, after the rows are inserted
        raise RuntimeError("database went away")

    labels = [ln.ULabel(name=f"label {i}") for i in range(5)]
    monkeypatch.setattr(bulk, "link_to_current_project", broken)
    with pytest.raises(RuntimeError, match="database went away"):
        ln.save(labels)
    monkeypatch.undo()
    assert ln.ULabel.filter().count() == 0
    assert [label.name for label in labels] == [f"label {i}" for i in range(5)]  # fields kept
    assert all(label.__dict__.get("id") is None for label in labels)
    ln.save(labels)
    assert ln.ULabel.filter(name__startswith="label ").count() == 5


def test_many_labels_are_linked_in_one_statement(ln: ModuleType, tmp_path: Path) -> None:
    from sqlalchemy import event

    from lamella._instance import state

    (tmp_path / "a.txt").write_text("a")
    artifact = ln.Artifact(tmp_path / "a.txt", key="a.txt").save()
    labels = ln.save([ln.ULabel(name=f"l{i}") for i in range(50)])
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement)

    engine = state.current().db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        artifact.ulabels.add(*labels[:30])
        artifact.ulabels.add(*labels)  # 30 of them are linked already
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(inserts) == 2
    assert artifact.ulabels.count() == 50


def test_a_big_batch_of_small_files_counts_them_on_one_bar(
    ln: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextlib import contextmanager

    from lamella.models.artifact import store

    bars: list[tuple[int, str, bool | None]] = []
    advanced: list[int] = []

    @contextmanager
    def recorded(total: int, description: str, unit: str = "B", *, enabled: bool | None = None) -> Any:
        bars.append((total, unit, enabled))
        yield advanced.append

    monkeypatch.setattr(store, "progress_for", recorded)
    monkeypatch.setattr(store, "PROGRESS_MIN_FILES", 5)
    for index in range(6):
        (tmp_path / f"s{index}.txt").write_text(f"small {index}")
    ln.save([ln.Artifact(tmp_path / f"s{i}.txt", key=f"bar/s{i}.txt") for i in range(6)])
    ln.save([ln.Artifact(tmp_path / f"s{i}.txt", key=f"nobar/s{i}.txt") for i in range(4)])  # duplicates
    assert bars == [(6, "files", None), (4, "files", False)]  # drawn on a terminal only; too few files
    assert advanced == [1] * 10
