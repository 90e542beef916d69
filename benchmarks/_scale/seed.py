"""Seed a scale-benchmark instance through the API (run as a script in the instance's environment).

    python seed.py '{"mode": "template", "labels": 50, "key": "...", "files": "DIR"}'

mode "template": the features `temperature` (float) and `category` (cat[ULabel]), the ULabels
`label_0` .. `label_{labels-1}`, and one artifact family of two versions under `key`: version 0
annotated with `temperature` and `artifact.ulabels.add(label_0)` (a link without feature), version 1
with `temperature` and `category=label_1` (a link with the feature's id). Those rows are the
template the generator copies.

mode "empty": the artifacts that the "new version of an existing key" save needs in an otherwise
empty instance (`keys`, one small parquet file each).

Prints one JSON line with the ids the generator needs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def write_parquet(path: Path, marker: str) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"marker": [marker], "value": [1.0]}), path)
    return path


def seed(ln: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Save the rows of `spec["mode"]` through `ln` (the connected lamella); the ids saved."""
    files = Path(spec["files"])
    files.mkdir(parents=True, exist_ok=True)
    ln.settings.creation.artifact_silence_missing_run_warning = True
    out: dict[str, Any] = {}
    if spec["mode"] == "template":
        temperature = ln.Feature(name="temperature", dtype=float).save()
        category = ln.Feature(name="category", dtype=ln.ULabel).save()
        ln.save([ln.ULabel(name=f"label_{j}") for j in range(spec["labels"])])
        labels = {u.name: u.id for u in ln.ULabel.filter(name__startswith="label_")}
        key = spec["key"]
        first = ln.Artifact(str(write_parquet(files / "template-v0.parquet", "v0")), key=key).save()
        first.features.add_values({"temperature": 21.25})
        first.ulabels.add(ln.ULabel.get(name="label_0"))
        second = ln.Artifact(str(write_parquet(files / "template-v1.parquet", "v1")), key=key).save()
        second.features.add_values({"temperature": 22.5, "category": ln.ULabel.get(name="label_1")})
        out = {
            "temperature_id": temperature.id,
            "category_id": category.id,
            "category_dtype": category.dtype,
            "label_ids": labels,
            "artifact_ids": [first.id, second.id],
            "uids": [first.uid, second.uid],
        }
    else:
        ids = []
        for index, key in enumerate(spec["keys"]):
            path = write_parquet(files / f"empty-base-{index}.parquet", f"base {index}")
            ids.append(ln.Artifact(str(path), key=key).save().id)
        out = {"artifact_ids": ids}
    return out


def main() -> None:
    import lamella as ln

    print(json.dumps(seed(ln, json.loads(sys.argv[1]))))


if __name__ == "__main__":
    main()
