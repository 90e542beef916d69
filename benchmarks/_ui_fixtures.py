"""Fixtures of the UI benchmark, saved through the public API (run as a script in the instance's env).

    python _ui_fixtures.py '{"versions": 50, "chain": 100}'

- one artifact family of `versions` versions (small parquet tables, each a real file so the page's
  preview reads it), the latest annotated with four features (a number, an integer, a string and a
  cat[ULabel]), two plain labels and a project;
- a lineage chain of `chain` steps: each step is a run (`ln.track()` of one pipeline transform) that
  reads the previous step's artifact (`cache()`, recorded as the run's input) and saves the next one,
  so the graph holds `chain` runs and `chain` artifacts.

Prints one JSON line: the uids the benchmark's URLs need.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def main() -> None:
    import pandas as pd

    import lamella as ln

    spec: dict[str, Any] = json.loads(sys.argv[1])
    ln.settings.creation.artifact_silence_missing_run_warning = True

    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="batch", dtype=int).save()
    ln.Feature(name="donor", dtype=str).save()
    ln.Feature(name="tissue", dtype=ln.ULabel).save()
    tissues = ln.save([ln.ULabel(name=f"tissue_{j}") for j in range(5)])
    plain = ln.save([ln.ULabel(name="reviewed"), ln.ULabel(name="public")])
    project = ln.Project(name="ui benchmark").save()

    key = "uibench/versions/table.parquet"
    artifact: Any = None
    for version in range(spec["versions"]):
        frame = pd.DataFrame({"version": [version] * 20, "value": [float(i) for i in range(20)]})
        artifact = ln.Artifact.from_dataframe(frame, key=key).save()
    artifact.features.add_values({"temperature": 21.5, "batch": 7, "donor": "D12", "tissue": tissues[2]})
    artifact.ulabels.add(plain)
    artifact.projects.add(project)

    transform = ln.Transform(key="uibench chain step", kind="pipeline").save()
    chain: list[str] = []
    previous: Any = None
    for step in range(spec["chain"]):
        ln.track(transform)
        if previous is not None:
            previous.cache()  # the run's input
        frame = pd.DataFrame({"step": [step]})
        previous = ln.Artifact.from_dataframe(frame, key=f"uibench/chain/step{step:04d}.parquet").save()
        chain.append(previous.uid)
        ln.finish()

    print(json.dumps({"versions_uid": artifact.uid, "versions": spec["versions"], "chain": chain}))


if __name__ == "__main__":
    main()
