"""`artifact.describe()`: general fields, storage, provenance, features and labels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lamella.errors import StorageError
from lamella.models.core.describe import add_links, escape, fmt, new_tree, print_tree
from lamella.models.features.describe import add_features

if TYPE_CHECKING:
    from lamella.models.artifact.artifact import Artifact


def describe_artifact(artifact: Artifact) -> None:
    kind = "/".join(x for x in (artifact.suffix or "folder", artifact.otype) if x)
    tree = new_tree(f"[bold]Artifact[/bold] {kind}")
    general = tree.add("[bold]General[/bold]")
    for field in (
        "uid",
        "key",
        "description",
        "kind",
        "size",
        "hash",
        "n_files",
        "n_observations",
        "version_tag",
    ):
        value = getattr(artifact, field)
        if value is not None:
            general.add(f".{field} = {fmt(value)}")
    general.add(f".is_latest = {artifact.is_latest}")
    if artifact.id is not None:
        try:
            general.add(f".path = {artifact.path}")
        except StorageError as e:  # a record edited to point outside its storage: say so, show the rest
            general.add(f".path = [red]{escape(str(e))}[/red]")
        general.add(f".storage = {artifact.storage.root}")
        general.add(f".created_by = {artifact.created_by.handle}")
        general.add(f".created_at = {fmt(artifact.created_at)}")
        if artifact.branch_id != 1:
            general.add(f".branch = {'trash' if artifact.branch_id == -1 else 'archive'}")
    provenance = tree.add("[bold]Provenance[/bold]")
    if artifact.id is not None and artifact.run_id is not None:
        run = artifact.run
        assert run is not None
        transform = run.transform
        provenance.add(f".transform = {fmt(transform.key)} ({transform.kind}, {transform.uid})")
        provenance.add(f".run = {run.uid} started {fmt(run.started_at)}")
    else:
        provenance.add("no run: saved outside ln.track()")
    if artifact.id is not None:
        add_features(tree, artifact)
        add_links(tree, artifact)
    print_tree(tree)
