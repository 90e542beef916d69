"""Lineage graphs with graphviz: where data came from (`view_lineage`) and label hierarchies (`view_parents`).

A graph is returned (`return_graph=True`), displayed in a notebook, or written as SVG (DOT source
when graphviz's `dot` program is missing) with its path printed.
"""

from __future__ import annotations

import shutil
from typing import Any

from lamella._instance import state
from lamella._process import in_notebook
from lamella._query.relations import model
from lamella.models.core.lineage_graph import DATA_KINDS, lineage
from lamella.models.core.lineage_graph import MAX_NODES as _MAX_NODES

_DATA = {"shape": "box", "style": "rounded,filled", "fillcolor": "#eef4fb", "color": "#4a78b5"}
_FOCUS = {"shape": "box", "style": "rounded,filled", "fillcolor": "#fbe3c4", "color": "#d97a00"}
_RUN = {"shape": "ellipse", "style": "filled", "fillcolor": "#f3f3f3", "color": "#777777"}


def _digraph(name: str) -> Any:
    import graphviz

    graph = graphviz.Digraph(
        name, graph_attr={"rankdir": "LR"}, node_attr={"fontname": "Helvetica", "fontsize": "11"}
    )
    return graph


def data_lineage(record: Any) -> Any:
    """Where an artifact, collection or run came from: the run that made it, that run's inputs, and
    so on all the way up (a run's outputs too); drawn from `lineage_graph.lineage`."""
    found = lineage(record, upstream=None, downstream=0, transforms=False)
    graph = _digraph(f"lineage_{record.uid}")
    for node in found.nodes:
        style = _FOCUS if node.id == found.focus else _RUN if node.kind == "run" else _DATA
        graph.node(_dot_id(node.id), f"{node.label}\\n{node.detail}", **style)
    for edge in found.edges:
        extra = {"style": "dashed", "label": "initiated"} if edge.kind == "initiated" else {}
        graph.edge(_dot_id(edge.source), _dot_id(edge.target), **extra)
    return graph


def _dot_id(node_id: str) -> str:
    # the node names view_lineage() has always written (a colon in a DOT name would name a port)
    kind, uid = node_id.split(":", 1)
    return f"{'data' if kind in DATA_KINDS else kind}_{uid}"


def transform_lineage(transform: Any) -> Any:
    """Transforms upstream of this one: those whose runs made the data its runs read."""

    graph = _digraph(f"transforms_{transform.uid}")
    graph.node(f"t_{transform.uid}", f"{transform.key or transform.uid}\\n{transform.kind}", **_FOCUS)
    seen = {transform.id}
    queue = [transform]
    while queue and len(seen) < _MAX_NODES:
        current = queue.pop(0)
        # registries by name: this module sits below the artifact and lineage registries it draws
        runs = model("Run").filter(transform=current)
        producers = model("Transform").filter(
            id__in=model("Artifact").filter(input_of_runs__in=runs, branch_id=None).to_list("transform_id")
        )
        for producer in producers:
            if producer.id not in seen:
                seen.add(producer.id)
                graph.node(f"t_{producer.uid}", f"{producer.key or producer.uid}\\n{producer.kind}", **_DATA)
                queue.append(producer)
            graph.edge(f"t_{producer.uid}", f"t_{current.uid}")
    return graph


def parents_graph(
    record: Any, field: str | None = None, distance: int = 5, with_children: bool = False
) -> Any:
    """A record's ancestors in a hierarchy (`parents`), up to `distance` levels, and optionally its
    direct children."""
    name_field = field or ("name" if "name" in record.__table__.c else "uid")
    graph = _digraph(f"parents_{record.uid}")
    graph.node(f"r_{record.uid}", str(getattr(record, name_field)), **_FOCUS)
    if with_children:
        for child in record.children.all():
            graph.node(f"r_{child.uid}", str(getattr(child, name_field)), **_DATA)
            graph.edge(f"r_{record.uid}", f"r_{child.uid}")
    level = [record]
    seen = {record.id}
    for _ in range(distance):
        next_level = []
        for child in level:
            for parent in child.parents.all():
                if parent.id not in seen:
                    seen.add(parent.id)
                    graph.node(f"r_{parent.uid}", str(getattr(parent, name_field)), **_DATA)
                    next_level.append(parent)
                graph.edge(f"r_{parent.uid}", f"r_{child.uid}")
        if not next_level:
            break
        level = next_level
    return graph


def show(graph: Any, name: str) -> None:
    """Display in a notebook; in a terminal write SVG (or DOT without graphviz's `dot`) and print the path."""

    if in_notebook():
        from IPython.display import display

        display(graph)
        return

    folder = state.cache_dir() / "lineage"
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("dot"):
        path = graph.render(filename=name, directory=str(folder), format="svg", cleanup=True)
    else:
        path = folder / f"{name}.dot"
        path.write_text(graph.source)
    print(f"lineage graph: {path}")
