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
        results.add(
            f"baseline: df.to_parquet() ({n_rows:,} × 10 float64, {mb:.0f} MiB)",
            median(base),
            "s",
            n=1,
            note=f"runs {', '.join(f'{t:.2f}' for t in base)}",
        )
        results.add(
            "Artifact.from_dataframe(df, key=...).save()",
            median(ours),
            "s",
            n=1,
            lamindb="1.30 s",
            note=f"construction (serialize + hash) {median(constructs):.3f} s, save "
            f"{median(ours) - median(constructs):.3f} s; runs {', '.join(f'{t:.2f}' for t in ours)}",
        )
        results.add(
            "  ratio from_dataframe().save() / to_parquet()",
            median(ours) / median(base),
            "x",
            target=1.15,
            target_text="≤ 1.15 x",
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
        ms = [t * 1000 for t in ours]
        results.add(
            f"baseline: adata.write_h5ad() per shard ({n_cells:,} × 2,000 CSR 5 %, {mb:.1f} MiB)",
            median(base) * 1000,
            "ms",
            n=args.rounds,
            note=f"runs {', '.join(f'{t * 1000:.0f}' for t in base)}",
        )
        results.add(
            "Artifact.from_anndata(adata, key=...).save() per shard",
            median(ms),
            "ms",
            n=args.rounds,
            lamindb="114 ms",
            note=f"construction (write + hash) {median(constructs) * 1000:.0f} ms, save "
            f"{median(ms) - median(constructs) * 1000:.0f} ms; runs {', '.join(f'{t:.0f}' for t in ms)}",
        )
        results.add(
            "  ratio from_anndata().save() / write_h5ad()",
            median(ours) / median(base),
            "x",
            target=1.15,
            target_text="≤ 1.15 x",
        )
        if args.profile:
            with profiled(True, profile_path.with_name(f"big_objects-{args.scale}-h5ad.prof")):
                ln.Artifact.from_anndata(_shard(n_cells, 2_000, 99), key="bench/profiled.h5ad").save()
    finish(results, args)


if __name__ == "__main__":
    main()
