"""Where settings live on disk: everything under LAMELLA_HOME (default ~/.lamella)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    return Path(os.environ.get("LAMELLA_HOME") or Path.home() / ".lamella").expanduser()


def settings_file() -> Path:
    return home() / "settings.json"


def instances_dir() -> Path:
    return home() / "instances"


def instance_file(name: str) -> Path:
    return instances_dir() / f"{name}.json"


def default_cache_dir() -> Path:
    env = os.environ.get("LAMELLA_CACHE_DIR")
    return Path(env).expanduser() if env else home() / "cache"
