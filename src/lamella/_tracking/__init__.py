"""Lineage: `ln.track()` / `ln.finish()` for scripts, and the run context records link to."""

from __future__ import annotations

from lamella._tracking.context import context, current_run, finish, track, track_input

__all__ = ["context", "current_run", "finish", "track", "track_input"]
