"""`ln.settings`: runtime settings of the connected instance (storage, cache, run-input tracking,
record creation, git sync) and LaminDB 0.x's `ln.settings.transform`.

The values live in the process state (`_instance/state.py`), where the registries and the tracking
layer read them and `process.reset()` forgets them.
"""

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
from lamella._query.legacy_lookups import warn_legacy
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
SETTABLE = ("cache_dir", "storage", "sync_git_repo", "track_run_inputs", "verbosity")
SYNC_GIT_REPO_ENV = "LAMELLA_SYNC_GIT_REPO"


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


class TransformSettings:
    """LaminDB 0.x's `ln.settings.transform`: the identity `ln.track()` gives the script or notebook.

    `stem_uid` (12 characters) names the transform family; `version` is the version tag, and a
    changed source under the same tag is refused (bump the tag); `name` becomes the description.
    Each use warns with today's spelling.
    """

    @property
    def stem_uid(self) -> str | None:
        warn_legacy("ln.settings.transform.stem_uid", "ln.track('<stem uid>')")
        return state.process.transform_stem_uid

    @stem_uid.setter
    def stem_uid(self, value: str | None) -> None:
        warn_legacy("ln.settings.transform.stem_uid = ...", "ln.track('<stem uid>')")
        if value is not None and (not isinstance(value, str) or len(value) != 12 or not value.isalnum()):
            raise InvalidArgument(
                f"ln.settings.transform.stem_uid takes the 12 letters and digits of a transform's stem uid, "
                f"not {value!r}"
            )
        state.process.transform_stem_uid = value

    @property
    def version(self) -> str | None:
        warn_legacy("ln.settings.transform.version", _VERSION_TODAY)
        return state.process.transform_version

    @version.setter
    def version(self, value: str | int | None) -> None:
        warn_legacy("ln.settings.transform.version = ...", _VERSION_TODAY)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise InvalidArgument(f"ln.settings.transform.version takes a version string, not {value!r}")
        state.process.transform_version = None if value is None else str(value)

    @property
    def name(self) -> str | None:
        warn_legacy("ln.settings.transform.name", "ln.Transform(key=..., description=...)")
        return state.process.transform_name

    @name.setter
    def name(self, value: str | None) -> None:
        warn_legacy("ln.settings.transform.name = ...", "ln.Transform(key=..., description=...)")
        if value is not None and not isinstance(value, str):
            raise InvalidArgument(f"ln.settings.transform.name takes a string, not {value!r}")
        state.process.transform_name = value

    def __repr__(self) -> str:
        process = state.process
        return (
            f"TransformSettings(stem_uid={process.transform_stem_uid!r}, "
            f"version={process.transform_version!r}, name={process.transform_name!r})"
        )


_VERSION_TODAY = (
    "ln.track() (a new version when the source changes; a tag: ln.Transform(key=..., version=...))"
)


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
    def creation(self) -> state.CreationSettings:
        """How records are created: `search_names`, `artifact_silence_missing_run_warning`, ...

        `ln.settings.creation.search_names = False` skips looking up a named record (ULabel, Project,
        ...) when it is constructed, which speeds up creating many; `.save()` still returns the saved
        record of that name instead of a duplicate.
        """
        return state.process.creation

    @property
    def sync_git_repo(self) -> str | None:
        """A git repository URL: `ln.track()` then records a script as the file at a commit of it.

        The transform's `reference` becomes `<repo>/blob/<commit>/<path>` (`reference_type` "url"): the
        commit of the script's checkout when that is a clone of the repository and the file is
        committed unchanged, else the newest commit of the repository that holds the script's exact
        content; none is an error. Defaults to the `LAMELLA_SYNC_GIT_REPO` environment variable.
        """
        value = state.process.sync_git_repo
        if value is None:
            value = os.environ.get(SYNC_GIT_REPO_ENV, "").strip().rstrip("/") or None
        return value

    @sync_git_repo.setter
    def sync_git_repo(self, url: str | os.PathLike[str] | None) -> None:
        if url is not None and (not isinstance(url, str | os.PathLike) or not str(url).strip()):
            raise InvalidArgument(
                f"ln.settings.sync_git_repo takes a git repository URL such as "
                f"'https://github.com/org/repo', or None; not {url!r}"
            )
        state.process.sync_git_repo = None if url is None else str(url).strip().rstrip("/")

    @property
    def transform(self) -> TransformSettings:
        """LaminDB 0.x: `ln.settings.transform.stem_uid` / `.version` / `.name` before `ln.track()`."""
        return _TRANSFORM_SETTINGS

    @property
    def instance(self) -> state.Instance:
        return state.current()

    @property
    def hash_type(self) -> str:
        """The algorithm the connected instance hashes artifacts' bytes with: "blake3", or "md5" for an
        instance created before Lamella used BLAKE3 (it keeps md5 so that saving a file again finds the
        artifact it made before). Each artifact records its own in `artifact._hash_type`."""
        return state.current().hash_type

    @hash_type.setter
    def hash_type(self, value: Any) -> None:
        raise InvalidArgument(
            f"ln.settings.hash_type cannot be set (to {value!r}): an instance keeps the hash type it was "
            "created with, so that its artifacts stay comparable; create a new instance for another"
        )

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
        hashes = f", hash_type={instance.hash_type!r}" if instance else ""
        return (
            f"Settings(instance={where!r}{hashes}, cache_dir={str(self.cache_dir)!r}, "
            f"track_run_inputs={self.track_run_inputs}, sync_git_repo={self.sync_git_repo!r}, "
            f"creation={self.creation!r})"
        )


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


_TRANSFORM_SETTINGS = TransformSettings()
settings = Settings()
