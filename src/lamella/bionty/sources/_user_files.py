"""Ontology files a user brings: OBO (through pronto or obonet), OWL (pronto), cellxgene JSON.

The result has the columns of a converted shipped ontology (`_cache.SCHEMA`), so one class serves
both. OBO parsing is left to a maintained parser: the format has enough corners (escapes, qualifiers,
imports) that a home-made reader would get some of them wrong.
"""

from __future__ import annotations

import importlib
import re
import warnings
from pathlib import Path
from typing import Any

import pyarrow as pa

from lamella.bionty.sources._cache import SCHEMA, convert, read_json
from lamella.errors import InvalidArgument, PathNotFound, UnreadableFile

SUFFIXES = (".obo", ".owl", ".json", ".json.zst", ".obo.gz", ".owl.gz")


def looks_like_path(source: str) -> bool:
    return source.lower().endswith(SUFFIXES) or "/" in source or "\\" in source


def read_file(path: Path) -> tuple[pa.Table, str]:
    """(terms, version) of the ontology file at `path`; the version is the file's data-version, if any."""
    if not path.is_file():
        raise PathNotFound(
            f"no ontology file at {path}: pass the path of an .obo or cellxgene .json(.zst) file"
        )
    name = path.name.lower()
    if name.endswith((".json", ".json.zst")):
        terms = read_json(path)
        if all(isinstance(t, dict) and "label" in t for t in list(terms.values())[:10]):
            return convert(terms), "unversioned"
        # not the cellxgene shape: an OBO Graphs JSON, which pronto reads
    pronto = _optional("pronto")
    if pronto is not None:
        return _with_pronto(pronto, path)
    obonet = _optional("obonet") if name.endswith((".obo", ".obo.gz")) else None
    if obonet is not None:
        return _with_obonet(obonet, path)
    raise InvalidArgument(
        f"reading {path.name} needs an ontology parser: pip install pronto (reads OBO, OWL and OBO "
        f"Graphs JSON); or pass a cellxgene-ontology-guide .json.zst file"
    )


def _optional(module: str) -> Any:
    """The parser `module` if it is installed, else None (obonet comes with `lamella[bionty]`; pronto, for OWL, does not)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _with_pronto(pronto: Any, path: Path) -> tuple[pa.Table, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pronto warns on every syntax quirk of real-world files
            ontology = pronto.Ontology(str(path))
    except Exception as e:  # pronto raises bare ValueError/SyntaxError subclasses of its own
        raise UnreadableFile(f"pronto cannot read {path}: {e}") from e
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for term in ontology.terms():
        if term.obsolete or term.name is None:
            continue
        columns["ontology_id"].append(term.id)
        columns["name"].append(term.name)
        synonyms = sorted(s.description for s in term.synonyms)
        columns["synonyms"].append("|".join(synonyms) or None)
        columns["description"].append(str(term.definition) if term.definition else None)
        columns["parents"].append(sorted(p.id for p in term.superclasses(distance=1, with_self=False)))
    version = ontology.metadata.data_version or "unversioned"
    return pa.table(columns, schema=SCHEMA), str(version)


_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"')


def _unquote(text: str) -> str:
    found = _QUOTED.match(text)
    return found.group(1).replace('\\"', '"') if found else text


def _with_obonet(obonet: Any, path: Path) -> tuple[pa.Table, str]:
    try:
        graph = obonet.read_obo(str(path), ignore_obsolete=True)
    except Exception as e:  # obonet raises what its line parser meets
        raise UnreadableFile(f"obonet cannot read {path}: {e}") from e
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for term_id, data in graph.nodes(data=True):
        if "name" not in data:  # a node only referenced, never defined in this file
            continue
        columns["ontology_id"].append(term_id)
        columns["name"].append(data["name"])
        synonyms = [_unquote(s) for s in data.get("synonym", [])]
        columns["synonyms"].append("|".join(synonyms) or None)
        columns["description"].append(_unquote(data["def"]) if data.get("def") else None)
        # obonet keeps `is_a` as "GO:0008150 ! name" strings or plain ids
        columns["parents"].append([p.split(" ", 1)[0] for p in data.get("is_a", [])])
    version = graph.graph.get("data-version") or "unversioned"
    return pa.table(columns, schema=SCHEMA), str(version)
