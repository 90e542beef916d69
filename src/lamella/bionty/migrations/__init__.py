"""The bionty module's own Alembic migrations, versioned in `bionty_alembic_version`.

`HEAD_REVISION` is the newest revision in `versions/`; a test keeps the two in step. A database that
gets the module's tables from the models is stamped with it; `lamella migrate` upgrades older ones.
"""

from __future__ import annotations

from pathlib import Path

HEAD_REVISION = "bionty_0003"
KNOWN_REVISIONS = ("bionty_0001", "bionty_0002", "bionty_0003")
VERSION_TABLE = "bionty_alembic_version"
MIGRATIONS_DIR = Path(__file__).parent
