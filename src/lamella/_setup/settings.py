"""`ln.settings`: runtime settings of the connected instance (storage, cache, run-input tracking)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lamella import _storage
from lamella._instance import state
from lamella._logging import logger
from lamella._setup.storage import switch_default_storage
from lamella.errors import InvalidArgument, PathNotAFolder
from lamella.models import Storage

# verbosity names as LaminDB spells them, least to most verbose; "success" and "hint" are LaminDB's
# levels between error/info and info/debug, which the standard logging levels do not have
VERBOSITY_LEVELS: dict[str, int] = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "success": logging.INFO,
    "info": logging.INFO,
    "hint": logging.DEBUG,
    "debug": logging.DEBUG,
}
# LaminDB's integer verbosity: 0 error, 1 warning, 2 success, 3 info, 4 hint, 5 debug
VERBOSITY_NUMBERS = ("error", "warning", "success", "info", "hint", "debug")
_LEVEL_NAMES = {logging.CRITICAL: "critical", logging.ERROR: "error", logging.WARNING: "warning"}
_LEVEL_NAMES.update({logging.INFO: "info", logging.DEBUG: "debug"})
SETTABLE = ("cache_dir", "storage", "track_run_inputs", "verbosity")


class StorageSettings:
    """The default storage of the connected instance."""

    def __init__(self, root: str, record_id: int) -> None:
        self._root = root
        self.id = record_id

    @property
    def root(self) -> Any:

        return _storage.to_path(self._root)

    @property
    def root_as_str(self) -> str:
        return self._root

    @property
    def type(self) -> str:
        return "s3" if self._root.startswith("s3://") else "local"

    @property
    def record(self) -> Any:

        return Storage.get(self.id)

    def __repr__(self) -> str:
        return f"StorageSettings(root={self._root!r}, type={self.type!r})"


class Settings:
    """Runtime settings. Change one temporarily with `with ln.settings.override(track_run_inputs=False):`."""

    def __init__(self) -> None:
        self._verbosity_name: str | None = None  # the name last set, when it still holds

    @property
    def verbosity(self) -> str:
        """How much Lamella logs: "error", "warning", "success", "info" (default), "hint" or "debug".

        Sets the level of the `lamella` logger only; no other logger is touched. Also takes LaminDB's
        numbers 0 (error) to 5 (debug) and the levels of `logging` (`logging.WARNING`, ...).
        """
        level = logger.getEffectiveLevel()
        name = self._verbosity_name
        if name is not None and VERBOSITY_LEVELS[name] == level:
            return name
        return _LEVEL_NAMES.get(level, f"level {level}")

    @verbosity.setter
    def verbosity(self, value: str | int) -> None:
        name = _verbosity_name(value)
        logger.setLevel(VERBOSITY_LEVELS[name])
        self._verbosity_name = name

    @property
    def track_run_inputs(self) -> bool:
        """Whether loading or caching an artifact inside a run records it as an input of the run."""
        return state.process.track_run_inputs

    @track_run_inputs.setter
    def track_run_inputs(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise InvalidArgument(f"ln.settings.track_run_inputs takes True or False, not {value!r}")
        state.process.track_run_inputs = value

    @property
    def instance(self) -> state.Instance:
        return state.current()

    @property
    def storage(self) -> StorageSettings:
        instance = state.current()
        return StorageSettings(instance.storage_root, instance.storage_id)

    @storage.setter
    def storage(self, root: str | Path | StorageSettings) -> None:

        if isinstance(root, StorageSettings):  # what the getter returns: override(storage=...) restores it
            root = root.root_as_str
        switch_default_storage(root)

    @property
    def cache_dir(self) -> Path:
        return state.cache_dir()

    @cache_dir.setter
    def cache_dir(self, folder: str | Path) -> None:
        if not isinstance(folder, str | os.PathLike) or not str(folder).strip():
            raise InvalidArgument(f"ln.settings.cache_dir takes a folder path (str or Path), not {folder!r}")
        path = Path(folder).expanduser().resolve()
        if path.exists() and not path.is_dir():
            raise PathNotAFolder(f"cannot use {path} as the cache folder: it is a file; pass a folder path")
        state.process.cache_dir = path

    @contextmanager
    def override(self, **values: Any) -> Iterator[Settings]:
        unknown = sorted(set(values) - set(SETTABLE))
        if unknown:
            raise InvalidArgument(
                f"ln.settings.override() got unknown settings {', '.join(unknown)}; "
                f"the settings are {', '.join(SETTABLE)}"
            )
        old = {name: getattr(self, name) for name in values}
        for name, value in values.items():
            setattr(self, name, value)
        try:
            yield self
        finally:
            for name, value in old.items():
                setattr(self, name, value)

    def __repr__(self) -> str:
        instance = state.peek()
        where = instance.name if instance else "(not connected yet)"
        return f"Settings(instance={where!r}, cache_dir={str(self.cache_dir)!r}, track_run_inputs={self.track_run_inputs})"


def _verbosity_name(value: Any) -> str:
    """The verbosity name `value` stands for; InvalidArgument naming the allowed values if none."""
    if isinstance(value, str) and value.strip().lower() in VERBOSITY_LEVELS:
        return value.strip().lower()
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < len(VERBOSITY_NUMBERS):
            return VERBOSITY_NUMBERS[value]
        if value in _LEVEL_NAMES:
            return _LEVEL_NAMES[value]
    raise InvalidArgument(
        f"ln.settings.verbosity takes one of {', '.join(repr(n) for n in VERBOSITY_LEVELS)}, a number "
        f"from 0 (error) to 5 (debug), or a logging level (logging.WARNING, ...); not {value!r}"
    )


settings = Settings()
