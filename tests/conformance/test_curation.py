"""Curation on SQLite and on a real PostgreSQL: schemas, curators, registry validation, sample sheets.

Every test runs once per backend (`backend` + `db_url`) on a fresh instance, so both dialects are held
to the same results: the content hash that deduplicates schemas, the ordered members read back through
a correlated subquery, the raw `IN (...)` / `lower(...) IN (...)` lookups of the validation helpers
(different parameter markers per driver), labels linked by feature and queried back, and the
all-or-nothing writes of failed saves. tests/unit/test_curators.py and tests/unit/test_schemas.py have
the exhaustive checks on SQLite; here are the database-touching paths, plus a few concurrent writers.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

import lamella as ln
from lamella.errors import InvalidArgument, LamellaError, ValidationError
from workers import race_json

GENES = ["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]


# --- helpers ---------------------------------------------------------------------------------------


def init(tmp_path: Path, db_url: str | None, name: str) -> str:
    ln.setup.init(storage=tmp_path / "data", name=name, db=db_url)
    assert ln.setup.settings.instance.dialect == ("sqlite" if db_url is None else "postgresql")
    return name


def perturbations() -> Any:
    kind = ln.ULabel(name="Perturbation", is_type=True).save()
    ln.ULabel(name="DMSO", type=kind).save()
    ln.ULabel(name="IFNG", type=kind).save()
    return kind


def perturbation_schema() -> Any:
    """The schema of the acceptance scenario: three int genes and a ULabel perturbation."""
    perturbations()
    features = [ln.Feature(name=gene, dtype=int).save() for gene in GENES]
    features.append(ln.Feature(name="perturbation", dtype=ln.ULabel).save())
    return ln.Schema(name="My DataFrame schema", features=features).save()


def small_df(with_typo: bool = False) -> pd.DataFrame:
    return ln.examples.datasets.small_dataset1(with_typo=with_typo)


def frame(**columns: Any) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=[f"sample{i}" for i in range(1, n + 1)])


def validation_message(curator: Any) -> str:
    with pytest.raises(ValidationError) as info:
        curator.validate()
    return str(info.value)


def count_rows(table: str) -> int:
    """Rows of a table whatever their branch (trash included), straight from the database."""
    from sqlalchemy import table as sql_table

    from lamella._instance import state

    session = state.current().db.session()
    return int(session.execute(select(func.count()).select_from(sql_table(table))).scalar_one())


def labels_by_feature(artifact: Any, feature: str) -> set[str]:
    """The names of the ULabels linked to the artifact for a feature, read from the link table."""
    from lamella._instance import state
    from lamella.models.core.links import ArtifactULabel

    feature_id = ln.Feature.get(name=feature).id
    rows = (
        state.current()
        .db.session()
        .execute(
            select(ArtifactULabel.ulabel_id).where(
                ArtifactULabel.artifact_id == artifact.id, ArtifactULabel.feature_id == feature_id
            )
        )
    )
    return {ln.ULabel.get(id=row[0]).name for row in rows}


def stored_files(tmp_path: Path) -> set[str]:
    managed = tmp_path / "data" / ".lamella"
    return {
        str(p.relative_to(managed))
        for p in managed.rglob("*")
        if p.is_file() and not p.name.startswith("lamella.db")
    }


def names(records: Any) -> set[str]:
    return {record.name for record in records}


# --- schemas ---------------------------------------------------------------------------------------


def test_schema_members_optionals_slots_and_dedup_by_hash(
    backend: str, db_url: str | None, tmp_path: Path, reconnect: Any
) -> None:
    name = init(tmp_path, db_url, f"schemas-{backend}")
    gene_a = ln.Feature(name="gene_a", dtype=int).save()
    gene_b = ln.Feature(name="gene_b", dtype=float).save()
    perturbation = ln.Feature(name="perturbation", dtype=ln.ULabel).save()

    schema = ln.Schema(
        name="measurements", features=[perturbation, gene_a, (gene_b, {"optional": True})]
    ).save()
    assert schema.id is not None and schema.n == 3 and schema.itype == "Feature"
    assert schema.minimal_set is True and schema.maximal_set is False and schema.flexible is False
    assert [f.name for f in schema.members] == ["perturbation", "gene_a", "gene_b"]
    assert schema.members.to_list("name") == ["perturbation", "gene_a", "gene_b"]
    assert schema.members.count() == 3 and schema.members.first() == perturbation
    assert schema.members.filter(name="gene_a").one() == gene_a
    assert schema.optionals == [gene_b]
    assert count_rows("schema_feature") == 3

    # the same definition (other order, other name, optionals= spelling) is the saved schema
    same = ln.Schema(name="renamed", features=[gene_a, gene_b, perturbation], optionals=[gene_b])
    assert same.id == schema.id
    assert same.save().id == schema.id
    assert ln.Schema.filter(hash=schema.hash).count() == 1
    assert count_rows("schema") == 1 and count_rows("schema_feature") == 3

    # another definition is another schema: a member no longer optional, or an ordered set
    required = ln.Schema(name="all required", features=[perturbation, gene_a, gene_b])
    assert required.id is None and required.hash != schema.hash
    required = required.save()
    assert required.id != schema.id and required.optionals == []
    ordered = ln.Schema(features=[gene_a, gene_b], ordered_set=True).save()
    assert ln.Schema(features=[gene_a, gene_b], ordered_set=True).id == ordered.id
    assert ln.Schema(features=[gene_b, gene_a], ordered_set=True).id is None
    assert ln.Schema.filter(features=gene_a).count() == 3
    assert ln.Schema.filter(features=perturbation).count() == 2

    # a composite schema: slots by name; the same slots again are the same schema
    var = ln.Schema(name="var", itype=ln.ULabel.name, dtype=int).save()
    assert var.itype == "ULabel.name" and var.dtype == "int" and var.flexible is True and var.n == 0
    composite = ln.Schema(name="adata", otype="AnnData", slots={"obs": schema, "var": var}).save()
    assert composite.slots == {"obs": schema, "var": var}
    again = ln.Schema(name="adata", otype="AnnData", components={"obs": schema, "var": var})
    assert again.save().id == composite.id
    assert set(composite.components.all()) == {schema, var}
    other_slots = ln.Schema(name="adata", otype="AnnData", slots={"obs": required, "var": var}).save()
    assert other_slots.id != composite.id

    # what was written is what a new connection reads back
    ids = (schema.id, required.id, composite.id)
    reconnect(name)
    schema, required, composite = (ln.Schema.get(id=i) for i in ids)
    assert [f.name for f in schema.members] == ["perturbation", "gene_a", "gene_b"]
    assert [f.name for f in schema.optionals] == ["gene_b"]
    assert [f.name for f in required.members] == ["perturbation", "gene_a", "gene_b"]
    assert {slot: s.name for slot, s in composite.slots.items()} == {"obs": "measurements", "var": "var"}
    assert ln.Schema(features=list(schema.members), optionals=schema.optionals).id == schema.id


WORKER = r"""
import json
import lamella as ln

features = [ln.Feature.get(name=name) for name in ("gene_a", "gene_b", "perturbation")]
wait_for_start()
schema = ln.Schema(name=f"from worker {INDEX}", features=features).save()
label = ln.ULabel.from_values(["shared-label"], create=True)
ln.save(label)
print(json.dumps({"schema": schema.id, "label": label[0].id}))
"""


def test_concurrent_saves_of_one_schema_definition_make_one_schema(
    backend: str, db_url: str | None, tmp_path: Path, lamella_home: str
) -> None:
    init(tmp_path, db_url, f"race-{backend}")
    ln.Feature(name="gene_a", dtype=int).save()
    ln.Feature(name="gene_b", dtype=float).save()
    ln.Feature(name="perturbation", dtype=ln.ULabel).save()
    results = race_json(WORKER, tmp_path / "race", [lamella_home] * 3)
    assert len({r["schema"] for r in results}) == 1, results
    assert count_rows("schema") == 1 and count_rows("schema_feature") == 3
    schema = ln.Schema.get(id=results[0]["schema"])
    assert [f.name for f in schema.members] == ["gene_a", "gene_b", "perturbation"]
    assert ln.ULabel.filter(name="shared-label").count() == 1


# --- DataFrameCurator ------------------------------------------------------------------------------


def test_dataframe_curator_reports_typos_missing_columns_and_dtypes(
    backend: str, db_url: str | None, tmp_path: Path
) -> None:
    init(tmp_path, db_url, f"messages-{backend}")
    schema = perturbation_schema()
    ln.curators.DataFrameCurator(small_df(), schema).validate()  # raises if it does not validate

    curator = ln.curators.DataFrameCurator(small_df(with_typo=True), schema)
    message = validation_message(curator)
    assert "(1 problem)" in message and "'My DataFrame schema'" in message
    assert "column 'perturbation' (cat[ULabel]): 1 term is not validated in ln.ULabel.name: 'IFNJ'" in message
    assert "curator.cat.add_new_from('perturbation')" in message
    assert "ln.ULabel(name='IFNJ').save()" in message
    assert curator.cat.non_validated == {"perturbation": ["IFNJ"]}
    assert curator.cat.keys == ["perturbation"]
    with pytest.raises(LamellaError):
        curator.validate()

    message = validation_message(
        ln.curators.DataFrameCurator(small_df().drop(columns=["perturbation"]), schema)
    )
    assert "column 'perturbation' is missing" in message and "optional" in message

    bad = small_df(with_typo=True).drop(columns=["ENSG00000170458"])
    bad["ENSG00000153563"] = ["one", "two", "three"]
    message = validation_message(ln.curators.DataFrameCurator(bad, schema))
    assert "(3 problems)" in message
    assert "column 'ENSG00000153563': expected dtype int" in message and "'one'" in message
    assert "column 'ENSG00000170458' is missing" in message and "'IFNJ'" in message

    # case variants and synonyms are found (lower(...) IN and the synonyms scan) and standardized
    ln.ULabel.get(name="DMSO").add_synonym("dimethyl sulfoxide")
    df = small_df()
    df["perturbation"] = pd.Categorical(["dimethyl sulfoxide", "ifng", "DMSO"])
    curator = ln.curators.DataFrameCurator(df, schema)
    message = validation_message(curator)
    assert "'dimethyl sulfoxide' → 'DMSO'" in message and "'ifng' → 'IFNG'" in message
    assert "curator.cat.standardize('perturbation')" in message and "add_new_from" not in message
    curator.cat.standardize("perturbation")
    assert df["perturbation"].tolist() == ["DMSO", "IFNG", "DMSO"]
    curator.validate()

    # a flexible schema validates the registered features among the columns
    any_feature = ln.Schema(name="any feature", itype=ln.Feature).save()
    ln.curators.DataFrameCurator(small_df(), any_feature).validate()
    bad = small_df()
    bad["ENSG00000010610"] = ["x", "y", "z"]
    message = validation_message(ln.curators.DataFrameCurator(bad, any_feature))
    assert "column 'ENSG00000010610': expected dtype int" in message


def test_add_new_from_then_validate_and_typed_categoricals(
    backend: str, db_url: str | None, tmp_path: Path
) -> None:
    init(tmp_path, db_url, f"add-new-{backend}")
    schema = perturbation_schema()
    kind = ln.ULabel.get(name="Perturbation", is_type=True)
    curator = ln.curators.DataFrameCurator(small_df(with_typo=True), schema)
    assert curator.cat.non_validated == {"perturbation": ["IFNJ"]}
    curator.cat.add_new_from("perturbation")
    assert curator.cat.non_validated == {}
    curator.validate()
    assert ln.ULabel.get(name="IFNJ").type is None
    artifact = curator.save_artifact(key="with-new-label.parquet")
    assert sorted(artifact.labels.get("perturbation", flat_names=True)) == ["DMSO", "IFNJ"]

    # a typed categorical only accepts labels of its type; add_new_from creates them with the type
    treatment = ln.Feature(name="treatment", dtype="cat[ULabel[Perturbation]]").save()
    typed = ln.Schema(name="typed", features=[treatment]).save()
    curator = ln.curators.DataFrameCurator(frame(treatment=["DMSO", "IFNJ", "DMSO"]), typed)
    message = validation_message(curator)
    assert "'IFNJ'" in message and "'DMSO'" not in message.split("validated in")[1]
    assert "type=ln.ULabel.get(name='Perturbation', is_type=True)" in message
    curator.cat.add_new_from("treatment")
    curator.validate()
    assert ln.ULabel.filter(name="IFNJ").count() == 2
    assert ln.ULabel.filter(name="IFNJ", type=kind).count() == 1
    artifact = curator.save_artifact(key="typed.parquet")
    labels = artifact.labels.get("treatment")
    assert {(label.name, label.type_id) for label in labels} == {("DMSO", kind.id), ("IFNJ", kind.id)}
    assert set(ln.Artifact.filter(treatment="IFNJ").to_list("key")) == {"typed.parquet"}

    # a missing type is named; typed records validate by type
    compound = ln.Feature(name="compound", dtype="cat[ULabel[Compound]]").save()
    curator = ln.curators.DataFrameCurator(
        frame(compound=["a", "b", "a"]), ln.Schema(name="compound", features=[compound]).save()
    )
    assert "the type 'Compound' of ULabel does not exist" in validation_message(curator)
    with pytest.raises(InvalidArgument, match="Compound"):
        curator.cat.add_new_from("compound")
    sample_type = ln.Record(name="Sample", is_type=True).save()
    for sample_name in ("s1", "s2"):
        ln.Record(name=sample_name, type=sample_type).save()
    ln.Record(name="s3").save()  # not a Sample
    sample = ln.Feature(name="sample", dtype="cat[Record[Sample]]").save()
    samples = ln.Schema(name="samples", features=[sample]).save()
    message = validation_message(ln.curators.DataFrameCurator(frame(sample=["s1", "s3", "s2"]), samples))
    assert "cat[Record[Sample]]" in message and "'s3'" in message and "'s1'" not in message
    artifact = ln.curators.DataFrameCurator(frame(sample=["s1", "s2", "s1"]), samples).save_artifact(
        key="samples.parquet"
    )
    assert names(artifact.records) == {"s1", "s2"}
    assert ln.Artifact.filter(sample="s2").one() == artifact


def test_save_artifact_links_labels_by_feature(
    backend: str, db_url: str | None, tmp_path: Path, reconnect: Any
) -> None:
    name = init(tmp_path, db_url, f"annotate-{backend}")
    schema = perturbation_schema()
    df = small_df()
    curator = ln.curators.DataFrameCurator(df, schema)
    curator.validate()
    artifact = curator.save_artifact(key="my_curated_dataset.parquet")
    assert artifact.id is not None and artifact.schema == schema
    assert set(artifact.ulabels.to_list("name")) == {"DMSO", "IFNG"}
    assert ln.Artifact.get(ulabels__name="IFNG") == artifact
    assert ln.Artifact.filter(perturbation="IFNG").one() == artifact
    assert ln.Artifact.filter(perturbation="IFNJ").count() == 0
    columns = artifact.features.slots["columns"]
    assert columns == schema
    assert [f.name for f in columns.members] == [*GENES, "perturbation"]
    assert sorted(artifact.labels.get("perturbation", flat_names=True)) == ["DMSO", "IFNG"]
    assert labels_by_feature(artifact, "perturbation") == {"DMSO", "IFNG"}

    # the one-liner: validated when built, annotated when saved
    df2 = df.copy()
    df2.index = ["sample4", "sample5", "sample6"]
    df2["perturbation"] = pd.Categorical(["DMSO", "DMSO", "DMSO"])
    artifact2 = ln.Artifact.from_dataframe(df2, key="curated2.parquet", schema=schema)
    assert artifact2.id is None
    artifact2 = artifact2.save()
    assert artifact2.schema == schema and artifact2.features.slots["columns"] == schema
    assert set(artifact2.ulabels.to_list("name")) == {"DMSO"}
    assert {a.key for a in ln.Artifact.filter(perturbation="DMSO")} == {
        "my_curated_dataset.parquet",
        "curated2.parquet",
    }
    assert ln.Artifact.filter(perturbation="IFNG").one() == artifact
    assert ln.Artifact.filter(schema=schema).count() == 2
    assert schema.validated_artifacts.count() == 2

    # a validated-columns schema that differs from the curation schema (an optional column left out)
    donor = ln.Feature(name="donor", dtype=str).save()
    relaxed = ln.Schema(name="relaxed", features=[*schema.members, (donor, {"optional": True})]).save()
    artifact3 = ln.curators.DataFrameCurator(df.drop(columns=["donor"]), relaxed).save_artifact(
        key="relaxed.parquet"
    )
    assert artifact3.schema == relaxed and artifact3.features.slots["columns"] == schema
    assert ln.Artifact.filter(schema=relaxed).one() == artifact3

    uids = (artifact.uid, artifact2.uid)
    reconnect(name)
    artifact, artifact2 = ln.Artifact.get(uids[0]), ln.Artifact.get(uids[1])
    assert artifact.schema.name == "My DataFrame schema"
    assert artifact.features.slots["columns"].members.to_list("name") == [*GENES, "perturbation"]
    assert {a.key for a in ln.Artifact.filter(perturbation="IFNG")} == {
        "my_curated_dataset.parquet",
        "relaxed.parquet",
    }
    assert ln.Artifact.filter(perturbation="DMSO").count() == 3
    assert ln.Artifact.filter(perturbation="DMSO", schema=schema).count() == 2
    assert sorted(artifact.labels.get("perturbation", flat_names=True)) == ["DMSO", "IFNG"]
    assert {k: sorted(v) for k, v in artifact.features.get_values().items()} == {
        "perturbation": ["DMSO", "IFNG"]
    }
    assert ln.Artifact.filter(perturbation__in=["IFNG", "nope"]).count() == 2
    table = ln.Artifact.filter(schema=schema).to_dataframe(features=["perturbation"])
    cells = [sorted([v] if isinstance(v, str) else v) for v in table["perturbation"]]
    assert sorted(cells) == [["DMSO"], ["DMSO", "IFNG"]]
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        artifact.describe()
    assert "perturbation" in buffer.getvalue() and "IFNG" in buffer.getvalue()
    loaded = artifact.load()
    assert list(loaded.index) == ["sample1", "sample2", "sample3"]
    assert loaded["perturbation"].tolist() == ["DMSO", "IFNG", "DMSO"]


def test_failed_curator_saves_leave_no_artifact(backend: str, db_url: str | None, tmp_path: Path) -> None:
    import anndata as ad

    init(tmp_path, db_url, f"failed-{backend}")
    schema = perturbation_schema()
    obs = ln.Schema(name="obs", features=[ln.Feature.get(name="perturbation")]).save()
    composite = ln.Schema(name="adata", otype="AnnData", slots={"obs": obs}).save()
    tables = ("artifact", "artifact_schema", "artifact_ulabel", "schema", "schema_feature", "ulabel")
    before = {table: count_rows(table) for table in tables}
    files = stored_files(tmp_path)

    typo = small_df(with_typo=True)
    with pytest.raises(ValidationError, match="IFNJ"):
        ln.curators.DataFrameCurator(typo, schema).save_artifact(key="never.parquet")
    with pytest.raises(ValidationError, match="IFNJ"):
        ln.Artifact.from_dataframe(typo, key="never2.parquet", schema=schema)
    missing = small_df().drop(columns=["perturbation"])
    with pytest.raises(ValidationError, match="perturbation"):
        ln.curators.DataFrameCurator(missing, schema).save_artifact(key="never3.parquet")
    adata = ad.AnnData(typo[GENES].astype("float32"), obs=typo[["perturbation"]])
    with pytest.raises(ValidationError, match=r"obs: .*IFNJ"):
        ln.curators.AnnDataCurator(adata, composite).save_artifact(key="never.h5ad")
    with pytest.raises(ValidationError, match="IFNJ"):
        ln.Artifact.from_anndata(adata, key="never2.h5ad", schema=composite)

    assert {table: count_rows(table) for table in tables} == before
    assert ln.Artifact.filter(key__startswith="never", branch_id=None).count() == 0
    assert not ln.ULabel.filter(name="IFNJ").exists()
    assert stored_files(tmp_path) == files


def test_a_failure_while_annotating_rolls_back_the_annotation(
    backend: str, db_url: str | None, tmp_path: Path, reconnect: Any
) -> None:
    from lamella.models.features.has_features import LabelsManager

    name = init(tmp_path, db_url, f"annotation-{backend}")
    schema = perturbation_schema()
    original = LabelsManager.add

    written: list[int] = []

    def failing(self: Any, records: Any, feature: Any = None) -> None:
        original(self, records, feature=feature)  # the links are written, then the transaction fails
        written.append(count_rows("artifact_ulabel") + count_rows("artifact_schema"))
        raise RuntimeError("injected failure after linking the labels")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LabelsManager, "add", failing)
        with pytest.raises(RuntimeError, match="injected"):
            ln.curators.DataFrameCurator(small_df(), schema).save_artifact(key="half.parquet")

    # the feature sets and the labels are linked in one transaction: none of them is
    assert written == [3]  # the feature set and two labels, before the failure
    assert count_rows("artifact_schema") == 0 and count_rows("artifact_ulabel") == 0
    assert ln.Artifact.filter(perturbation="IFNG").count() == 0
    for artifact in ln.Artifact.filter(key="half.parquet", branch_id=None):
        assert artifact.features.slots == {} and artifact.ulabels.count() == 0

    # saving again gives one artifact under the key, fully annotated (the schema is fetched again:
    # test_records_loaded_before_a_failed_write_still_count_as_saved is about the object at hand)
    schema = ln.Schema.get(name="My DataFrame schema")
    artifact = ln.curators.DataFrameCurator(small_df(), schema).save_artifact(key="half.parquet")
    assert ln.Artifact.filter(key="half.parquet").count() == 1
    assert artifact.features.slots["columns"] == schema
    assert ln.Artifact.filter(perturbation="IFNG").one() == artifact
    reconnect(name)
    assert ln.Artifact.filter(perturbation="IFNG").one().key == "half.parquet"
    assert ln.Artifact.get(key="half.parquet").features.slots["columns"].name == "My DataFrame schema"


def test_records_loaded_before_a_failed_write_still_count_as_saved(
    backend: str, db_url: str | None, tmp_path: Path
) -> None:
    """A failed write rolls the session back; the feature and schema objects at hand stay usable."""
    from lamella.errors import IntegrityError

    init(tmp_path, db_url, f"after-rollback-{backend}")
    schema = perturbation_schema()
    feature = ln.Feature.get(name="perturbation")
    label = ln.ULabel.get(name="DMSO")
    with pytest.raises(IntegrityError):  # a uid that is taken: the database refuses the insert
        ln.ULabel(name="other", uid=label.uid, _skip_existing_check=True).save()
    # nothing below reads an attribute first: the objects are used as they are after the rollback
    ln.curators.DataFrameCurator(small_df(), schema).validate()
    assert ln.Schema(name="one feature", features=[feature]).save().n == 1


# --- AnnDataCurator --------------------------------------------------------------------------------


def test_anndata_curator_with_obs_and_var_slots(
    backend: str, db_url: str | None, tmp_path: Path, reconnect: Any
) -> None:
    import anndata as ad

    name = init(tmp_path, db_url, f"anndata-{backend}")
    perturbation_schema()
    df = small_df()
    obs = ln.Schema(name="my_obs_schema", features=[ln.Feature.get(name="perturbation")]).save()
    obs_only = ln.Schema(name="my_anndata_schema", otype="AnnData", slots={"obs": obs}).save()
    adata = ad.AnnData(df[GENES].astype("float32"), obs=df[["perturbation"]])
    curator = ln.curators.AnnDataCurator(adata, obs_only)
    curator.validate()
    assert set(curator.slots) == {"obs"}
    artifact = curator.save_artifact(description="my RNA-seq")
    assert artifact.otype == "AnnData" and artifact.suffix == ".h5ad" and artifact.n_observations == 3
    assert artifact.schema == obs_only
    assert artifact.features.slots == {"obs": obs}
    assert set(artifact.ulabels.to_list("name")) == {"DMSO", "IFNG"}
    assert ln.Artifact.filter(perturbation="IFNG").one() == artifact
    assert artifact.load().shape == (3, 3)

    # with a var slot validated against a registry field: problems per slot, fixed per key
    ln.save([ln.ULabel(name=gene) for gene in GENES])
    var = ln.Schema(name="var", itype=ln.ULabel.name).save()
    full = ln.Schema(name="obs and var", otype="AnnData", slots={"obs": obs, "var": var}).save()
    obs_typo = pd.DataFrame({"perturbation": pd.Categorical(["DMSO", "IFNX", "DMSO"])}, index=adata.obs_names)
    var_typo = adata.var.rename(index={"ENSG00000170458": "ENSG_NOT_VALID"})
    typo = ad.AnnData(adata.X, obs=obs_typo, var=var_typo)
    curator = ln.curators.AnnDataCurator(typo, full)
    message = validation_message(curator)
    assert "- obs: column 'perturbation' (cat[ULabel])" in message and "'IFNX'" in message
    assert "- var: index (ULabel.name)" in message and "'ENSG_NOT_VALID'" in message
    assert curator.cat.non_validated == {"obs:perturbation": ["IFNX"], "var_index": ["ENSG_NOT_VALID"]}
    curator.cat.add_new_from("obs:perturbation")
    curator.cat.add_new_from("var_index")
    curator.validate()
    artifact2 = curator.save_artifact(key="fixed.h5ad")
    assert set(artifact2.features.slots) == {"obs", "var"}
    assert set(artifact2.labels.get("perturbation", flat_names=True)) == {"DMSO", "IFNX"}

    other = adata.copy()
    other.X = other.X * 2  # other bytes: not the artifact saved above
    one_liner = ln.Artifact.from_anndata(other, key="one-line.h5ad", schema=full).save()
    assert one_liner.schema == full and set(one_liner.features.slots) == {"obs", "var"}

    reconnect(name)
    assert {a.key for a in ln.Artifact.filter(perturbation="DMSO")} == {None, "fixed.h5ad", "one-line.h5ad"}
    assert ln.Artifact.filter(perturbation="IFNX").one().key == "fixed.h5ad"


# --- validation helpers of a registry --------------------------------------------------------------


def test_validate_inspect_standardize_with_synonyms(
    backend: str, db_url: str | None, tmp_path: Path, reconnect: Any
) -> None:
    name = init(tmp_path, db_url, f"helpers-{backend}")
    perturbations()
    assert ln.ULabel.validate(["DMSO", "IFNG", "nope", "dmso"], field="name").tolist() == [
        True,
        True,
        False,
        False,
    ]
    assert ln.ULabel.validate(["DMSO"], field=ln.ULabel.name).tolist() == [True]
    result = ln.ULabel.inspect(["DMSO", "nope", "dmso", "DMSO"], field="name")
    assert result.validated == ["DMSO"] and result.non_validated == ["nope", "dmso"]
    assert result.synonyms_mapper == {"dmso": "DMSO"}

    dmso = ln.ULabel.get(name="DMSO")
    dmso.add_synonym(["dimethyl sulfoxide", "10% DMSO_v2"])
    with pytest.raises(InvalidArgument, match="already a name or synonym"):
        ln.ULabel.get(name="IFNG").add_synonym("Dimethyl sulfoxide".lower())
    reconnect(name)
    assert ln.ULabel.get(name="DMSO").synonyms == "dimethyl sulfoxide|10% DMSO_v2"

    values = ["dimethyl sulfoxide", "Dimethyl Sulfoxide", "dmso", "IFNG", "10% dmso_v2", "unknown"]
    assert ln.ULabel.standardize(values, field="name") == ["DMSO", "DMSO", "DMSO", "IFNG", "DMSO", "unknown"]
    assert ln.ULabel.standardize(values, field="name", return_mapper=True) == {
        "dimethyl sulfoxide": "DMSO",
        "Dimethyl Sulfoxide": "DMSO",
        "dmso": "DMSO",
        "10% dmso_v2": "DMSO",
    }
    assert ln.ULabel.standardize(values, field="name", case_sensitive=True) == [
        "DMSO",
        "Dimethyl Sulfoxide",
        "dmso",
        "IFNG",
        "10% dmso_v2",
        "unknown",
    ]
    assert ln.ULabel.standardize("ifng") == "IFNG"
    series = pd.Series(["dmso", "IFNG"], index=["a", "b"], name="perturbation")
    standardized = ln.ULabel.standardize(series)
    assert standardized.tolist() == ["DMSO", "IFNG"] and list(standardized.index) == ["a", "b"]
    result = ln.ULabel.inspect(["Dimethyl Sulfoxide", "IFNG"], field="name")
    assert result.synonyms_mapper == {"Dimethyl Sulfoxide": "DMSO"}

    # a synonym shared by two records: first, last, or both
    other = ln.ULabel(name="DMSO 0.1%").save()
    other.add_synonym("vehicle")
    ln.ULabel.get(name="DMSO").add_synonym("vehicle", force=True)
    assert ln.ULabel.standardize(["vehicle"], keep="first") == ["DMSO"]
    assert ln.ULabel.standardize(["vehicle"], keep="last") == ["DMSO 0.1%"]
    assert ln.ULabel.standardize(["vehicle"], keep=False) == [["DMSO", "DMSO 0.1%"]]
    ln.ULabel.get(name="DMSO").remove_synonym("vehicle")
    assert ln.ULabel.standardize(["vehicle"]) == ["DMSO 0.1%"]

    # only the main branch counts
    ln.ULabel(name="retired").save().delete()
    assert ln.ULabel.validate(["retired"], mute=True).tolist() == [False]
    assert ln.ULabel.from_values(["retired"], mute=True) == []

    # more values than one IN (...) holds: chunked, and the lowercase lookup scans once
    many = [f"value-{i}" for i in range(12_000)] + ["DMSO", "ifng"]
    flags = ln.ULabel.validate(many, mute=True)
    assert flags.sum() == 1 and bool(flags[-2]) and not bool(flags[-1])
    result = ln.ULabel.inspect(many, mute=True)
    assert result.validated == ["DMSO"] and result.synonyms_mapper == {"ifng": "IFNG"}
    assert len(result.non_validated) == 12_001


def test_from_values_finds_and_creates_records(backend: str, db_url: str | None, tmp_path: Path) -> None:
    init(tmp_path, db_url, f"from-values-{backend}")
    kind = perturbations()
    ln.ULabel.get(name="DMSO").add_synonym("dimethyl sulfoxide")
    found = ln.ULabel.from_values(["IFNG", "DMSO", "IFNG", None, float("nan")], field="name")
    assert [r.name for r in found] == ["IFNG", "DMSO"] and all(r.id is not None for r in found)
    by_synonym = ln.ULabel.from_values(["Dimethyl Sulfoxide", "ifng"], field=ln.ULabel.name)
    assert [r.name for r in by_synonym] == ["DMSO", "IFNG"]
    assert ln.ULabel.from_values([found[0].uid], field="uid") == [found[0]]
    assert ln.ULabel.from_values([found[0].uid.lower()], field="uid", mute=True) == []

    records = ln.ULabel.from_values(["DMSO", "TNF", "IL6", "TNF"], field="name", create=True)
    assert [r.name for r in records] == ["DMSO", "TNF", "IL6"]
    assert records[0].id is not None and records[1].id is None and records[2].id is None
    assert not ln.ULabel.filter(name="TNF").exists()  # created, not saved
    ln.save(records)
    assert ln.ULabel.validate(["DMSO", "TNF", "IL6"]).all()
    assert ln.ULabel.filter(name="TNF").count() == 1

    typed = ln.ULabel.from_values(["IFNG", "CCL2"], type=kind, create=True)
    assert typed[0].id is not None and typed[1].id is None and typed[1].type == kind
    ln.save(typed)
    assert set(ln.ULabel.filter(type=kind).to_list("name")) == {"DMSO", "IFNG", "CCL2"}
    other_kind = ln.ULabel(name="Cytokine", is_type=True).save()
    assert ln.ULabel.from_values(["IFNG"], type=other_kind, mute=True) == []
    again = ln.ULabel.from_values(["CCL2", "ccl2"], type=kind, create=True)
    assert [r.id for r in again] == [typed[1].id]

    # records have synonyms too
    sample_type = ln.Record(name="Sample", is_type=True).save()
    s1 = ln.Record(name="S1", type=sample_type).save()
    s1.add_synonym("sample one")
    assert ln.Record.validate(["S1", "S2"]).tolist() == [True, False]
    assert ln.Record.standardize(["sample one", "s1"]) == ["S1", "S1"]
    assert ln.Record.from_values(["sample one"], type=sample_type) == [s1]


# --- sample sheets ---------------------------------------------------------------------------------


def test_record_from_dataframe_with_typed_records_and_values(
    backend: str, db_url: str | None, tmp_path: Path, reconnect: Any
) -> None:
    name = init(tmp_path, db_url, f"sheets-{backend}")
    perturbations()
    ln.Feature(name="age", dtype=int).save()
    ln.Feature(name="height", dtype=float).save()
    ln.Feature(name="tissue", dtype=str).save()
    ln.Feature(name="visit", dtype=date).save()
    ln.Feature(name="treated", dtype=bool).save()
    ln.Feature(name="perturbation", dtype=ln.ULabel).save()
    donor_type = ln.Record(name="Donor", is_type=True).save()
    sheet = pd.DataFrame(
        {
            "name": ["D1", "D2", "D3"],
            "age": [30, 45, 60],
            "height": [1.62, 1.80, None],
            "tissue": ["lung", "liver", "lung"],
            "visit": [date(2024, 1, 15), date(2024, 3, 1), date(2025, 6, 30)],
            "treated": [True, False, True],
            "perturbation": ["DMSO", "IFNG", "DMSO"],
        }
    )
    records = ln.Record.from_dataframe(sheet, type=donor_type)
    assert [r.name for r in records] == ["D1", "D2", "D3"]
    assert all(r.id is not None and r.type == donor_type for r in records)
    assert records[1].features.get_values() == {
        "age": 45,
        "height": 1.8,
        "tissue": "liver",
        "visit": date(2024, 3, 1),
        "treated": False,
        "perturbation": "IFNG",
    }
    assert "height" not in records[2].features.get_values()  # a missing cell is no value

    assert names(ln.Record.filter(age__gt=40)) == {"D2", "D3"}
    assert names(ln.Record.filter(age__gte=30, age__lt=60)) == {"D1", "D2"}
    assert names(ln.Record.filter(type=donor_type, age__gt=40, tissue="lung")) == {"D3"}
    assert names(ln.Record.filter(height__lt=1.7)) == {"D1"}
    assert names(ln.Record.filter(visit__gt=date(2024, 2, 1))) == {"D2", "D3"}
    assert names(ln.Record.filter(treated=True)) == {"D1", "D3"}
    assert names(ln.Record.filter(perturbation="DMSO")) == {"D1", "D3"}
    assert names(donor_type.records) == {"D1", "D2", "D3"}

    # names from the index, another type: same names are other records
    sample_type = ln.Record(name="Sample", is_type=True).save()
    samples = ln.Record.from_dataframe(
        pd.DataFrame({"age": [1, 2]}, index=pd.Index(["D1", "S2"])), type=sample_type
    )
    assert [r.name for r in samples] == ["D1", "S2"] and samples[0].id != records[0].id
    assert ln.Record.filter(name="D1").count() == 2
    assert names(ln.Record.filter(type=sample_type, age__gt=1)) == {"S2"}

    # the same sheet again updates the named rows instead of duplicating them
    sheet.loc[0, "age"] = 31
    again = ln.Record.from_dataframe(sheet, type=donor_type)
    assert [r.id for r in again] == [r.id for r in records]
    assert ln.Record.filter(type=donor_type).count() == 3
    reconnect(name)
    assert ln.Record.get(name="D1", type=donor_type.id).features.get_values()["age"] == 31
    assert names(ln.Record.filter(age__gt=30, age__lt=40)) == {"D1"}
    assert names(ln.Record.filter(age=30)) == set()


def test_record_sheet_with_a_bad_cell_writes_nothing(
    backend: str, db_url: str | None, tmp_path: Path
) -> None:
    init(tmp_path, db_url, f"bad-sheet-{backend}")
    perturbations()
    ln.Feature(name="age", dtype=int).save()
    ln.Feature(name="perturbation", dtype="cat[ULabel[Perturbation]]").save()
    donor_type = ln.Record(name="Donor", is_type=True).save()
    before = {table: count_rows(table) for table in ("record", "ulabel")}

    bad_cell = pd.DataFrame({"name": ["D1", "D2", "D3"], "age": [30, "forty", 50]})
    with pytest.raises(ValidationError, match=r"row 1 \(D2\)"):
        ln.Record.from_dataframe(bad_cell, type=donor_type)
    unknown_label = pd.DataFrame({"name": ["D1", "D2"], "perturbation": ["DMSO", "IFNX"]})
    with pytest.raises(ValidationError, match="IFNX"):
        ln.Record.from_dataframe(unknown_label, type=donor_type)
    unknown_column = pd.DataFrame({"name": ["D1"], "age": [30], "weight": [70]})
    with pytest.raises(ValidationError, match="columns without a feature: 'weight'"):
        ln.Record.from_dataframe(unknown_column, type=donor_type)
    with pytest.raises(InvalidArgument, match="saved record type"):
        ln.Record.from_dataframe(bad_cell, type=ln.Record(name="Unsaved", is_type=True))

    assert {table: count_rows(table) for table in ("record", "ulabel")} == before
    assert not ln.Record.filter(name__in=["D1", "D2", "D3"]).exists()
    records = ln.Record.from_dataframe(unknown_label.replace({"IFNX": "IFNG"}), type=donor_type)
    assert names(ln.Record.filter(perturbation="IFNG")) == {"D2"} and len(records) == 2
