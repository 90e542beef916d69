"""The Python environment of a run: installed distributions and their versions, one line each.

Saved as an artifact of an internal kind; identical environments have identical bytes, so the
artifact's content hash stores each distinct environment once and later runs point at it.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lamella.models import Artifact

if TYPE_CHECKING:
    from lamella.models import Artifact

ENVIRONMENT_KIND = "__lamella_env__"  # kind is at most 20 characters


def installed_packages() -> dict[str, str]:
    """{normalized name: version} of the distributions on sys.path, first one found wins (as imports do).

    Read from the `<name>-<version>.dist-info` folder names, which is what the installers write:
    parsing every package's METADATA file takes a noticeable part of a second.
    """
    packages: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            if not folder.endswith((".dist-info", ".egg-info")):
                continue
            name, _, version = folder.rsplit(".", 1)[0].partition("-")
            if name and version:
                packages.setdefault(name.lower().replace("_", "-").replace(".", "-"), version.split("-py")[0])
    return packages


def environment_text() -> str:
    packages = installed_packages()
    lines = [f"# python {platform.python_version()} ({sys.implementation.name}) on {platform.system()}"]
    lines += [f"{name}=={version}" for name, version in sorted(packages.items())]
    return "\n".join(lines) + "\n"


def save_environment(folder: Path) -> Artifact:

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "environment.txt"
    path.write_text(environment_text())
    try:
        return Artifact(path, description="Python environment", kind=ENVIRONMENT_KIND).save()
    finally:
        path.unlink(missing_ok=True)
