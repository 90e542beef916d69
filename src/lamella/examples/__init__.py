"""Example data for tutorials and tests: `lamella.examples.datasets`."""

from __future__ import annotations

from lamella.examples import datasets

__all__ = ["datasets"]
