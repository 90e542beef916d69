"""The public sources of the bionty registries, shipped with Lamella and read offline.

    >>> from lamella.bionty import sources
    >>> cl = sources.public("CellType")                 # Cell Ontology, converted once to parquet
    >>> cl.search("gamma-delta T cell").head()
    >>> sources.public("Gene", organism="human").standardize(["cd8a"], case_sensitive=False)
    >>> sources.available_sources("DevelopmentalStage")

Importing this package is cheap: `public`, `PublicOntology` and `available_sources` load pandas and
pyarrow on first use (module `__getattr__`), so `import lamella.bionty` stays light. `ENTITIES` (which
source each registry uses) needs nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lamella.bionty.sources._catalog import ENTITIES, EntitySpec

if TYPE_CHECKING:
    from lamella.bionty.sources._api import available_sources, clear_memory, public
    from lamella.bionty.sources._public import InspectResult, PublicOntology
    from lamella.bionty.sources._tables import gene_organism_of

__all__ = [
    "ENTITIES",
    "EntitySpec",
    "InspectResult",
    "PublicOntology",
    "available_sources",
    "clear_memory",
    "gene_organism_of",
    "public",
]

# name -> the module that defines it, imported on first access
_LAZY = {
    "public": "lamella.bionty.sources._api",
    "available_sources": "lamella.bionty.sources._api",
    "clear_memory": "lamella.bionty.sources._api",
    "gene_organism_of": "lamella.bionty.sources._tables",
    "PublicOntology": "lamella.bionty.sources._public",
    "InspectResult": "lamella.bionty.sources._public",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
