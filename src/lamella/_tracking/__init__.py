"""Lineage: `ln.track()` / `ln.finish()` for scripts and notebooks, `@ln.tracked()` for functions."""

from __future__ import annotations

from lamella._tracking.context import context, current_run, finish, track, track_input
from lamella._tracking.decorator import tracked

__all__ = ["context", "current_run", "finish", "track", "track_input", "tracked"]
