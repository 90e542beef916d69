"""A short end-to-end walk through Lamella: register a DataFrame and a folder, version, query, describe.

Runs in a throw-away instance (its own LAMELLA_HOME in a temporary folder), so it never touches
your own instances: `python scripts/demo.py`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

workdir = Path(tempfile.mkdtemp(prefix="lamella-demo-"))
os.environ["LAMELLA_HOME"] = str(workdir / "home")
os.chdir(workdir)

import lamella as ln  # noqa: E402  (LAMELLA_HOME must be set first)

print(f"# working in {workdir}\n")
ln.setup.init(storage="./demo-data", name="demo")
ln.track()  # this script becomes a Transform; what it saves links to this run

print("\n# 1. a DataFrame becomes a parquet artifact")
df = ln.examples.datasets.small_dataset1(with_typo=True)
artifact = ln.Artifact.from_dataframe(df, key="my_datasets/rnaseq1.parquet").save()
print(artifact)

print("\n# 2. a folder of files becomes one artifact")
images = Path("iris_images")
images.mkdir()
for i in range(3):
    (images / f"iris-{i}.jpg").write_bytes(bytes([i]) * 100)
folder = ln.Artifact(images, key="iris_studies/study0_raw_images").save()
print(f"{folder.key}: {folder.n_files} files, {folder.size} bytes, hash {folder.hash}")

print("\n# 3. fixing a typo makes a new version under the same key")
df["perturbation"] = df["perturbation"].cat.rename_categories({"IFNJ": "IFNG"})
artifact_v2 = ln.Artifact.from_dataframe(df, key="my_datasets/rnaseq1.parquet").save()
print(artifact_v2.versions.to_dataframe()[["uid", "key", "is_latest"]])

print("\n# 4. queries")
print("latest under the key:", ln.Artifact.get(key="my_datasets/rnaseq1.parquet").uid)
print("DataFrames:", ln.Artifact.filter(otype="DataFrame").count())
print("keys under iris_studies/:", ln.Artifact.filter(key__startswith="iris_studies/").to_list("key"))

print("# 5. describe")
artifact_v2.describe()
print("loaded back:", artifact_v2.load().loc["sample2", "perturbation"])
ln.finish()
