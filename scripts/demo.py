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

print("\n# 5. features and labels: annotate, then find datasets by what they measured")
ln.Feature(name="temperature", dtype=float).save()
ln.Feature(name="assay", dtype=ln.ULabel).save()
ln.ULabel(name="RNA-seq").save()
folder.features.add_values({"temperature": 21.6, "assay": "RNA-seq"})
print("warm RNA-seq:", ln.Artifact.filter(temperature__gt=20, assay="RNA-seq").to_list("key"))

print("\n# 6. curation: validate a DataFrame against a schema, save it annotated")
perturbation = ln.ULabel(name="Perturbation", is_type=True).save()
ln.save([ln.ULabel(name=name, type=perturbation) for name in ["DMSO", "IFNG"]])
schema = ln.Schema(
    name="rnaseq columns",
    features=[ln.Feature(name="perturbation", dtype="cat[ULabel[Perturbation]]").save()],
).save()
try:
    ln.curators.DataFrameCurator(ln.examples.datasets.small_dataset1(with_typo=True), schema).validate()
except ln.errors.ValidationError as error:
    print(f"the typo is caught:\n{error}")
# the fixed DataFrame is version 2 saved above: the same content is annotated, not stored twice
curated = ln.curators.DataFrameCurator(df, schema).save_artifact(key="my_datasets/rnaseq1.parquet")
print("datasets with IFNG:", ln.Artifact.filter(perturbation="IFNG").to_list("key"))

print("\n# 7. describe")
curated.describe()
print("loaded back:", curated.load().loc["sample2", "perturbation"])
ln.finish()
