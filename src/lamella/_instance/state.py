"""The instance this process is connected to. Connecting happens on first use, never on import."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lamella._instance.config import InstanceConfig, UserConfig
    from lamella._instance.database import Database


@dataclass
class Instance:
    config: InstanceConfig
    db: Database
    user: UserConfig
    user_id: int | None  # None: connected read-only as a user the instance has not seen yet
    storage_id: int
    storage_root: str
    read_only_requested: bool = False  # what the caller asked for; `read_only` is what it got

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def read_only(self) -> bool:
        return self.db.read_only


_lock = threading.RLock()
_current: Instance | None = None


def current() -> Instance:
    """The connected instance; connects (or creates the default instance) on first use."""
    global _current
    if _current is not None:
        return _current
    with _lock:
        if _current is None:
            from lamella._instance.setup import autoconnect

            _current = autoconnect()
        return _current


def peek() -> Instance | None:
    return _current


def set_current(instance: Instance | None) -> None:
    global _current
    with _lock:
        old, _current = _current, instance
    if old is not None and old is not instance:
        # objects of the old instance keep working until garbage-collected; close idle connections
        old.db.engine.dispose(close=False)
