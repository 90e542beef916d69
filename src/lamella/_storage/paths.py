"""Turning user-given locations into canonical strings, paths and fsspec filesystems."""

from __future__ import annotations

import importlib
import os
import re
import threading
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem
    from upath import UPath

__all__ = [
    "LocalPath",
    "Location",
    "filesystem",
    "is_cloud",
    "local_str",
    "location_str",
    "protocol_of",
    "remote_fs_path",
    "storage_options",
    "to_local_path",
    "to_path",
]

# Anything a caller may hand us: a string, a pathlib path, or a UPath (which is not always os.PathLike).
Location: TypeAlias = "str | os.PathLike[str] | UPath"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_S3_PROTOCOLS = frozenset({"s3", "s3a"})

_fs_lock = threading.Lock()
_fs_cache: dict[tuple[object, ...], AbstractFileSystem] = {}


def location_str(location: Location) -> str:
    """The location as a string: local paths as given, cloud locations as "scheme://bucket/key"."""
    if isinstance(location, str):
        return location
    # A cloud UPath is not os.PathLike, and str() renders every UPath as a full URL or local path;
    # `lamella.UPath` (upaths.py) wraps one and says so with `_lamella_upath`.
    if (
        isinstance(location, PurePath | os.PathLike)
        and not type(location).__module__.startswith("upath")
        and not getattr(location, "_lamella_upath", False)
    ):
        return os.fspath(location)
    return str(location)


def protocol_of(location: Location) -> str:
    """The URL scheme ("s3", "gs", ...) or "" for a local path (file:// counts as local)."""
    match = _SCHEME.match(location_str(location))
    if match is None:
        return ""
    scheme = match.group(1).lower()
    return "" if scheme in ("file", "local") else scheme


def is_cloud(location: str | os.PathLike[str]) -> bool:
    """True for "s3://..." and any other "scheme://" location except file://."""
    return protocol_of(location) != ""


def local_str(location: Location) -> str:
    """A local location without any file:// prefix."""
    text = location_str(location)
    match = _SCHEME.match(text)
    return text[match.end() :] if match else text


if TYPE_CHECKING:
    _ConcretePath = Path
else:
    _ConcretePath = type(Path())  # PosixPath or WindowsPath: Python 3.11 cannot subclass Path itself


class LocalPath(_ConcretePath):
    """A local `pathlib.Path` with `ln.UPath`'s `view_tree()` and `download_to()`: `artifact.path` of
    an artifact in local storage. Paths derived from it (`/`, `.parent`, `.glob()`) keep the helpers."""

    __slots__ = ()

    def view_tree(
        self,
        level: int = -1,
        limit_to_directories: bool = False,
        length_limit: int = 1000,
        max_files_per_dir_per_type: int = -1,
    ) -> None:
        """Print the folder as a tree; see `ln.UPath.view_tree`."""
        _upaths().view_tree(self, level, limit_to_directories, length_limit, max_files_per_dir_per_type)

    def download_to(
        self, local_path: str | os.PathLike[str], print_progress: bool = True, **kwargs: Any
    ) -> Path:
        """Copy this file or folder to `local_path`; returns the path written. See `ln.UPath.download_to`."""
        return Path(_upaths().download_to(self, local_path, print_progress=print_progress, **kwargs))


def _upaths() -> Any:
    # upaths.py loads upath and fsspec, and imports this module: loaded when a helper is first called
    return importlib.import_module(f"{__package__}.upaths")


def to_local_path(location: Location) -> Path:
    """Absolute, user-expanded, normalized local path (symlinks kept: see `to_path`)."""
    # resolve() stats every component; internal paths are absolute already and this runs several
    # times per saved file, so only user input (to_path) pays for resolving symlinks
    return Path(os.path.abspath(os.path.expanduser(local_str(location))))


def _s3_options() -> dict[str, Any]:
    # Read the environment on every call so a changed endpoint or key yields a new filesystem instance.
    client_kwargs: dict[str, Any] = {}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        client_kwargs["region_name"] = region
    options: dict[str, Any] = {}
    if client_kwargs:
        options["client_kwargs"] = client_kwargs
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        options["key"] = key
        options["secret"] = secret
        token = os.environ.get("AWS_SESSION_TOKEN")
        if token:
            options["token"] = token
    return options


def storage_options(location: Location) -> dict[str, Any]:
    """The fsspec options Lamella uses for this location's protocol."""
    return _s3_options() if protocol_of(location) in _S3_PROTOCOLS else {}


def _bucket_of(location: str) -> str:
    match = _SCHEME.match(location)
    rest = location[match.end() :] if match else location
    return rest.split("/", 1)[0]


def _freeze(value: Any) -> object:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def filesystem(location: str | os.PathLike[str]) -> AbstractFileSystem:
    """The fsspec filesystem for a location, cached per protocol, bucket and connection options."""
    text = location_str(location)
    protocol = protocol_of(text)
    options = storage_options(text)
    cache_key = (protocol, _bucket_of(text) if protocol else "", _freeze(options))
    with _fs_lock:
        fs = _fs_cache.get(cache_key)
        if fs is None:
            fs = _make_filesystem(protocol, options)
            _fs_cache[cache_key] = fs
    return fs


def _make_filesystem(protocol: str, options: dict[str, Any]) -> AbstractFileSystem:
    import fsspec

    if protocol == "":
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()
    # fsspec's own instance cache is keyed by these options, so UPath(..., **options) shares this instance.
    return fsspec.filesystem(protocol, **options)


def remote_fs_path(location: Location) -> tuple[AbstractFileSystem, str]:
    """The filesystem and the protocol-less path ("bucket/key") of a cloud location."""
    text = location_str(location)
    fs = filesystem(text)
    return fs, str(fs._strip_protocol(text)).rstrip("/")


def to_path(location: str | os.PathLike[str]) -> Path | UPath:
    """A local absolute `pathlib.Path`, or a `upath.UPath` with Lamella's connection options for the cloud."""
    if not is_cloud(location):
        return to_local_path(location).resolve()
    from upath import UPath

    text = location_str(location)
    filesystem(text)  # registers the instance in fsspec's cache so the UPath reuses it
    return UPath(text, **storage_options(text))
