"""Instances and settings: where an instance's metadata and bytes live, and the connection to it."""
