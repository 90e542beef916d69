"""Warm-up workload: imports everything the benchmarks use once, so the bytecode cache is filled.

Run by `_common.setup_bytecode()`; not a benchmark.
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import clean_env, lamella_cli


def main() -> None:
    import lamella

    compileall.compile_dir(str(Path(lamella.__file__).parent), quiet=2)
    with tempfile.TemporaryDirectory(prefix="lamella-bench-warmup-") as tmp:
        env = clean_env(Path(tmp) / "home")
        subprocess.run(
            [lamella_cli(), "init", "--storage", "./data"], cwd=tmp, env=env, check=True, capture_output=True
        )
        os.environ.update(env)
        os.chdir(tmp)
        import lamella as ln

        folder = Path(tmp) / "src"
        folder.mkdir()
        for index in range(3):
            (folder / f"f{index}.txt").write_bytes(os.urandom(64))
        ln.Artifact(str(folder / "f0.txt"), key="warm/f0.txt").save()
        ln.save([ln.Artifact(str(folder / "f1.txt"), key="warm/f1.txt")])
        ln.Artifact(str(folder), key="warm/folder").save()
        ln.ULabel(name="warm").save()
        ln.save([ln.ULabel(name="warm2")])
        ln.Artifact.filter(key__startswith="warm/").count()
        ln.Artifact.get(key="warm/f0.txt")
        ln.Artifact.filter(key__startswith="warm/").to_dataframe()
        os.chdir("/")


if __name__ == "__main__":
    main()
