"""Virtual joins of the shards' variables: index arrays from each shard's columns to the joint ones.

Nothing is materialized: a row read from a shard is placed into the joint columns with these arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from lamella._logging import logger
from lamella.errors import InvalidArgument

__all__ = ["Join", "VarJoin", "join_vars"]

Join = Literal["inner", "outer"] | None


@dataclass(frozen=True)
class VarJoin:
    """The joint variables and, per shard, how its columns map onto them."""

    var_joint: np.ndarray | None  # the joint var names (None without a join)
    n_vars: int
    # per shard: shard column -> joint column (-1: not in the join); None: the shard is the joint order
    col_maps: list[np.ndarray | None]
    # per shard: joint column -> shard column (-1: the shard lacks it); None likewise
    takes: list[np.ndarray | None]
    # LaminDB's `var_indices`: the `takes` for an inner join, the `col_maps` for an outer one
    var_indices: list[np.ndarray] | None


def join_vars(var_lists: Sequence[np.ndarray], join: Join, names: Sequence[str]) -> VarJoin:
    """Join the var names of the shards (`names` say which shard is which in errors)."""
    first = var_lists[0]
    same = all(len(v) == len(first) and np.array_equal(v, first) for v in var_lists[1:])
    identity: list[np.ndarray | None] = [None] * len(var_lists)
    if join is None:
        counts = {len(v) for v in var_lists}
        if len(counts) > 1:
            sizes = ", ".join(f"{name}: {len(v)}" for name, v in zip(names, var_lists, strict=True))
            raise InvalidArgument(
                f"join=None needs the same variables in every shard, and their counts differ ({sizes}): "
                "pass join='inner' (shared variables) or join='outer' (all variables, zero-filled)"
            )
        if not same:
            differ = [name for name, v in zip(names, var_lists, strict=True) if not np.array_equal(v, first)]
            logger.warning(
                f"join=None: the var names of {differ} differ from those of {names[0]}; their columns are "
                "read by position. Pass join='inner' or join='outer' to align them by name"
            )
        return VarJoin(None, len(first), identity, identity, None)
    if same:
        return VarJoin(np.asarray(first, dtype=object), len(first), identity, identity, None)
    for name, v in zip(names, var_lists, strict=True):
        if len(np.unique(v)) != len(v):
            raise InvalidArgument(
                f"the shard {name} has duplicate var names, so a join by name is ambiguous: "
                "make them unique (adata.var_names_make_unique()) or pass join=None"
            )
    if join == "inner":
        shared = set(first)
        for v in var_lists[1:]:
            shared &= set(v)
        joint = np.array([name for name in first if name in shared], dtype=object)
        if len(joint) == 0:
            raise InvalidArgument(
                f"the shards {list(names)} share no variable, so join='inner' is empty: pass join='outer'"
            )
    elif join == "outer":
        joint = np.array(sorted(set().union(*(set(v) for v in var_lists))), dtype=object)
    else:
        raise InvalidArgument(f"join must be 'inner', 'outer' or None, not {join!r}")
    position = {name: j for j, name in enumerate(joint)}
    col_maps: list[np.ndarray | None] = []
    takes: list[np.ndarray | None] = []
    for v in var_lists:
        if len(v) == len(joint) and np.array_equal(v, joint):
            col_maps.append(None)
            takes.append(None)
            continue
        col_map = np.array([position.get(name, -1) for name in v], dtype=np.int64)
        take = np.full(len(joint), -1, dtype=np.int64)
        present = col_map >= 0
        take[col_map[present]] = np.flatnonzero(present)
        col_maps.append(col_map)
        takes.append(take)
    var_indices = [
        (take if join == "inner" else col_map)
        if take is not None and col_map is not None
        else np.arange(len(joint))
        for take, col_map in zip(takes, col_maps, strict=True)
    ]
    return VarJoin(joint, len(joint), col_maps, takes, var_indices)
