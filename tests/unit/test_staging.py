"""In-memory data is written once, when the artifact is made, to its staged file in the storage's
staging area (`<storage>/.lamella/_pending`, named after the artifact's uid and its process), which the
save renames into place; no staged file outlives the artifact it was written for: rejected arguments
write nothing, a failed save or a garbage-collected artifact removes its file, and the next connect
removes the files of dead processes (never those of a live one). Staging in `<cache>/_staging` (for
cloud storage) is swept the same way."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from lamella.errors import InvalidArgument


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"gene": ["a", "b", "c"], "count": [1, 2, 3]})


@pytest.fixture
def staging(ln: ModuleType, storage_root: Path) -> Path:
    return storage_root / ".lamella" / "_pending"


def files_under(*roots: Path) -> set[str]:
    """Every file below the roots, without the embedded database (its journal comes and goes)."""
    return {
        str(path)
        for root in roots
        if root.exists()
        for path in root.rglob("*")
        if path.is_file() and not path.name.startswith("lamella.db")
    }


def staged(staging: Path) -> list[str]:
    return sorted(p.name for p in staging.iterdir()) if staging.exists() else []


# ---- arguments are checked before anything is written ----------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"key": "../x.parquet"},
        {"key": ""},
        {"key": "tables/x.txt"},  # no DataFrame format has this suffix
        {"key": "tables/x.parquet", "format": "csv"},
        {"key": "tables/x.parquet", "format": "feather"},
        {},  # neither a key nor a description nor a run
        {"key": "tables/x.parquet", "colour": "red"},  # not a field of Artifact
        {"key": "tables/x.parquet", "kind": "image"},
    ],
    ids=["dotdot", "empty", "suffix", "format-suffix", "format", "no-key", "unknown-field", "kind"],
)
def test_rejected_arguments_write_no_file(
    ln: ModuleType, frame: pd.DataFrame, home: Path, storage_root: Path, arguments: dict[str, Any]
) -> None:
    before = files_under(home, storage_root)
    with pytest.raises(InvalidArgument):
        ln.Artifact.from_dataframe(frame, **arguments)
    assert files_under(home, storage_root) == before


def test_rejected_key_of_an_anndata_writes_no_file(ln: ModuleType, home: Path, storage_root: Path) -> None:
    import anndata
    import numpy as np

    adata = anndata.AnnData(np.ones((3, 2), dtype="float32"))
    before = files_under(home, storage_root)
    with pytest.raises(InvalidArgument, match="suffix"):
        ln.Artifact.from_anndata(adata, key="x.parquet")
    assert files_under(home, storage_root) == before


def test_failure_after_writing_removes_the_staged_file(
    ln: ModuleType, frame: pd.DataFrame, staging: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella.models.artifact.artifact import Artifact

    def broken(self: Any, curator: Any) -> Any:
        raise RuntimeError("annotation failed")

    monkeypatch.setattr(Artifact, "_annotate_on_save", broken)
    with pytest.raises(RuntimeError, match="annotation failed"):
        ln.Artifact.from_dataframe(frame, key="tables/x.parquet")
    assert staged(staging) == []


def test_a_failing_writer_leaves_no_partial_file(
    ln: ModuleType, frame: pd.DataFrame, staging: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_written(self: Any, target: Any, **kwargs: Any) -> None:
        if isinstance(target, str | os.PathLike):
            Path(target).write_bytes(b"PAR1 half")
        else:  # a file object: the DataFrame is written straight into storage
            target.write(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_written)
    with pytest.raises(Exception, match="disk full"):
        ln.Artifact.from_dataframe(frame, key="tables/x.parquet")
    assert staged(staging) == []
    assert staged(Path(ln.settings.cache_dir) / "_staging") == []


# ---- the staged file of an artifact in this process -------------------------------------------------


def test_staged_file_is_named_after_its_artifact_and_process(
    ln: ModuleType, frame: pd.DataFrame, staging: Path
) -> None:
    artifact = ln.Artifact.from_dataframe(frame, key="tables/x.parquet")
    (name,) = staged(staging)
    assert name.startswith(f"{artifact.uid}~") and name.endswith(f"~{os.getpid()}.parquet")
    assert artifact.size == (staging / name).stat().st_size and artifact.n_observations == 3
    assert staged(Path(ln.settings.cache_dir) / "_staging") == []  # written once, in its place


def test_garbage_collected_artifact_removes_its_staged_file(
    ln: ModuleType, frame: pd.DataFrame, staging: Path
) -> None:
    artifact = ln.Artifact.from_dataframe(frame, key="tables/x.parquet")
    assert len(staged(staging)) == 1
    del artifact
    gc.collect()
    assert staged(staging) == []


def test_failed_save_removes_the_staged_file_and_a_retry_still_saves(
    ln: ModuleType, frame: pd.DataFrame, staging: Path, managed_files: Callable[[], list[str]]
) -> None:
    from sqlalchemy import event

    from lamella._instance import state

    engine = state.current().db.engine

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ARTIFACT"):
            raise RuntimeError("simulated database failure")

    artifact = ln.Artifact.from_dataframe(frame, key="tables/x.parquet")
    event.listen(engine, "before_cursor_execute", refuse)
    try:
        with pytest.raises(Exception, match="simulated"):
            artifact.save()
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert staged(staging) == []
    assert managed_files() == []

    artifact.save()
    pd.testing.assert_frame_equal(ln.Artifact.get(key="tables/x.parquet").load(), frame)
    assert staged(staging) == []


# ---- the connect-time sweep -------------------------------------------------------------------------


def test_sweep_removes_files_of_dead_and_stale_owners_only(ln: ModuleType, tmp_path: Path) -> None:
    from lamella._storage import staging as staging_module

    cache = tmp_path / "cache"
    folder = cache / "_staging"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead_pid = int(dead.stdout)
    host = staging_module.HOST
    day = 24 * 3600
    names = {
        f"aaaa~{host}~{dead_pid}.parquet": ("removed", 0),
        f"bbbb~{host}~{os.getpid()}.parquet": ("kept", 30 * day),  # live, however old
        f"cccc~{host}~{dead_pid}.zarr": ("removed", 0),  # a folder
        f"dddd~other-host~{dead_pid}.parquet": ("kept", 0),  # maybe alive: another machine
        f"eeee~other-host~{dead_pid}.parquet": ("removed", 2 * day),
        "ffff.parquet": ("kept", 0),  # written by an older version: removed once stale
        "gggg.parquet": ("removed", 2 * day),
    }
    for name, (_, age) in names.items():
        path = folder / name
        if name.endswith(".zarr"):
            (path / "X").mkdir(parents=True)
            (path / "X" / "0.0").write_bytes(b"chunk")
        else:
            path.write_bytes(b"staged")
        os.utime(path, (time.time() - age, time.time() - age))
    cached_copy = cache / "bucket" / "tables" / "cached.parquet"  # a downloaded artifact: not staged
    cached_copy.parent.mkdir(parents=True)
    cached_copy.write_bytes(b"cached")
    os.utime(cached_copy, (time.time() - 30 * day, time.time() - 30 * day))

    assert staging_module.sweep_staging(folder) == 4
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        name for name, (fate, _) in names.items() if fate == "kept"
    )
    assert cached_copy.read_bytes() == b"cached"


CONNECT = "import lamella as ln\nln.Artifact.filter().count()\n"


def test_killed_after_construction_leaves_a_file_the_next_connect_removes(
    ln: ModuleType, staging: Path, run_python: Callable[[str], subprocess.CompletedProcess[str]]
) -> None:
    killed = run_python(
        CONNECT + "import os, pandas as pd\n"
        "artifact = ln.Artifact.from_dataframe(pd.DataFrame({'a': range(100_000)}), key='t/big.parquet')\n"
        "os.kill(os.getpid(), 9)\n"
    )
    assert killed.returncode == -9, killed.stderr
    assert len(staged(staging)) == 1, "the killed process should have left its staged file"

    connected = run_python(CONNECT)
    assert connected.returncode == 0, connected.stderr
    assert staged(staging) == []
    assert ln.Artifact.filter().count() == 0


def test_normal_exit_removes_the_staged_file_of_an_unsaved_artifact(
    ln: ModuleType, staging: Path, run_python: Callable[[str], subprocess.CompletedProcess[str]]
) -> None:
    done = run_python(
        CONNECT + "import pandas as pd\n"
        "artifact = ln.Artifact.from_dataframe(pd.DataFrame({'a': [1]}), key='t/unsaved.parquet')\n"
        "assert len(list(artifact.__dict__['_source'].staged.parent.iterdir())) == 1\n"
    )
    assert done.returncode == 0, done.stderr
    assert staged(staging) == []


def test_killed_while_writing_leaves_files_the_next_connect_removes(
    ln: ModuleType,
    staging: Path,
    managed_files: Callable[[], list[str]],
    run_python: Callable[[str], subprocess.CompletedProcess[str]],
) -> None:
    killed = run_python(
        CONNECT + "import os, numpy as np, pandas as pd\n"
        "from lamella._storage import copying\n"
        "original = copying._LocalSink.write\n"
        "def write_then_die(self, data):\n"
        "    original(self, data)\n"
        "    os.kill(os.getpid(), 9)\n"
        "copying._LocalSink.write = write_then_die\n"
        "original_range = copying.pipeline._copy_range\n"  # a local copy the kernel makes
        "def copy_then_die(*args):\n"
        "    original_range(*args)\n"
        "    os.kill(os.getpid(), 9)\n"
        "copying.pipeline._copy_range = copy_then_die\n"
        "df = pd.DataFrame(np.random.default_rng(0).random((400_000, 4)), columns=list('abcd'))\n"
        "ln.Artifact.from_dataframe(df, key='t/big.parquet').save()\n"
    )
    assert killed.returncode == -9, killed.stderr
    assert len(staged(staging)) == 1
    assert managed_files(), "the write into the storage should have begun"

    connected = run_python(CONNECT)
    assert connected.returncode == 0, connected.stderr
    assert staged(staging) == []
    assert managed_files() == []
    assert ln.Artifact.filter().count() == 0


LIVE = """
import time
from pathlib import Path
import lamella as ln
import pandas as pd

ln.Artifact.filter().count()
artifact = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1, 2]}), key="t/live.parquet")
Path("constructed").touch()
deadline = time.time() + 60
while not Path("continue").exists() and time.time() < deadline:
    time.sleep(0.02)
artifact.save()
"""


def test_a_live_process_keeps_its_staged_file_when_another_connects(
    ln: ModuleType,
    home: Path,
    tmp_path: Path,
    staging: Path,
    run_python: Callable[[str], subprocess.CompletedProcess[str]],
) -> None:
    env = {**os.environ, "LAMELLA_HOME": str(home)}
    env.pop("LAMELLA_CACHE_DIR", None)
    child = subprocess.Popen(
        [sys.executable, "-c", LIVE], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "constructed").exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child did not construct its artifact"
            time.sleep(0.02)
        before = staged(staging)
        assert len(before) == 1

        connected = run_python(CONNECT)
        assert connected.returncode == 0, connected.stderr
        assert staged(staging) == before, "another process's connect removed a live staged file"
    finally:
        (tmp_path / "continue").touch()
        _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert ln.Artifact.get(key="t/live.parquet").load()["a"].tolist() == [1, 2]
    assert staged(staging) == []
