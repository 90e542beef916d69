"""Lineage: `ln.track()` / `ln.finish()` for scripts and notebooks, `@ln.tracked()` for functions,
`@ln.flow()` / `@ln.step()` for workflows written as functions."""

from __future__ import annotations

from lamella._tracking.context import context, finish, track
from lamella._tracking.decorator import tracked
from lamella._tracking.flows import flow, step

__all__ = ["context", "finish", "flow", "step", "track", "tracked"]
