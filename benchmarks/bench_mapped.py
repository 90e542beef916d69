"""Benchmark: `MappedCollection` (what `collection.mapped()` returns) reading AnnData shards.

    .venv/bin/python benchmarks/bench_mapped.py [--scale small|full] [--data DIR]

Workload (full scale): 10 `.h5ad` shards × 10,000 cells × 2,000 genes, X sparse CSR at 5 % density,
float32, one categorical obs column (`cell_type`, encoded). Small scale: 10 shards × 2,000 cells.
The shards are written once into `--data` (default `benchmarks/results/mapped-shards-<scale>/`,
gitignored) and reused while their parameters match.

Measured, each in its own child process (so each peak RSS is its own):

| measurement | target |
|---|---|
| random single items `ds[i]` | ≥ 5,000 samples/s |
| `DataLoader(ds, batch_size=256, shuffle=True)`, default collate, no worker | ≥ 20,000 samples/s |
| the same with `num_workers=2` | ≥ 30,000 samples/s |
| peak RSS of a process reading a whole epoch through `__getitems__` (no torch) | < 300 MB |

Also reported: `__getitems__` and `read_batch` alone (no torch: what the default collate adds shows
as the difference), and the collate-free path, `DataLoader(ds, sampler=BatchSampler(...),
batch_size=None)`, where each `ds[list]` is one batch of arrays.

The physical bar is a raw h5py read of the same rows, in the same run: per row, its two indptr
values, then its slices of data and indices, placed into a dense batch with numpy (what a hand-written
loader does, in the increasing order h5py likes). The table gives the loader's ratio to it. Importing
torch alone takes ~240 MB of RSS, so the DataLoader rows report their RSS above that baseline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS_DIR, Results, finish, parse, parser

BATCH = 256
SEED = 0


def _vm_hwm_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _children_hwm_mb() -> list[float]:
    """Peak RSS of this process's live children (DataLoader workers)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            if parent == me:
                found.append(_vm_hwm_mb(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


# ---- the shards -------------------------------------------------------------------------------------


def write_shards(folder: Path, n_shards: int, n_cells: int, n_genes: int, density: float) -> list[Path]:
    params = {"n_shards": n_shards, "n_cells": n_cells, "n_genes": n_genes, "density": density, "v": 1}
    marker = folder / "params.json"
    paths = [folder / f"shard{i:02d}.h5ad" for i in range(n_shards)]
    if marker.exists() and json.loads(marker.read_text()) == params and all(p.exists() for p in paths):
        return paths
    import anndata as ad
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    folder.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    rng = np.random.default_rng(SEED)
    genes = pd.DataFrame(index=[f"gene{i}" for i in range(n_genes)])
    kinds = np.array(["T cell", "B cell", "NK cell", "monocyte", "unknown"], dtype=object)
    started = time.perf_counter()
    for path in paths:
        X = sp.random(n_cells, n_genes, density=density, format="csr", dtype=np.float32, random_state=rng)
        X.data *= 10
        obs = pd.DataFrame({"cell_type": pd.Categorical(rng.choice(kinds, n_cells))})
        obs.index = [f"{path.stem}_{i}" for i in range(n_cells)]
        ad.AnnData(X, obs=obs, var=genes).write_h5ad(path)
    marker.write_text(json.dumps(params))
    print(f"  (wrote {n_shards} shards in {time.perf_counter() - started:.1f} s to {folder})", flush=True)
    return paths


# ---- children: each measures one thing and prints one JSON line ----------------------------------------


def child_single(paths: list[str], n_reads: int) -> dict[str, Any]:
    import numpy as np

    from lamella._loaders import MappedCollection

    started = time.perf_counter()
    ds = MappedCollection(paths, obs_keys=["cell_type"])
    construct = time.perf_counter() - started
    picks = np.random.default_rng(SEED).integers(0, len(ds), n_reads).tolist()
    for i in picks[:200]:  # warm-up
        ds[i]
    started = time.perf_counter()
    for i in picks:
        ds[i]
    seconds = time.perf_counter() - started
    return {"rate": n_reads / seconds, "construct": construct, "rss": _vm_hwm_mb()}


def child_raw_single(paths: list[str], n_reads: int, n_cells: int) -> dict[str, Any]:
    import h5py
    import numpy as np

    files = [h5py.File(p, "r") for p in paths]
    parts = [(f["X/indptr"], f["X/data"], f["X/indices"]) for f in files]
    n_genes = int(files[0]["X"].attrs["shape"][1])
    picks = np.random.default_rng(SEED).integers(0, len(paths) * n_cells, n_reads).tolist()
    started = time.perf_counter()
    for i in picks:
        indptr, data, indices = parts[i // n_cells]
        start, stop = indptr[i % n_cells : i % n_cells + 2]
        row = np.zeros(n_genes, dtype=np.float32)
        row[indices[start:stop]] = data[start:stop]
    return {"rate": n_reads / (time.perf_counter() - started)}


def _batches(n_obs: int, n_samples: int) -> list[Any]:
    import numpy as np

    order = np.random.default_rng(SEED).permutation(n_obs)[:n_samples]
    return [order[i : i + BATCH] for i in range(0, len(order), BATCH)]


def child_getitems(paths: list[str], n_samples: int) -> dict[str, Any]:
    """A whole epoch of `__getitems__` batches: the loader's own memory, without torch."""
    from lamella._loaders import MappedCollection

    ds = MappedCollection(paths, obs_keys=["cell_type"])
    batches = _batches(len(ds), n_samples)
    ds.__getitems__(batches[0].tolist())
    started = time.perf_counter()
    for batch in batches:
        ds.__getitems__(batch.tolist())
    getitems = time.perf_counter() - started
    started = time.perf_counter()
    for batch in batches:
        ds.read_batch(batch)
    read_batch = time.perf_counter() - started
    n = sum(len(b) for b in batches)
    return {"rate": n / getitems, "read_batch_rate": n / read_batch, "rss": _vm_hwm_mb()}


def child_raw_batches(paths: list[str], n_samples: int, n_cells: int) -> dict[str, Any]:
    """Raw h5py, same rows and batches: per row its indptr pair, data and indices, into a dense batch."""
    import h5py
    import numpy as np

    files = [h5py.File(p, "r") for p in paths]
    parts = [(f["X/indptr"], f["X/data"], f["X/indices"]) for f in files]
    n_genes = int(files[0]["X"].attrs["shape"][1])
    batches = _batches(len(paths) * n_cells, n_samples)
    started = time.perf_counter()
    for batch in batches:
        out = np.zeros((len(batch), n_genes), dtype=np.float32)
        for position in np.argsort(batch, kind="stable").tolist():  # increasing rows per shard
            shard, row = divmod(int(batch[position]), n_cells)
            indptr, data, indices = parts[shard]
            start, stop = indptr[row : row + 2]
            out[position, indices[start:stop]] = data[start:stop]
    n = sum(len(b) for b in batches)
    return {"rate": n / (time.perf_counter() - started), "rss": _vm_hwm_mb()}


def child_dataloader(paths: list[str], n_samples: int, workers: int, fast: bool = False) -> dict[str, Any]:
    import torch
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler

    from lamella._loaders import MappedCollection

    torch.set_num_threads(1)
    baseline = _vm_hwm_mb()
    ds = MappedCollection(paths, obs_keys=["cell_type"], parallel=workers > 0)
    if fast:  # whole batches from ds[list]: arrays, converted to tensors without a per-item collate
        sampler = BatchSampler(RandomSampler(ds), batch_size=BATCH, drop_last=False)
        loader = DataLoader(ds, sampler=sampler, batch_size=None, num_workers=workers)
    else:
        loader = DataLoader(
            ds, batch_size=BATCH, shuffle=True, num_workers=workers, persistent_workers=workers > 0
        )
    iterator = iter(loader)
    next(iterator)  # warm-up: workers started, files opened
    started = time.perf_counter()
    seen = 0
    worker_rss: list[float] = []
    for batch in iterator:
        seen += len(batch["X"])
        if seen >= n_samples:
            break
    seconds = time.perf_counter() - started
    if workers:
        worker_rss = _children_hwm_mb()
    return {
        "rate": seen / seconds,
        "rss": _vm_hwm_mb(),
        "torch_baseline": baseline,
        "workers_rss": worker_rss,
    }


def _run_child(kind: str, *args: Any) -> dict[str, Any]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps([kind, *args])],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"child {kind} failed:\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


CHILDREN = {
    "single": child_single,
    "raw_single": child_raw_single,
    "getitems": child_getitems,
    "raw_batches": child_raw_batches,
    "dataloader": child_dataloader,
}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        kind, *args = json.loads(sys.argv[2])
        print(json.dumps(CHILDREN[kind](*args)), flush=True)
        return
    p = parser(__doc__)
    p.add_argument("--data", default=None, help="folder of the shards (written once, then reused)")
    p.add_argument("--samples", type=int, default=None, help="samples per measurement (default: one epoch)")
    args = parse(p)
    full = args.scale == "full"
    n_shards, n_cells, n_genes, density = 10, (10_000 if full else 2_000), 2_000, 0.05
    n_obs = n_shards * n_cells
    samples = args.samples or n_obs
    single_reads = min(samples, 20_000)
    results = Results("mapped", args.scale)
    print(
        f"mapped (scale {args.scale}: {n_shards} h5ad shards × {n_cells:,} cells × {n_genes:,} genes, CSR {density:.0%})"
    )
    folder = Path(args.data) if args.data else RESULTS_DIR / f"mapped-shards-{args.scale}"
    paths = [str(p) for p in write_shards(folder, n_shards, n_cells, n_genes, density)]

    single = _run_child("single", paths, single_reads)
    raw_single = _run_child("raw_single", paths, single_reads, n_cells)
    results.add("MappedCollection(10 shards, obs_keys=['cell_type'])", single["construct"], "s")
    results.add(
        "random ds[i]",
        single["rate"],
        "samples/s",
        n=single_reads,
        target=5_000,
        at_least=True,
        note=f"raw h5py row read {raw_single['rate']:,.0f}/s (ratio {single['rate'] / raw_single['rate']:.2f})",
    )
    getitems = _run_child("getitems", paths, samples)
    raw = _run_child("raw_batches", paths, samples, n_cells)
    results.add(
        "raw h5py, same rows in batches of 256 (the bar)",
        raw["rate"],
        "samples/s",
        n=samples,
        note=f"peak RSS {raw['rss']:.0f} MB (h5py's chunk cache, 8 MiB per dataset, ends up holding X)",
    )
    results.add(
        "__getitems__(256 random), no torch",
        getitems["rate"],
        "samples/s",
        n=samples,
        note=f"ratio to raw h5py {getitems['rate'] / raw['rate']:.2f}; read_batch {getitems['read_batch_rate']:,.0f}/s",
    )
    results.add(
        "peak RSS, an epoch of __getitems__ (no torch)",
        getitems["rss"],
        "MB",
        n=samples,
        target=300,
    )
    try:
        import torch  # noqa: F401 - only whether it is there: the DataLoader rows need it
    except ImportError:
        results.add("DataLoader rows", None, "samples/s", note="torch is not installed: pip install torch")
        finish(results, args)
        return
    for workers, target in ((0, 20_000), (2, 30_000)):
        loaded = _run_child("dataloader", paths, samples, workers)
        rss_note = f"RSS {loaded['rss']:.0f} MB (torch import alone {loaded['torch_baseline']:.0f} MB)"
        if loaded["workers_rss"]:
            rss_note += ", workers " + " / ".join(f"{r:.0f}" for r in loaded["workers_rss"]) + " MB"
        results.add(
            f"DataLoader(batch_size=256, shuffle=True, num_workers={workers})",
            loaded["rate"],
            "samples/s",
            n=samples,
            target=target,
            at_least=True,
            note=f"ratio to raw h5py {loaded['rate'] / raw['rate']:.2f}; {rss_note}",
        )
    fast = _run_child("dataloader", paths, samples, 0, True)
    results.add(
        "DataLoader(batch_size=None, sampler=BatchSampler(RandomSampler, 256)), ds[list]",
        fast["rate"],
        "samples/s",
        n=samples,
        note=f"no per-item collate; ratio to raw h5py {fast['rate'] / raw['rate']:.2f}",
    )
    finish(results, args)


if __name__ == "__main__":
    main()
