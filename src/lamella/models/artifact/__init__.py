"""Artifacts: the registry and its behaviour (source, store, access, version family, describe).

The registry and its behaviour modules call each other; the behaviour modules import the registry as
a module (`from lamella.models.artifact import artifact as registry`), so either can be imported first.
"""
