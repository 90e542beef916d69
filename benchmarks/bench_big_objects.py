"""Benchmark: big in-memory objects saved, `from_dataframe(df).save()` and `from_anndata(adata).save()`,
against writing the same object to a local file with its own library, measured in the same run.

    .venv/bin/python benchmarks/bench_big_objects.py [--scale small|full] [--rounds 5] [--profile]

DataFrame: 1,000,000 rows × 10 float64 columns (small: 100,000), stored as parquet. Each round
times `df.to_parquet(<file in the storage folder>)` (the baseline), then
`ln.Artifact.from_dataframe(df, key=...).save()` from the constructor to the end of the save, the two
alternating round by round (median over rounds). Target: ≤ 1.15 × the baseline.

AnnData: shards of 10,000 cells × 2,000 genes (small: 2,000 cells), X sparse CSR at 5 % density
(float32), obs with a categorical and a numeric column (the shards of `bench_mapped.py`), stored as
h5ad. Each shard times `adata.write_h5ad(<file in the storage folder>)` and
`ln.Artifact.from_anndata(adata, key=...).save()` (median per shard). Target: ≤ 1.15 × the baseline.

Every round changes one value first, so no save finds the previous one by hash; `os.sync()` and a
pause come before each timing so writeback of the last one does not land in it. Each saved
artifact's hash is checked against its stored bytes (read back, outside the timing), then the
artifact is deleted. `--profile` adds one untimed round of each under cProfile, written to
benchmarks/results/big_objects-<scale>.prof and big_objects-<scale>-h5ad.prof.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    RESULTS_DIR,
    Results,
    finish,
    init_instance,
    median,
    now,
    parse,
    parser,
    settle,
    temp_folder,
)
from _profiling import profiled


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(8 * 2**20):
            digest.update(block)
    return base64.urlsafe_b64encode(digest.digest()).decode()[:22]


def _check_and_delete(artifact: Any) -> None:
    stored = Path(str(artifact.path))
    if artifact._hash_type == "md5" and _md5(stored) != artifact.hash:
        raise SystemExit(f"hash mismatch: {artifact.hash} recorded, {_md5(stored)} stored at {stored}")
    if stored.stat().st_size != artifact.size:
        raise SystemExit(f"size mismatch: {artifact.size} recorded, {stored.stat().st_size} stored")
    artifact.delete(permanent=True)


def _shard(n_cells: int, n_genes: int, seed: int) -> Any:
    import anndata as ad
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    X = sp.random(n_cells, n_genes, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(rng.choice([f"type_{i}" for i in range(20)], n_cells)),
            "n_counts": np.asarray(X.sum(axis=1)).ravel(),
        },
        index=[f"cell_{seed}_{i}" for i in range(n_cells)],
    )
    var = pd.DataFrame(index=[f"gene_{i}" for i in range(n_genes)])
    return ad.AnnData(X=X, obs=obs, var=var)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--rounds", type=int, default=5, help="DataFrame rounds and AnnData shards")
    p.add_argument("--profile", action="store_true", help="cProfile the Lamella rounds")
    args = parse(p)
    full = args.scale == "full"
    n_rows, n_cells = (1_000_000, 10_000) if full else (100_000, 2_000)
    results = Results("big_objects", args.scale)
    print(f"big objects (scale {args.scale}): DataFrame {n_rows:,} × 10, AnnData shards {n_cells:,} × 2,000")
    with temp_folder("bigobjects", args.tmp, args.keep) as tmp:
        instance = init_instance(tmp)
        import numpy as np
        import pandas as pd

        import lamella as ln

        ln.settings.creation.artifact_silence_missing_run_warning = True
        # lazy imports (pyarrow, anndata, h5py) and the connection, outside the timings
        ln.Artifact.from_dataframe(pd.DataFrame({"a": [1.0]}), key="warmup/df.parquet").save()
        ln.Artifact.from_anndata(_shard(20, 10, 0), key="warmup/cells.h5ad").save()
        baseline_file = instance.storage / "baseline.bin"
        profile_path = RESULTS_DIR / f"big_objects-{args.scale}.prof"

        df = pd.DataFrame(np.random.default_rng(0).random((n_rows, 10)), columns=[f"c{i}" for i in range(10)])
        base, ours, constructs = [], [], []
        for index in range(args.rounds):
            settle()
            start = now()
            df.to_parquet(baseline_file)
            base.append(now() - start)
            baseline_file.unlink()

            df.iloc[0, 0] = float(index)
            settle()
            start = now()
            artifact = ln.Artifact.from_dataframe(df, key=f"bench/table{index}.parquet")
            constructed = now()
            artifact.save()
            ours.append(now() - start)
            constructs.append(constructed - start)
            _check_and_delete(artifact)
            print(f"  table round {index}: to_parquet {base[-1]:.3f} s, lamella {ours[-1]:.3f} s", flush=True)
        mb = artifact.size / 2**20
        _report(
            results,
            Timings(base, ours, constructs, "s", 1, 1),
            baseline=f"df.to_parquet() ({n_rows:,} × 10 float64, {mb:.0f} MiB)",
            ours_label="Artifact.from_dataframe(df, key=...).save()",
            ratio_label="from_dataframe().save() / to_parquet()",
            construction="serialize + hash",
            lamindb="1.30 s",
        )
        if args.profile:  # one more round, outside the timings
            df.iloc[0, 0] = -1.0
            with profiled(True, profile_path):
                ln.Artifact.from_dataframe(df, key="bench/profiled.parquet").save()
        del df

        base, ours, constructs = [], [], []
        for index in range(args.rounds):
            adata = _shard(n_cells, 2_000, index + 1)
            settle()
            start = now()
            adata.write_h5ad(baseline_file)
            base.append(now() - start)
            baseline_file.unlink()

            settle()
            start = now()
            artifact = ln.Artifact.from_anndata(adata, key=f"bench/shard{index}.h5ad")
            constructed = now()
            artifact.save()
            ours.append(now() - start)
            constructs.append(constructed - start)
            _check_and_delete(artifact)
            print(
                f"  shard {index}: write_h5ad {base[-1] * 1000:.0f} ms, lamella {ours[-1] * 1000:.0f} ms",
                flush=True,
            )
        mb = artifact.size / 2**20
        _report(
            results,
            Timings(base, ours, constructs, "ms", 1000, args.rounds),
            baseline=f"adata.write_h5ad() per shard ({n_cells:,} × 2,000 CSR 5 %, {mb:.1f} MiB)",
            ours_label="Artifact.from_anndata(adata, key=...).save() per shard",
            ratio_label="from_anndata().save() / write_h5ad()",
            construction="write + hash",
            lamindb="114 ms",
        )
        if args.profile:
            with profiled(True, profile_path.with_name(f"big_objects-{args.scale}-h5ad.prof")):
                ln.Artifact.from_anndata(_shard(n_cells, 2_000, 99), key="bench/profiled.h5ad").save()
    finish(results, args)


@dataclass
class Timings:
    """Seconds per round of the baseline, of construct + save, and of the construction alone."""

    base: list[float]
    ours: list[float]
    constructs: list[float]
    unit: str  # how the rows show them: "s" or "ms"
    scale: int  # 1 for seconds, 1000 for milliseconds
    n: int


def _report(
    results: Results,
    t: Timings,
    *,
    baseline: str,
    ours_label: str,
    ratio_label: str,
    construction: str,
    lamindb: str,
) -> None:
    """Three rows: the baseline, Lamella's construct + save (split in the note), and their ratio."""
    digits = 2 if t.unit == "s" else 0
    runs = lambda values: ", ".join(f"{v * t.scale:.{digits}f}" for v in values)  # noqa: E731
    constructed = median(t.constructs) * t.scale
    total = median(t.ours) * t.scale
    results.add(f"baseline: {baseline}", median(t.base) * t.scale, t.unit, n=t.n, note=f"runs {runs(t.base)}")
    results.add(
        ours_label,
        total,
        t.unit,
        n=t.n,
        lamindb=lamindb,
        note=f"construction ({construction}) {constructed:.3g} {t.unit}, save {total - constructed:.3g} "
        f"{t.unit}; runs {runs(t.ours)}",
    )
    results.add(
        f"  ratio {ratio_label}", median(t.ours) / median(t.base), "x", target=1.15, target_text="≤ 1.15 x"
    )


if __name__ == "__main__":
    main()
