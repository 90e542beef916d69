"""`ln.settings`: runtime settings of the connected instance (storage, cache, run-input tracking)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lamella import _storage
from lamella._instance import state
from lamella._setup.storage import switch_default_storage
from lamella.models import Storage


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
        self.verbosity: str = "info"

    @property
    def track_run_inputs(self) -> bool:
        return state.process.track_run_inputs

    @track_run_inputs.setter
    def track_run_inputs(self, value: bool) -> None:
        state.process.track_run_inputs = bool(value)

    @property
    def instance(self) -> state.Instance:
        return state.current()

    @property
    def storage(self) -> StorageSettings:
        instance = state.current()
        return StorageSettings(instance.storage_root, instance.storage_id)

    @storage.setter
    def storage(self, root: str | Path) -> None:

        switch_default_storage(root)

    @property
    def cache_dir(self) -> Path:
        return state.cache_dir()

    @cache_dir.setter
    def cache_dir(self, folder: str | Path) -> None:
        state.process.cache_dir = Path(folder).expanduser().resolve()

    @contextmanager
    def override(self, **values: Any) -> Iterator[Settings]:
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


settings = Settings()
