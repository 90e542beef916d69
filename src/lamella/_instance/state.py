"""What this process remembers between calls, in one object: `process`.

The connected instance, the run context of `ln.track()` and `@ln.tracked()` / `@ln.flow()` /
`@ln.step()` (run, project, branch, space), the runtime settings (`ln.settings.cache_dir`,
`track_run_inputs`, `creation`, `sync_git_repo`) and the caches that speed saves and reads up. It lives
in the lowest layer that needs it, so a save (in `models`) reads the current run without importing
the tracking layer that sets it. `process.reset()` forgets all of it, as a new process would.

Connecting happens on first use, never on import. This layer cannot know how to connect (that is
the setup layer above the registries), so it calls the `connect` hook, which the facade fills.

Other instances (`ln.Artifact.using("name")`, `ln.DB("name")`) are opened read-only beside the
connection, never instead of it (`process.others`). Their records carry their instance
(`instance_of(record)`), and code that works on such a record runs inside `reading(instance)`: a
context variable that `current()` answers with while it is set, so every read below a record's
method goes to the record's database, and every write there meets a read-only database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamella._instance import paths, search_index
from lamella._instance.config import OPTIONAL_MODULES
from lamella._instance.hooks import hooks
from lamella._logging import logger
from lamella.errors import InvalidArgument, PathNotAFolder, StorageError

if TYPE_CHECKING:
    from lamella._instance.config import InstanceConfig, UserConfig
    from lamella._instance.database import Database


MAIN_BRANCH = 1  # the branch ids: 1 main, 0 archive, -1 trash, 2 and up created by users
ALL_SPACE = 1  # the space every record starts in
# the table of the settings every client of an instance must agree on (models/core/instance_records.py)
SETTINGS_TABLE = "instance_setting"
# the instance setting that names the algorithm its bytes are hashed with (`lamella._storage.hashing`);
# an instance that lacks it predates the setting, and those hashed md5
HASH_TYPE_SETTING = "hash_type"
HASH_TYPE_BEFORE_SETTING = "md5"


@dataclass
class Instance:
    config: InstanceConfig
    db: Database
    user: UserConfig
    user_id: int | None  # None: connected read-only as a user the instance has not seen yet
    storage_id: int
    storage_root: str
    read_only_requested: bool = False  # what the caller asked for; `read_only` is what it got
    other: bool = False  # opened by `.using()` / `ln.DB()` to read beside the connection, never connected
    _hash_type: str | None = field(default=None, repr=False)
    _search_index: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def hash_type(self) -> str:
        """The algorithm this instance hashes bytes with: "blake3", or "md5" for an instance created
        before BLAKE3 (so a file saved again still finds its copy). Stored in the instance's database,
        so every client agrees; read once, when a hash is first needed."""
        if self._hash_type is None:
            self._hash_type = self.db.setting(HASH_TYPE_SETTING) or HASH_TYPE_BEFORE_SETTING
        return self._hash_type

    @property
    def search_index(self) -> str:
        """Whether search is served by trigram indexes ("trigram") or scans ("scan": pg_trgm could not
        be enabled, or SQLite lacks FTS5 trigram; `_instance/search_index.py`). Read once, at the
        first search; a scanning instance says so then, with the fix."""
        if self._search_index is None:
            value = self.db.setting(search_index.SEARCH_INDEX_SETTING) or search_index.SCAN
            if value == search_index.SCAN:
                logger.warning(
                    search_index.scan_message(self.db.dialect, "its database has no search indexes")
                )
            self._search_index = value
        return self._search_index

    @property
    def read_only(self) -> bool:
        return self.db.read_only

    @property
    def slug(self) -> str:
        """`owner/name` (the owner: this machine's user), as `.using()` and `ln.DB()` accept it."""
        return f"{self.user.handle}/{self.config.name}"

    def has_table(self, name: str) -> bool:
        """Whether the table is in this instance: core tables always, a module's when it uses the module."""
        module = name.split("_", 1)[0]
        return module not in OPTIONAL_MODULES or module in self.config.modules


class RunContext:
    """`ln.context`: the transform, run, project, branch and space of `ln.track()` in this process.

    The tracking layer sets these; saves read them through `current_run()`, `current_project()`,
    `current_branch_id()` and `current_space_id()`.
    """

    def __init__(self) -> None:
        # a Transform, a Run, a Project, a Branch and a Space, or None: typed loosely, the registries
        # sit layers above
        self.transform: Any = None
        self.run: Any = None
        self.project: Any = None
        self.branch: Any = None  # None: main
        self.space: Any = None  # None: the space "all"
        self._instance_uid: str | None = None  # the instance the run lives in
        self._capture: Any = None  # the script's stdout/stderr tee (tracking's ScriptCapture)
        self._notebook: Path | None = None

    def __repr__(self) -> str:
        return f"Context(transform={self.transform!r}, run={self.run!r})"


@dataclass
class RunScope:
    """The run of a tracked function, flow or step call, and what its saves inherit.

    Lives in the `function_run` context variable, so threads and asyncio tasks each see their own.
    """

    run: Any
    instance_uid: str
    project: Any = None
    branch_id: int = MAIN_BRANCH
    space_id: int = ALL_SPACE
    restore: Any = None  # a flow's: the `ln.context` values to put back when it returns


class CreationSettings:
    """`ln.settings.creation`: how records are created (LaminDB's `CreationSettings`)."""

    _FIELDS = {
        # look up a named record (ULabel, Project, Record, ...) when it is constructed and return the
        # saved one; False skips that query (faster bulk creation): `.save()` still finds it
        "search_names": True,
        # accepted for LaminDB code; an S3 object's size and ETag come with the request that checks
        # it exists, so there is no separate query to skip
        "artifact_skip_size_hash": False,
        # no warning when an artifact is created outside a run (ln.track() / @ln.flow())
        "artifact_silence_missing_run_warning": False,
    }

    def __init__(self) -> None:
        for name, default in self._FIELDS.items():
            object.__setattr__(self, name, default)

    if not TYPE_CHECKING:  # mypy sees the annotations below

        def __setattr__(self, name: str, value: Any) -> None:
            if name not in self._FIELDS:
                raise InvalidArgument(
                    f"ln.settings.creation has no setting {name!r}; the settings are {', '.join(self._FIELDS)}"
                )
            if not isinstance(value, bool):
                raise InvalidArgument(f"ln.settings.creation.{name} takes True or False, not {value!r}")
            object.__setattr__(self, name, value)

    search_names: bool
    artifact_skip_size_hash: bool
    artifact_silence_missing_run_warning: bool

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)}" for name in self._FIELDS)
        return f"CreationSettings({values})"


class ProcessState:
    """Everything process-wide, so that one `reset()` forgets it (tests; switching instances)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.instance: Instance | None = None
        self.context = RunContext()
        # runtime settings (`ln.settings`)
        self.cache_dir: Path | None = None
        self.track_run_inputs = True
        self.creation = CreationSettings()
        self.sync_git_repo: str | None = None  # None: the LAMELLA_SYNC_GIT_REPO environment variable
        # LaminDB 0.x's `ln.settings.transform.stem_uid` / `.version` / `.name`: the identity track() gives
        # the script or notebook
        self.transform_stem_uid: str | None = None
        self.transform_version: str | None = None
        self.transform_name: str | None = None
        self.warned_missing_run = False  # the warning for an artifact made outside a run, once
        self.branch_id = MAIN_BRANCH  # `ln.setup.switch(branch)`: where records go outside a run's own branch
        # caches: (instance uid, run id) -> (link table, record id) linked as inputs; (instance uid, storage id)
        # -> storage root; (instance uid, function key) -> transform id of a tracked function
        self.linked_inputs: dict[tuple[str, int], set[tuple[str, int]]] = {}
        self.storage_roots: dict[tuple[str, int], str] = {}
        self.tracked_transforms: dict[tuple[str, Any], int] = {}
        # caches of optional modules (bionty: saved sources by instance, entity, organism, version)
        self.module_caches: dict[str, dict[Any, Any]] = {}
        # other instances opened read-only by `.using()` / `ln.DB()`, by instance uid
        self.others: dict[str, Instance] = {}

    def reset(self) -> None:
        """Forget the connection, the run context, the settings and every cache."""
        instance = self.instance
        set_current(None)
        if instance is not None:
            instance.db.dispose()
        capture, self.context._capture = self.context._capture, None
        if capture is not None:  # a script run's stdout/stderr tee and exception hook
            capture.stop()
        self.context.__init__()  # type: ignore[misc]  # in place: `ln.context` is this object
        self.cache_dir = None
        self.track_run_inputs = True
        self.creation = CreationSettings()
        self.sync_git_repo = None
        self.transform_stem_uid = self.transform_version = self.transform_name = None
        self.warned_missing_run = False
        self.branch_id = MAIN_BRANCH
        self.linked_inputs.clear()
        self.storage_roots.clear()
        self.tracked_transforms.clear()
        self.module_caches.clear()
        others, self.others = list(self.others.values()), {}
        for other in others:
            other.db.dispose()


process = ProcessState()

# the innermost tracked function's (or flow's, or step's) run scope; a context variable, so threads and
# asyncio tasks each see their own
function_run: ContextVar[RunScope | None] = ContextVar("lamella_function_run", default=None)
# what a function run of another instance leaves to saves in this one: no run, project, branch or space
_OTHER_INSTANCE = RunScope(run=None, instance_uid="")


# the other instance whose record is being worked on (see the module's docstring); None: the connection
_reading: ContextVar[Instance | None] = ContextVar("lamella_reading", default=None)


def current() -> Instance:
    """The instance to work with: the other instance being read (inside `reading()`), else the
    connected one, connecting (or creating the default instance) on first use."""
    other = _reading.get()
    if other is not None:
        return other
    instance = process.instance
    if instance is not None:
        return instance
    with process.lock:
        if process.instance is None:
            process.instance = hooks.connect()
        return process.instance


def peek() -> Instance | None:
    return _reading.get() or process.instance


def reading_other() -> Instance | None:
    """The other instance being read right now, or None (working with the connection)."""
    return _reading.get()


@contextmanager
def reading(instance: Instance | None) -> Iterator[None]:
    """Work with `instance` inside the block: an other instance's records are read there, and writes
    meet its read-only database. `reading(None)` (or the connected instance) works with the connection."""
    if instance is not None and not instance.other:
        instance = None
    if instance is _reading.get():
        yield
        return
    token = _reading.set(instance)
    try:
        yield
    finally:
        _reading.reset(token)


# where a record read from another instance keeps it (in its `__dict__`), and the key of the `info` of
# that instance's sessions that tells the records they load (models/core/other_instances.py)
RECORD_KEY = "_lamella_instance"
SESSION_KEY = "lamella_instance"


def instance_of(record: Any) -> Instance | None:
    """The other instance a record was read from; None for the connection's records (and new ones)."""
    return record.__dict__.get(RECORD_KEY)


def check_same_instance(record: Any, instance: Instance | None, use: str) -> None:
    """A record used with records or queries of `instance` (None: the connection) must come from there."""
    other = instance_of(record)
    if other is instance:
        return
    if other is not None:
        raise InvalidArgument(
            f"{record!r} was read from instance {other.slug!r}; {use} takes records of "
            f"{'the connected instance' if instance is None else repr(instance.slug)}: copy it into the "
            f"connected instance first with .save(), which returns the copy"
        )
    assert instance is not None
    raise InvalidArgument(
        f"{record!r} belongs to the connected instance; {use} takes records of instance {instance.slug!r}"
    )


def set_current(instance: Instance | None) -> None:
    with process.lock:
        old, process.instance = process.instance, instance
    if old is not None and old is not instance:
        # objects of the old instance keep working until garbage-collected; close idle connections
        old.db.engine.dispose(close=False)


def connected_uid() -> str | None:
    instance = process.instance
    return instance.config.uid if instance is not None else None


def _script_run() -> Any:
    """The run of `ln.track()`, while it is not finished and its instance is the connected one."""
    if _reading.get() is not None:  # reading another instance links nothing into this one's runs
        return None
    context = process.context
    run = context.run
    if run is None or run.__dict__.get("finished_at") is not None:
        return None
    return run if context._instance_uid == connected_uid() else None


def _function_scope() -> RunScope | None:
    """The innermost function run's scope; a blank one while that run belongs to another instance."""
    scope = function_run.get()
    if scope is not None and scope.instance_uid != connected_uid():
        return _OTHER_INSTANCE
    return scope


def current_run() -> Any:
    """The run new records link to: the innermost tracked function's, else the script's (until finished)."""
    if _reading.get() is not None:  # a method of another instance's record: no function run there
        return _script_run()
    scope = _function_scope()
    return scope.run if scope is not None else _script_run()


def current_project() -> Any:
    """The project of the current run (`ln.track(project=...)`, inherited by the functions it calls)."""
    scope = _function_scope()
    if scope is not None:
        return scope.project
    return process.context.project if _script_run() is not None else None


def current_branch_id() -> int:
    """The branch new records go to: the current run's (`ln.track(branch=...)`), else the one
    `ln.setup.switch()` chose, else main (1)."""
    scope = _function_scope()
    if scope is not None:
        return scope.branch_id
    branch = process.context.branch
    if branch is not None and _script_run() is not None:
        return int(branch.id)
    return process.branch_id  # main, unless `ln.setup.switch()` chose another branch


def current_space_id() -> int:
    """The space new records go to: the current run's (`ln.track(space=...)`), else "all" (1)."""
    scope = _function_scope()
    if scope is not None:
        return scope.space_id
    space = process.context.space
    return ALL_SPACE if space is None or _script_run() is None else int(space.id)


def cache_dir() -> Path:
    """The cache folder (`ln.settings.cache_dir`), created on first use."""
    folder = process.cache_dir or paths.default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as e:
        raise PathNotAFolder(
            f"the cache folder {folder} is a file (or lies below one); set ln.settings.cache_dir "
            f"(or LAMELLA_CACHE_DIR) to a folder"
        ) from e
    except OSError as e:
        raise StorageError(
            f"cannot create the cache folder {folder}: {e}; set ln.settings.cache_dir (or "
            f"LAMELLA_CACHE_DIR) to a folder you can write"
        ) from e
    return folder
