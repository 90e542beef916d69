"""What `lamella check` found: one `Problem` per finding, gathered in a `CheckReport`."""

from __future__ import annotations

from dataclasses import dataclass, field

# kinds of problems, in the order the report lists them
DATABASE = "database"  # the database file is missing or damaged
MISSING = "missing"  # an artifact's bytes are gone
SIZE = "size"  # an artifact's bytes have another size than recorded
HASH = "hash"  # an artifact's bytes have another hash than recorded
UNREADABLE = "unreadable"  # an artifact's bytes could not be read
ORPHAN = "orphan"  # a file in the storage's .lamella/ folder that no artifact record names
LEFTOVER = "leftover"  # a staged save whose writer died
KINDS = (DATABASE, MISSING, SIZE, HASH, UNREADABLE, ORPHAN, LEFTOVER)


@dataclass
class Problem:
    kind: str
    subject: str  # the file, or the artifact uid and its file
    detail: str
    fix: str  # what a person can do about it
    repaired: bool = False


@dataclass
class CheckReport:
    """The result of `ln.setup.check()`; `ok` is True when no problem remains."""

    instance: str
    problems: list[Problem] = field(default_factory=list)
    artifacts_checked: int = 0
    artifacts_unverified: int = 0  # no hash recorded, or a hash type this version cannot compute
    bytes_hashed: int = 0
    files_seen: int = 0  # entries in the storages' .lamella/ folders
    reindexed: list[str] = field(default_factory=list)  # uids of the artifact records created
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def remaining(self) -> list[Problem]:
        return [p for p in self.problems if not p.repaired]

    @property
    def repaired(self) -> list[Problem]:
        return [p for p in self.problems if p.repaired]

    @property
    def ok(self) -> bool:
        return not self.remaining

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"{len(self.remaining)} problem(s)"
        return (
            f"CheckReport(instance={self.instance!r}, {state}, artifacts_checked={self.artifacts_checked}, "
            f"repaired={len(self.repaired)}, reindexed={len(self.reindexed)})"
        )
