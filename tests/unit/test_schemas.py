"""Schemas: construction, members in order, optional members, the content hash, slots and itypes."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select

from lamella._instance import state
from lamella.errors import InvalidArgument


@pytest.fixture
def features(ln: ModuleType) -> list[Any]:
    return [
        ln.Feature(name="gene_a", dtype=int).save(),
        ln.Feature(name="gene_b", dtype=float).save(),
        ln.Feature(name="perturbation", dtype=ln.ULabel).save(),
    ]


def _links(schema: Any) -> list[tuple[int, int, bool]]:
    from lamella.models.core.links import SchemaFeature

    session = state.current().db.session()
    rows = session.execute(
        select(SchemaFeature.feature_id, SchemaFeature.position, SchemaFeature.is_optional)
        .where(SchemaFeature.schema_id == schema.id)
        .order_by(SchemaFeature.position)
    )
    return [tuple(row) for row in rows]


# ---- construction and members -----------------------------------------------------------------------


def test_schema_of_features_has_n_itype_and_members_in_order(ln: ModuleType, features: list[Any]) -> None:
    schema = ln.Schema(name="s", features=[features[2], features[0], features[1]]).save()
    assert schema.id is not None and schema.n == 3 and schema.itype == "Feature"
    assert schema.minimal_set is True and schema.maximal_set is False and schema.ordered_set is False
    assert [f.name for f in schema.members] == ["perturbation", "gene_a", "gene_b"]
    assert [f.name for f in list(schema.members)] == ["perturbation", "gene_a", "gene_b"]
    assert schema.members.count() == 3  # a QuerySet
    assert schema.members.filter(name="gene_a").one() == features[0]
    assert [row[1] for row in _links(schema)] == [0, 1, 2]
    assert set(schema.features.to_list("name")) == {"gene_a", "gene_b", "perturbation"}


def test_unsaved_schema_lists_its_members(ln: ModuleType, features: list[Any]) -> None:
    schema = ln.Schema(features=features[:2])
    assert schema.id is None
    assert [f.name for f in schema.members] == ["gene_a", "gene_b"]


def test_schema_with_the_same_definition_is_the_saved_one(ln: ModuleType, features: list[Any]) -> None:
    schema = ln.Schema(name="My schema", features=features).save()
    again = ln.Schema(name="My schema", features=list(schema.members))
    assert again is schema or again.id == schema.id
    assert again.save().id == schema.id
    # member order does not matter unless the schema is ordered; another name is the same definition
    assert ln.Schema(name="other name", features=list(reversed(features))).id == schema.id
    assert ln.Schema.filter(hash=schema.hash).count() == 1


def test_different_definitions_are_different_schemas(ln: ModuleType, features: list[Any]) -> None:
    base = ln.Schema(features=features).save()
    variants = [
        ln.Schema(features=features[:2]),
        ln.Schema(features=features, maximal_set=True),
        ln.Schema(features=features, minimal_set=False),
        ln.Schema(features=features, ordered_set=True),
        ln.Schema(features=features, coerce=True),
        ln.Schema(features=features, otype="DataFrame"),
        ln.Schema(features=[*features[:2], (features[2], {"optional": True})]),
        ln.Schema(features=features, index=features[0]),
    ]
    hashes = {base.hash, *(v.hash for v in variants)}
    assert len(hashes) == len(variants) + 1
    assert all(v.id is None for v in variants)


def test_ordered_schemas_hash_the_order(ln: ModuleType, features: list[Any]) -> None:
    first = ln.Schema(features=features, ordered_set=True).save()
    assert ln.Schema(features=features, ordered_set=True).id == first.id
    assert ln.Schema(features=list(reversed(features)), ordered_set=True).id is None


def test_named_empty_schemas_are_told_apart_by_name(ln: ModuleType) -> None:
    a = ln.Schema(name="type A", is_type=True).save()
    b = ln.Schema(name="type B", is_type=True).save()
    assert a.id != b.id
    member = ln.Schema(name="in a", type=a).save()
    assert member.type == a


def test_optional_members(ln: ModuleType, features: list[Any]) -> None:
    schema = ln.Schema(features=[features[0], (features[1], {"optional": True}), features[2]]).save()
    assert [row[2] for row in _links(schema)] == [False, True, False]
    assert schema.optionals == [features[1]]
    same = ln.Schema(features=features, optionals=[features[1]])
    assert same.id == schema.id


def test_member_options_are_checked(ln: ModuleType, features: list[Any]) -> None:
    with pytest.raises(InvalidArgument, match="unknown member option"):
        ln.Schema(features=[(features[0], {"required": True})])
    with pytest.raises(InvalidArgument, match=r"ln\.Feature\.get"):
        ln.Schema(features=["gene_a"])
    with pytest.raises(InvalidArgument, match="once"):
        ln.Schema(features=[features[0], features[0]])


def test_unsaved_features_are_refused(ln: ModuleType, features: list[Any]) -> None:
    unsaved = ln.Feature(name="not_saved", dtype=int)
    with pytest.raises(InvalidArgument, match=r"save the features.*'not_saved'"):
        ln.Schema(features=[features[0], unsaved])


def test_save_writes_schema_and_members_in_one_transaction(
    ln: ModuleType, features: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella.models.schema import definitions
    from lamella.models.schema import schema as schema_module

    schema = ln.Schema(name="atomic", features=features)

    def failing(*args: Any, **kwargs: Any) -> None:
        definitions.insert_links(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(schema_module, "insert_links", failing)  # where Schema.save calls it
    with pytest.raises(RuntimeError, match="disk full"):
        schema.save()
    monkeypatch.undo()
    assert not ln.Schema.filter(name="atomic").exists()
    from lamella.models.core.links import SchemaFeature

    session = state.current().db.session()
    assert session.execute(select(SchemaFeature.id)).first() is None


def test_index_feature(ln: ModuleType, features: list[Any]) -> None:
    sample = ln.Feature(name="sample", dtype=str).save()
    schema = ln.Schema(features=features, index=sample).save()
    assert schema.index == sample and schema.index_feature_id == sample.id
    with pytest.raises(InvalidArgument, match="save the index feature"):
        ln.Schema(features=features, index=ln.Feature(name="unsaved_index", dtype=str))


# ---- itypes and slots -----------------------------------------------------------------------------------


def test_itype_of_registry_fields(ln: ModuleType) -> None:
    by_field = ln.Schema(name="var", itype=ln.ULabel.name, dtype=int).save()
    assert by_field.itype == "ULabel.name" and by_field.dtype == "int" and by_field.n == 0
    assert by_field.flexible is True
    assert ln.Schema(name="v2", itype=ln.ULabel).itype == "ULabel"
    assert ln.Schema(name="v3", itype="bionty.Gene.ensembl_gene_id").itype == "bionty.Gene.ensembl_gene_id"
    with pytest.raises(InvalidArgument, match="itype"):
        ln.Schema(itype="not a registry")
    with pytest.raises(InvalidArgument, match="itype"):
        ln.Schema(itype=42)


def test_itype_must_match_the_members(ln: ModuleType, features: list[Any]) -> None:
    label = ln.ULabel(name="x").save()
    with pytest.raises(InvalidArgument, match="takes Feature records"):
        ln.Schema(features=[features[0], label], itype=ln.Feature)


def test_slots_of_a_composite_schema(ln: ModuleType, features: list[Any]) -> None:
    obs = ln.Schema(name="obs", features=features[2:]).save()
    var = ln.Schema(name="var", itype=ln.ULabel.name).save()
    composite = ln.Schema(name="adata", otype="AnnData", slots={"obs": obs, "var": var}).save()
    assert composite.slots == {"obs": obs, "var": var}
    assert composite.otype == "AnnData" and composite.n == 0
    assert set(composite.components.all()) == {obs, var}
    # the old spelling components= is the same definition
    assert ln.Schema(name="adata", otype="AnnData", components={"obs": obs, "var": var}).id == composite.id
    unsaved = ln.Schema(name="adata (unsaved)", otype="AnnData", slots={"obs": obs})
    assert unsaved.slots == {"obs": obs}
    with pytest.raises(InvalidArgument, match="save the schema of slot 'var'"):
        ln.Schema(otype="AnnData", slots={"var": ln.Schema(name="never saved", itype=ln.Feature)})
    with pytest.raises(InvalidArgument, match="not both"):
        ln.Schema(slots={"obs": obs}, components={"obs": obs})


def test_schemas_are_found_by_feature(ln: ModuleType, features: list[Any]) -> None:
    schema = ln.Schema(name="s", features=features[:2]).save()
    ln.Schema(name="t", features=features[2:]).save()
    assert ln.Schema.filter(features=features[0]).one() == schema
    with pytest.warns(DeprecationWarning, match="ln.Schema"):
        assert ln.FeatureSet is ln.Schema


def test_deleting_a_schema_deletes_its_links(ln: ModuleType, features: list[Any]) -> None:
    schema = ln.Schema(name="gone", features=features).save()
    schema.delete(permanent=True)
    assert _links(schema) == []
    assert ln.Feature.filter(name="gene_a").exists()
