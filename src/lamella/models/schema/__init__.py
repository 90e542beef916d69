"""Schemas: sets of features (or of another registry's records) that datasets validate against."""
