"""Lineage: `Transform` and `Run`."""
