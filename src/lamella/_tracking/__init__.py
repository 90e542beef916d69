"""Lineage: `ln.track()` / `ln.finish()` for scripts and notebooks, `@ln.tracked()` for functions."""

from __future__ import annotations

from lamella._tracking.context import context, finish, track
from lamella._tracking.decorator import tracked

__all__ = ["context", "finish", "track", "tracked"]
