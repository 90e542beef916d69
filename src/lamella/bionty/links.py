"""Link tables between the bionty registries and the core ones, and the relations over them.

`artifact.cell_types`, `artifact.genes`, ... (with the feature they annotate; records and runs the
same), `schema.genes`, ...
(the members of a schema whose itype is a bionty registry), and each ontology's parents. The core
registries know nothing of bionty: the relations are added to them here, when the module is imported.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Mapped  # noqa: F401  (the link columns' annotations name it)

from lamella._query.relations import ManyToMany
from lamella.bionty.models import ONTOLOGY_REGISTRIES, REGISTRIES
from lamella.models.artifact.artifact import Artifact
from lamella.models.core.links import (
    ArtifactLink,
    LinkTable,
    artifact_link_keys,
    feature_column,
    link_column,
    link_keys,
)
from lamella.models.labels.labels import Record
from lamella.models.lineage.lineage import Run
from lamella.models.schema.schema import Schema

# registry -> the name of its relation on artifacts and schemas
RELATION_NAMES = {
    "Organism": "organisms",
    "Gene": "genes",
    "Protein": "proteins",
    "CellMarker": "cell_markers",
    "CellType": "cell_types",
    "CellLine": "cell_lines",
    "Tissue": "tissues",
    "Disease": "diseases",
    "Phenotype": "phenotypes",
    "Pathway": "pathways",
    "ExperimentalFactor": "experimental_factors",
    "DevelopmentalStage": "developmental_stages",
    "Ethnicity": "ethnicities",
}


def _link_class(
    name: str, table: str, columns: dict[str, Any], unique: tuple[str, ...], *, base: type = LinkTable
) -> type:
    # the reverse index: the target (the unique's second key) first, then the owner, then the rest
    reverse = (unique[1], unique[0], *unique[2:])
    keys = artifact_link_keys if base is ArtifactLink else link_keys
    namespace: dict[str, Any] = {
        "__tablename__": table,
        "__table_args__": keys(table, unique, reverse=reverse),
        "__module__": __name__,
        "__annotations__": {key: "Mapped[int]" for key in columns},
        **columns,
    }
    return type(name, (base,), namespace)


def _attach(owner: type, name: str, relation: ManyToMany) -> None:
    setattr(owner, name, relation)
    relation.__set_name__(owner, name)


LINKS: dict[str, type] = {}

for _term in ONTOLOGY_REGISTRIES:
    _lower = _term.__name__.lower()
    LINKS[f"{_term.__name__}Parent"] = _link_class(
        f"{_term.__name__}Parent",
        f"bionty_{_lower}_parent",
        {"child_id": link_column(f"bionty_{_lower}"), "parent_id": link_column(f"bionty_{_lower}")},
        ("child_id", "parent_id"),
    )

for _registry in REGISTRIES:
    _name = _registry.__name__
    _lower = _name.lower()
    _key = f"{_lower}_id"
    LINKS[f"Artifact{_name}"] = _link_class(
        f"Artifact{_name}",
        f"bionty_artifact_{_lower}",
        {
            "artifact_id": link_column("artifact"),
            _key: link_column(f"bionty_{_lower}"),
            "feature_id": feature_column(),
        },
        ("artifact_id", _key, "feature_id"),
        base=ArtifactLink,
    )
    LINKS[f"Schema{_name}"] = _link_class(
        f"Schema{_name}",
        f"bionty_schema_{_lower}",
        {"schema_id": link_column("schema"), _key: link_column(f"bionty_{_lower}")},
        ("schema_id", _key),
    )
    for _owner, _owner_table in ((Record, "record"), (Run, "run")):
        _owner_key = f"{_owner_table}_id"
        LINKS[f"{_owner.__name__}{_name}"] = _link_class(
            f"{_owner.__name__}{_name}",
            f"bionty_{_owner_table}_{_lower}",
            {
                _owner_key: link_column(_owner_table),
                _key: link_column(f"bionty_{_lower}"),
                "feature_id": feature_column(),
            },
            (_owner_key, _key, "feature_id"),
        )
    _relation = RELATION_NAMES[_name]
    _attach(Record, _relation, ManyToMany(_name, f"Record{_name}", "record_id", _key))
    _attach(Run, _relation, ManyToMany(_name, f"Run{_name}", "run_id", _key))
    _attach(_registry, "records", ManyToMany("Record", f"Record{_name}", _key, "record_id"))
    _attach(_registry, "runs", ManyToMany("Run", f"Run{_name}", _key, "run_id"))
    _attach(Artifact, _relation, ManyToMany(_name, f"Artifact{_name}", "artifact_id", _key))
    _attach(Schema, _relation, ManyToMany(_name, f"Schema{_name}", "schema_id", _key))
    _attach(_registry, "artifacts", ManyToMany("Artifact", f"Artifact{_name}", _key, "artifact_id"))
    _attach(_registry, "schemas", ManyToMany("Schema", f"Schema{_name}", _key, "schema_id"))
