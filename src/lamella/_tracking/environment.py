"""The Python environment of a run: installed distributions and their versions, one line each.

Saved as an artifact of an internal kind; identical environments have identical bytes, so the
artifact's content hash stores each distinct environment once and later runs point at it.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lamella.models import Artifact

ENVIRONMENT_KIND = "__lamella_env__"  # kind is at most 20 characters


def environment_text() -> str:
    from importlib import metadata

    packages: dict[str, str] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            packages.setdefault(name.lower().replace("_", "-"), distribution.version)
    lines = [f"# python {platform.python_version()} ({sys.implementation.name}) on {platform.system()}"]
    lines += [f"{name}=={version}" for name, version in sorted(packages.items())]
    return "\n".join(lines) + "\n"


def save_environment(folder: Path) -> Artifact:
    from lamella.models import Artifact

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "environment.txt"
    path.write_text(environment_text())
    try:
        return Artifact(path, description="Python environment", kind=ENVIRONMENT_KIND).save()
    finally:
        path.unlink(missing_ok=True)
