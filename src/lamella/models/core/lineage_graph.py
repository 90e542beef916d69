"""Lineage as data: the runs, transforms, artifacts and collections around a record, as nodes and edges.

Edges point the way data flows: input → run → output, transform → run, and a run → the runs it
started (a function called from a tracked script). `graphs.py` draws this with graphviz
(`view_lineage()`); the UI's lineage page hands it to the browser as JSON.

A *step* is one run: an artifact's first step up is the run that made it together with that run's
inputs (and transform); its first step down the runs that read it together with what they made. A
run's (or a transform's runs') own inputs and outputs belong to it, whatever the step limits. The
walk reads one level at a time, one query per relation, so a graph of hundreds of nodes costs a
handful of queries, not one per node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lamella._query import QuerySet
from lamella._query.relations import model
from lamella.errors import InvalidArgument

KINDS = ("artifact", "collection", "run", "transform")
DATA_KINDS = ("artifact", "collection")
REGISTRIES = {"artifact": "Artifact", "collection": "Collection", "run": "Run", "transform": "Transform"}
MAX_NODES = 500  # lineage of huge pipelines stays readable and fast


@dataclass(frozen=True)
class Node:
    id: str  # "<kind>:<uid>"
    kind: str
    uid: str
    label: str  # what the record is called
    detail: str  # a second line: its registry and short uid, a run's transform kind and start


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str = "flow"  # "initiated": a run started by another run


@dataclass
class Lineage:
    focus: str  # the id of the node the lineage was asked for
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool  # MAX_NODES (or max_nodes) stopped the walk: there is more lineage than shown


def node_id(kind: str, uid: str) -> str:
    return f"{kind}:{uid}"


def kind_of(record: Any) -> str:
    kind = type(record).__name__.lower()
    if kind not in KINDS:
        raise InvalidArgument(
            f"{type(record).__name__} records have no lineage; pass an Artifact, Collection, Run or Transform"
        )
    return kind


def _name(record: Any) -> str:
    return str(record.key or record.description or record.uid)


def _node(kind: str, record: Any) -> Node:
    if kind == "run":
        transform = record.transform
        when = record.started_at.strftime("%Y-%m-%d %H:%M") if record.started_at else ""
        label, detail = _name(transform), f"{transform.kind} run {when}"
    elif kind == "transform":
        label, detail = _name(record), str(record.kind)
    else:
        label, detail = _name(record), f"{type(record).__name__} {record.uid[:8]}…"
    return Node(node_id(kind, record.uid), kind, record.uid, label, detail)


@dataclass
class _Walk:
    """The graph being read; refuses nodes beyond `max_nodes` (and remembers that it did)."""

    max_nodes: int
    transforms: bool
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str], Edge] = field(default_factory=dict)
    runs: dict[int, Any] = field(default_factory=dict)
    truncated: bool = False

    def room(self) -> int:
        return max(self.max_nodes - len(self.nodes), 0)

    def add(self, kind: str, record: Any) -> str | None:
        """The node of `record`, added unless the graph is full (then None)."""
        key = node_id(kind, record.uid)
        if key in self.nodes:
            return key
        if not self.room():
            self.truncated = True
            return None
        self.nodes[key] = _node(kind, record)
        if kind == "run":
            self.runs[record.id] = record
            if self.transforms:
                self.edge(self.add("transform", record.transform), key)
        return key

    def edge(self, source: str | None, target: str | None, kind: str = "flow") -> None:
        if source is not None and target is not None:
            self.edges.setdefault((source, target), Edge(source, target, kind))

    def fetch(self, registry: str, ids: set[int]) -> dict[int, Any]:
        """Records of `registry` by id, in one query (an id lookup sees every branch: lineage keeps
        trashed records)."""
        if not ids:
            return {}
        return {row.id: row for row in model(registry).filter(id__in=sorted(ids))}

    def limited(self, rows: Any) -> list[Any]:
        """The first rows of a query that may fan out (a run that made 10,000 files): no more than
        could ever be drawn, and the graph marked truncated when there were more."""
        limit = self.max_nodes * 4
        found = list(rows[: limit + 1])
        if len(found) > limit:
            self.truncated = True
        return found[:limit]

    def runs_by_id(self, ids: set[int]) -> dict[int, Any]:
        known = {i: self.runs[i] for i in ids if i in self.runs}
        return {**known, **self.fetch("Run", ids - known.keys())}


Item = tuple[str, Any]  # (kind, record) of an artifact or collection


def _links(walk: _Walk, relation: Any, owner_ids: list[int]) -> list[tuple[int, int]]:
    """(owner id, target id) pairs of a to-many relation, read from its link table in one query."""
    if not owner_ids:
        return []
    links = QuerySet(relation.link_model).filter(**{f"{relation.self_key}__in": owner_ids})
    rows = walk.limited(links.order_by(relation.self_key, relation.target_key))
    return [(getattr(row, relation.self_key), getattr(row, relation.target_key)) for row in rows]


def _made_by(walk: _Walk, data: list[Item]) -> list[Any]:
    """One step up, first half: the runs that made `data` (edges run → data)."""
    runs = walk.runs_by_id({record.run_id for _, record in data if record.run_id is not None})
    for kind, record in data:
        run = runs.get(record.run_id) if record.run_id is not None else None
        if run is not None:
            walk.edge(walk.add("run", run), node_id(kind, record.uid))
    return [runs[i] for i in sorted(runs)]


def _inputs(walk: _Walk, runs: list[Any]) -> list[Item]:
    """The artifacts and collections `runs` read (edges data → run)."""
    run_class = model("Run")
    by_id = {r.id: r for r in runs}
    found: list[Item] = []
    for kind, relation in (
        ("artifact", run_class.input_artifacts),
        ("collection", run_class.input_collections),
    ):
        pairs = _links(walk, relation, sorted(by_id))
        records = walk.fetch(REGISTRIES[kind], {target for _, target in pairs})
        for run_id, target in pairs:
            if target in records:
                walk.edge(walk.add(kind, records[target]), node_id("run", by_id[run_id].uid))
        found.extend((kind, records[i]) for i in sorted(records))
    return found


def _readers(walk: _Walk, data: list[Item]) -> list[Any]:
    """One step down, first half: the runs that read `data` (edges data → run)."""
    pairs: list[tuple[Item, int]] = []
    for kind in DATA_KINDS:
        of_kind = {record.id: record for k, record in data if k == kind}
        relation = model(REGISTRIES[kind]).input_of_runs
        for owner, run_id in _links(walk, relation, sorted(of_kind)):
            pairs.append(((kind, of_kind[owner]), run_id))
    runs = walk.runs_by_id({run_id for _, run_id in pairs})
    for (kind, record), run_id in pairs:
        if run_id in runs:
            walk.edge(node_id(kind, record.uid), walk.add("run", runs[run_id]))
    return [runs[i] for i in sorted(runs)]


def _outputs(walk: _Walk, runs: list[Any]) -> list[Item]:
    """The artifacts and collections `runs` made (edges run → data)."""
    by_id = {r.id: r for r in runs}
    found: list[Item] = []
    for kind in DATA_KINDS:
        if not by_id:
            break
        made = model(REGISTRIES[kind]).filter(run_id__in=sorted(by_id), branch_id=None)
        for record in walk.limited(made.order_by("id")):
            walk.edge(node_id("run", by_id[record.run_id].uid), walk.add(kind, record))
            found.append((kind, record))
    return found


def _initiators(walk: _Walk) -> None:
    """The runs that started runs of the graph (a script calling a tracked function), as leaves."""
    started = list(walk.runs.values())
    parents = walk.runs_by_id({r.initiated_by_run_id for r in started if r.initiated_by_run_id is not None})
    for parent_id in sorted(parents):
        walk.add("run", parents[parent_id])
    for run in started:
        parent = parents.get(run.initiated_by_run_id) if run.initiated_by_run_id is not None else None
        if parent is not None and node_id("run", parent.uid) in walk.nodes:
            walk.edge(node_id("run", parent.uid), node_id("run", run.uid), "initiated")


def _fresh(walk: _Walk, seen: set[str], items: list[Any], kind: str | None = None) -> list[Any]:
    """The items of the graph not walked yet in this direction (each is expanded once; one the cap
    kept out is not)."""
    fresh = []
    for item in items:
        key = node_id(item[0], item[1].uid) if kind is None else node_id(kind, item.uid)
        if key in walk.nodes and key not in seen:
            seen.add(key)
            fresh.append(item)
    return fresh


def lineage(
    record: Any,
    upstream: int | None = 3,
    downstream: int = 0,
    *,
    max_nodes: int = MAX_NODES,
    transforms: bool = True,
) -> Lineage:
    """The lineage of a saved artifact, collection, run or transform: `upstream` steps up (None: all
    the way) and `downstream` steps down, at most `max_nodes` nodes. `transforms=False` leaves out the
    transform nodes (a run's label names its transform anyway); a transform's own lineage keeps them."""
    kind = kind_of(record)
    if record.__dict__.get("id") is None:
        raise InvalidArgument(f"this {type(record).__name__} was never saved; call .save() first")
    for name, steps in (("upstream", upstream), ("downstream", downstream)):
        if steps is not None and steps < 0:
            raise InvalidArgument(f"{name}={steps}: give a number of steps, 0 or more")
    walk = _Walk(max_nodes=max(max_nodes, 1), transforms=transforms or kind == "transform")
    focus = walk.add(kind, record)
    assert focus is not None  # the first node always fits
    seen_up: set[str] = {focus}
    seen_down: set[str] = {focus}
    if kind in DATA_KINDS:
        up: list[Item] = [(kind, record)]
        down: list[Item] = [(kind, record)]
    else:
        if kind == "run":
            runs = [record]
        else:
            rows = model("Run").filter(transform_id=record.id, branch_id=None).order_by("-started_at")
            runs = [run for run in walk.limited(rows) if walk.add("run", run) is not None]
        seen_up.update(node_id("run", r.uid) for r in runs)
        seen_down.update(node_id("run", r.uid) for r in runs)
        up = _fresh(walk, seen_up, _inputs(walk, runs))
        down = _fresh(walk, seen_down, _outputs(walk, runs))
    # a full graph reads on until a node is refused: only then is there more lineage than it shows
    steps_up = steps_down = 0
    while up and (upstream is None or steps_up < upstream) and not walk.truncated:
        makers = _fresh(walk, seen_up, _made_by(walk, up), "run")
        up = _fresh(walk, seen_up, _inputs(walk, makers))
        steps_up += 1
    while down and steps_down < downstream and not walk.truncated:
        readers = _fresh(walk, seen_down, _readers(walk, down), "run")
        down = _fresh(walk, seen_down, _outputs(walk, readers))
        steps_down += 1
    _initiators(walk)
    return Lineage(focus, list(walk.nodes.values()), list(walk.edges.values()), walk.truncated)
