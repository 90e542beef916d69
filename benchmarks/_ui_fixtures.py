"""Fixtures of the UI benchmark, saved through the public API (run as a script in the instance's env).

    python _ui_fixtures.py '{"versions": 50, "chain": 100}'

- one artifact family of `versions` versions (small parquet tables, each a real file so the page's
  preview reads it), the latest annotated with four features (a number, an integer, a string and a
  cat[ULabel]), two plain labels and a project;
- a lineage graph of about 2 × `chain` nodes within two steps of one artifact: `chain - 1` runs
  each save one input, and a last run reads them all (`cache()`, recorded as its inputs) and saves
  the focus artifact (the lineage page shows at most 10 steps either way: a graph this size is wide
  rather than deep).

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

    source = ln.Transform(key="uibench source", kind="pipeline").save()
    inputs: list[Any] = []
    for step in range(spec["chain"] - 1):
        ln.track(source)
        frame = pd.DataFrame({"step": [step]})
        inputs.append(ln.Artifact.from_dataframe(frame, key=f"uibench/inputs/{step:04d}.parquet").save())
        ln.finish()
    ln.track(ln.Transform(key="uibench merge", kind="pipeline").save())
    for made in inputs:
        made.cache()  # the run's inputs
    focus = ln.Artifact.from_dataframe(
        pd.DataFrame({"n": [len(inputs)]}), key="uibench/merged.parquet"
    ).save()
    ln.finish()

    print(
        json.dumps(
            {
                "versions_uid": artifact.uid,
                "versions": spec["versions"],
                "focus": focus.uid,
                "chain": spec["chain"],
            }
        )
    )


if __name__ == "__main__":
    main()
