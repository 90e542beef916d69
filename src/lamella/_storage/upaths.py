"""`ln.UPath`: universal-pathlib's path plus `view_tree()` and `download_to()`, for local and cloud paths.

    >>> ln.UPath("s3://bucket/iris_studies", anon=True).view_tree()
    3 sub-directories & 151 files with suffixes '.csv', '.jpg'
    s3://bucket/iris_studies
    ├── study0_raw_images/
    │   ├── iris-0337d20a.jpg
    ...
    >>> ln.UPath("s3://bucket/iris_studies/study0_raw_images/meta.csv").download_to("meta.csv")
    PosixPath('meta.csv')

`ln.UPath(...)` builds the same `upath.UPath` as universal-pathlib does (`S3Path`, `PosixUPath`, ...)
and wraps it in a `upath.extensions.ProxyUPath`, the library's way to add methods: every path derived
from it (`/`, `.parent`, `.iterdir()`, `.glob()`) keeps the helpers, and `isinstance(p, upath.UPath)`
stays true. The upath classes themselves are left alone.

`isinstance(x, ln.UPath)` is true of every universal-pathlib path, as it was when `ln.UPath` was
upath's own class (so `isinstance(artifact.path, ln.UPath)` keeps working for cloud artifacts); the
helpers need `ln.UPath(x)`. The functions `view_tree(path)` and `download_to(path, local_path)` take
any path. Local `ln.UPath`s are `os.PathLike`, like pathlib's paths; cloud ones are not.
"""

from __future__ import annotations

import os
import posixpath
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import upath
from fsspec.callbacks import Callback
from upath.extensions import ProxyUPath

from lamella.errors import InvalidArgument, PathNotFound, StorageError

from .copying import partial_name
from .keys import suffix_of
from .paths import filesystem, is_cloud, location_str, storage_options
from .progress import progress_for

__all__ = ["UPath", "download_to", "format_tree", "view_tree"]

_LOCAL_PROTOCOLS = frozenset({"", "file", "local"})


class _UPathType(type):
    """`isinstance(x, ln.UPath)` holds for any universal-pathlib path, not only for wrapped ones."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if type.__instancecheck__(cls, instance):
            return True
        return cls is UPath and isinstance(instance, upath.UPath)

    def __subclasscheck__(cls, subclass: type) -> bool:
        if type.__subclasscheck__(cls, subclass):
            return True
        return cls is UPath and issubclass(subclass, upath.UPath)


class UPath(ProxyUPath, metaclass=_UPathType):
    """A local or cloud path (universal-pathlib), with `view_tree()` and `download_to()`.

    `ln.UPath("s3://bucket/key")` connects with Lamella's settings for that bucket (the endpoint and
    keys of the environment) unless storage options are given (`anon=True`, `endpoint_url=...`).
    """

    __slots__ = ()
    _lamella_upath = True  # how `paths.location_str` recognizes it without importing this module

    def __new__(cls, *args: Any, protocol: str | None = None, **options: Any) -> UPath:
        if len(args) == 1 and isinstance(args[0], ProxyUPath) and protocol is None and not options:
            return cls._from_upath(args[0].__wrapped__)
        if len(args) == 1 and isinstance(args[0], upath.UPath) and protocol is None and not options:
            return cls._from_upath(args[0])
        if args and protocol is None and not options and isinstance(args[0], str) and is_cloud(args[0]):
            filesystem(args[0])  # registers the instance in fsspec's cache so the path reuses it
            options = storage_options(args[0])
        return cls._from_upath(upath.UPath(*args, protocol=protocol, **options))

    def __init__(self, *args: Any, protocol: str | None = None, **options: Any) -> None:
        pass  # __new__ did the work

    @classmethod
    def _from_upath(cls, path: Any, /) -> Any:
        if isinstance(path, ProxyUPath):
            path = path.__wrapped__
        target = _LocalUPath if path.protocol in _LOCAL_PROTOCOLS else UPath
        obj = object.__new__(target)
        obj.__wrapped__ = path
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return UPath._from_upath, (self.__wrapped__,)

    def __repr__(self) -> str:
        return f"UPath({str(self)!r})"

    def view_tree(
        self,
        level: int = -1,
        limit_to_directories: bool = False,
        length_limit: int = 1000,
        max_files_per_dir_per_type: int = -1,
    ) -> None:
        """Print the folder as a tree: a summary line, the folder, then its entries, folders with a "/".

        Args:
            level: how many levels deep to go; -1 for all.
            limit_to_directories: show folders only.
            length_limit: print at most this many entries.
            max_files_per_dir_per_type: per folder, show at most this many files of one suffix and
                count the rest; -1 for no limit.
        """
        view_tree(self, level, limit_to_directories, length_limit, max_files_per_dir_per_type)

    def download_to(
        self, local_path: str | os.PathLike[str], print_progress: bool = True, **kwargs: Any
    ) -> Path:
        """Copy this file or folder to `local_path`; returns the path written.

        A file goes to `local_path`, or into it if that is an existing folder; a folder's files go
        below `local_path`, keeping their relative paths. Works for local paths too. `print_progress`
        shows a progress bar when a person watches a terminal. Further keyword arguments go to the
        filesystem's `get_file`.
        """
        return download_to(self, local_path, print_progress=print_progress, **kwargs)


class _LocalUPath(UPath):
    """A local `ln.UPath`: also a path `open()`, `os.fspath()` and pandas take."""

    __slots__ = ()

    def __fspath__(self) -> str:
        return str(os.fspath(self.__wrapped__))  # type: ignore[call-overload]


UPath.__module__ = "lamella"  # public as `lamella.UPath`: the name reprs show and pickle records


# ---- view_tree ---------------------------------------------------------------------------------------


@dataclass
class _Folder:
    folders: dict[str, _Folder] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    opaque: bool = False  # a zarr store: shown, not opened


def _wrapped(path: Any) -> Any:
    """The universal-pathlib path behind a string, a pathlib path or any UPath."""
    if isinstance(path, ProxyUPath):
        return path.__wrapped__
    if isinstance(path, upath.UPath):
        return path
    return UPath(location_str(path)).__wrapped__


def _scan(path: Any, level: int) -> _Folder:
    """The folder's entries down to `level` (all for -1), from one recursive listing."""
    fs, root = path.fs, path.path.rstrip("/")
    try:
        info = fs.info(root)
    except FileNotFoundError as exc:
        raise PathNotFound(f"no folder at {path}; view_tree() lists an existing folder") from exc
    if info.get("type") != "directory":
        raise InvalidArgument(f"{path} is a file; view_tree() lists a folder")
    maxdepth = level if level > 0 else None
    entries = fs.find(root, maxdepth=maxdepth, withdirs=True, detail=True)
    tree = _Folder()
    for name, entry in sorted(entries.items()):
        relative = posixpath.relpath(name.rstrip("/"), root) if name.rstrip("/") != root else "."
        if relative in (".", "") or relative.startswith(".."):
            continue
        parts = relative.split("/")
        folder = tree
        for part in parts[:-1]:
            folder = folder.folders.setdefault(part, _Folder())
            if folder.opaque:
                break
        else:
            if entry.get("type") == "directory":
                child = folder.folders.setdefault(parts[-1], _Folder())
                child.opaque = suffix_of(parts[-1], folder=True).endswith(".zarr")
            else:
                folder.files.append(parts[-1])
    return tree


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def format_tree(
    path: Any,
    level: int = -1,
    limit_to_directories: bool = False,
    length_limit: int = 1000,
    max_files_per_dir_per_type: int = -1,
) -> str:
    """The text `view_tree()` prints."""
    if level == 0 or level < -1:
        raise InvalidArgument(f"level={level}: pass a depth of 1 or more, or -1 for all levels")
    wrapped = _wrapped(path)
    tree = _scan(wrapped, level)
    lines: list[str] = []
    n_folders, n_files = 0, 0
    suffixes: set[str] = set()

    def walk(folder: _Folder, prefix: str) -> None:
        nonlocal n_folders, n_files
        entries: list[tuple[str, _Folder | None]] = [(name, child) for name, child in folder.folders.items()]
        shown_per_suffix: dict[str, int] = defaultdict(int)
        hidden_per_suffix: dict[str, int] = defaultdict(int)
        for name in folder.files:
            n_files += 1
            suffix = suffix_of(name)
            suffixes.add(suffix)
            if limit_to_directories:
                continue
            if 0 <= max_files_per_dir_per_type <= shown_per_suffix[suffix]:
                hidden_per_suffix[suffix] += 1
                continue
            shown_per_suffix[suffix] += 1
            entries.append((name, None))
        entries.sort(key=lambda item: item[0])
        summaries = [
            f"... {_plural(count, 'more file', 'more files')} with suffix {suffix!r}"
            for suffix, count in sorted(hidden_per_suffix.items())
        ]
        items: list[tuple[str, _Folder | None]] = entries + [(text, None) for text in summaries]
        for position, (name, child) in enumerate(items):
            last = position == len(items) - 1
            branch = "└── " if last else "├── "
            if child is None:
                lines.append(f"{prefix}{branch}{name}")
                continue
            n_folders += 1
            lines.append(f"{prefix}{branch}{name}/")
            if not child.opaque:
                walk(child, prefix + ("    " if last else "│   "))

    walk(tree, "")
    if limit_to_directories:
        summary = _plural(n_folders, "sub-directory", "sub-directories")
    else:
        summary = (
            f"{_plural(n_folders, 'sub-directory', 'sub-directories')} & {_plural(n_files, 'file', 'files')}"
        )
        if suffixes:
            summary += " with suffixes " + ", ".join(repr(s) for s in sorted(suffixes))
    shown = lines[:length_limit] if length_limit >= 0 else lines
    if len(shown) < len(lines):
        shown.append(f"... only showing {length_limit} of {len(lines)} entries (length_limit={length_limit})")
    root = str(wrapped).rstrip("/") if is_cloud(str(wrapped)) else location_str(wrapped)
    return "\n".join([summary, root, *shown])


def view_tree(
    path: Any,
    level: int = -1,
    limit_to_directories: bool = False,
    length_limit: int = 1000,
    max_files_per_dir_per_type: int = -1,
) -> None:
    """Print a folder (local or cloud, a string or any path) as a tree; see `UPath.view_tree`."""
    print(format_tree(path, level, limit_to_directories, length_limit, max_files_per_dir_per_type))


# ---- download_to -------------------------------------------------------------------------------------


class _Advance(Callback):
    """fsspec's per-file progress, forwarded to a progress bar as increments."""

    def __init__(self, advance: Callable[[int], None]) -> None:
        super().__init__()
        self._advance = advance
        self._reported = 0

    def call(self, *args: Any, **kwargs: Any) -> None:
        value = self.value or 0
        if value > self._reported:
            self._advance(value - self._reported)
            self._reported = value


def _fetch(
    fs: Any, remote: str, target: Path, advance: Callable[[int], None], kwargs: dict[str, Any]
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = partial_name(target)
    try:
        fs.get_file(remote, str(temp), callback=_Advance(advance), **kwargs)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def download_to(
    path: Any, local_path: str | os.PathLike[str], print_progress: bool = True, **kwargs: Any
) -> Path:
    """Copy the file or folder at `path` (local or cloud) to `local_path`; see `UPath.download_to`."""
    destination = os.fspath(local_path)
    if is_cloud(destination):
        raise InvalidArgument(
            f"download_to() writes to a local path, not {destination}; to copy between buckets use "
            "the filesystem: ln.UPath(...).fs.copy(...)"
        )
    wrapped = _wrapped(path)
    fs, remote = wrapped.fs, wrapped.path.rstrip("/")
    target = Path(destination).expanduser()
    try:
        info = fs.info(remote)
        if info.get("type") == "directory":
            files = {
                name: entry
                for name, entry in fs.find(remote, detail=True).items()
                if entry.get("type") != "directory"
            }
            total = sum(int(entry.get("size") or 0) for entry in files.values())
            jobs = [(name, target / posixpath.relpath(name, remote)) for name in sorted(files)]
            target.mkdir(parents=True, exist_ok=True)
        else:
            total = int(info.get("size") or 0)
            if target.is_dir():
                target = target / posixpath.basename(remote)
            jobs = [(remote, target)]
        enabled = None if print_progress else False
        with progress_for(total, f"downloading {posixpath.basename(remote)}", enabled=enabled) as advance:
            for name, file_target in jobs:
                _fetch(fs, name, file_target, advance, kwargs)
    except FileNotFoundError as exc:
        raise PathNotFound(f"Cannot download {wrapped}: it does not exist. Check the path.") from exc
    except OSError as exc:
        raise StorageError(f"Cannot download {wrapped} to {target}: {exc}") from exc
    return target
