"""The operations of the scale benchmark (issue 14), their targets, and how one is timed.

Each operation runs in a fresh `python -c` process (`child.py`): import and connect are timed apart,
the first call is the warm-up (reported), then the median of `runs` timed calls.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _scale.instances import BenchInstance

BENCH_DIR = Path(__file__).resolve().parent.parent
CHILD = f"import sys; sys.path.insert(0, {str(BENCH_DIR)!r}); from _scale.child import main; main()"
SAVE_FACTOR = 1.3  # a save into the big instance may take up to 1.3 x the same save into an empty one


@dataclass
class Operation:
    name: str  # short id (--only)
    label: str  # what the table shows
    expr: str  # the Python expression timed (`i` = run number, 0 = warm-up)
    target_ms: float | None  # None: relative (saves) or none
    target_text: str
    expect: str | None = None  # key of the manifest's expected counts the result must equal
    setup: str = ""
    informational: bool = False
    save: bool = False


def existing_key(families: int) -> str:
    family = 1007 if families > 1007 else 7
    return f"project{family % 100}/sample{family}.parquet"


def query_operations(manifest: dict[str, Any]) -> list[Operation]:
    n_now = manifest["expected"]["count_all"] + manifest.get("saved_rows", 0)
    key = existing_key(manifest["families"])
    return [
        Operation(
            "key_prefix_count",
            'filter(key__startswith="project7/").count()',
            'ln.Artifact.filter(key__startswith="project7/").count()',
            50,
            "< 50 ms",
            expect="key_prefix",
        ),
        Operation(
            "feature_range_count",
            "filter(temperature__gt=20, temperature__lt=20.5).count()",
            "ln.Artifact.filter(temperature__gt=20, temperature__lt=20.5).count()",
            100,
            "< 100 ms",
            expect="temperature_range",
        ),
        Operation(
            "ulabel_count",
            'filter(ulabels__name="label_3").count()',
            'ln.Artifact.filter(ulabels__name="label_3").count()',
            50,
            "< 50 ms",
            expect="label_3",
        ),
        Operation(
            "search",
            'list(search("sample123"))  (first page, 20)',
            'list(ln.Artifact.search("sample123"))',
            100,
            "< 100 ms",
        ),
        Operation(
            "count_all",
            "filter().count()",
            "ln.Artifact.filter().count()",
            300,
            "< 300 ms",
            expect="count_all_now",
        ),
        Operation(
            "recent_page",
            'filter(key__startswith="project7/").order_by("-created_at")[:100].to_dataframe()',
            'ln.Artifact.filter(key__startswith="project7/").order_by("-created_at")[:100].to_dataframe()',
            20,
            "< 20 ms",
        ),
        Operation(
            "features_df",
            'filter(key__startswith="project7/")[:1000].to_dataframe(include="features")',
            'ln.Artifact.filter(key__startswith="project7/")[:1000].to_dataframe(include="features")',
            50,
            "< 50 ms",
        ),
        Operation(
            "get_key",
            f'get(key="{key}")',
            f'ln.Artifact.get(key="{key}")',
            5,
            "< 5 ms",
        ),
        Operation(
            "deep_page",
            f'filter().order_by("-created_at")[{n_now - 100:,}:{n_now:,}].to_dataframe()',
            f'ln.Artifact.filter().order_by("-created_at")[{n_now - 100}:{n_now}].to_dataframe()',
            50,
            "< 50 ms (informational)",
            informational=True,
        ),
        Operation(
            "deep_page_after",
            'filter().order_by("-created_at").after(the row 200th from the end)[:100].to_dataframe()',
            'ln.Artifact.filter().order_by("-created_at").after(anchor)[:100].to_dataframe()',
            50,
            "< 50 ms",
            # the row 200th from the end, found once (by the other end of the order)
            setup='anchor = list(ln.Artifact.filter().order_by("created_at")[:200])[-1]\n',
        ),
        Operation(
            "count_estimate",
            "filter().estimate_count()",
            "ln.Artifact.filter().estimate_count()",
            300,
            "< 300 ms",
        ),
    ]


def write_save_files(folder: Path, count: int, tag: str) -> list[str]:
    """`count` small parquet files of unique content (one per save: the warm-up and the timed runs)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{tag}-{index}.parquet"
        pq.write_table(
            pa.table({"marker": [f"{tag} {index} {time.time_ns()}"], "value": [float(index)]}), path
        )
        paths.append(str(path))
    return paths


def save_operations(instance: BenchInstance, version_keys: list[str], runs: int, tag: str) -> list[Operation]:
    """`ln.Artifact(path, key=new).save()` and a new version of an existing key (one key per run)."""
    new_files = write_save_files(instance.files / "saves", runs + 1, f"{tag}-new")
    version_files = write_save_files(instance.files / "saves", runs + 1, f"{tag}-version")
    new_keys = [f"bench_saves/{tag}/new{i}.parquet" for i in range(runs + 1)]
    return [
        Operation(
            "save_new",
            "ln.Artifact(small file, key=new).save()",
            "ln.Artifact(files[i], key=keys[i]).save()",
            None,
            f"≤ {SAVE_FACTOR} × empty",
            setup=f"files = {new_files!r}\nkeys = {new_keys!r}\n",
            save=True,
        ),
        Operation(
            "save_version",
            "ln.Artifact(small file, key=existing).save()  (new version)",
            "ln.Artifact(files[i], key=keys[i]).save()",
            None,
            f"≤ {SAVE_FACTOR} × empty",
            setup=f"files = {version_files!r}\nkeys = {version_keys[: runs + 1]!r}\n",
            save=True,
        ),
    ]


def time_operation(instance: BenchInstance, op: Operation, runs: int, timeout: float) -> dict[str, Any]:
    spec = {"setup": op.setup, "expr": op.expr, "runs": runs, "target_ms": op.target_ms}
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(spec)],
            cwd=instance.folder,
            env=instance.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": f"exit code {done.returncode}: {done.stderr.strip()[-3000:]}"}
    out = dict(json.loads(lines[-1]))
    out["process_wall_s"] = wall
    return out
