"""AnnData shards in an object store (S3, GCS, ...), read in place through fsspec: no local copy.

`RemotePath` is the shard's URL and its fsspec filesystem. It pickles as the two (an fsspec
filesystem pickles as its class and options: the options Lamella's `UPath`s carry, endpoint and keys
read from the environment, travel with it; a plain `s3://` URL's filesystem has none, and s3fs reads
the environment in each process), and every process makes its own filesystem instance on first use,
so the worker processes of a `DataLoader` open the remote files themselves.

An `.h5ad` shard is read by h5py from an fsspec file object; `open_h5_file` chooses its cache for
random rows (see `BLOCK_SIZE`). A `.zarr` shard opens as a zarr group over an `FsspecStore`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fsspec
from fsspec.spec import AbstractFileSystem, make_instance

from lamella.errors import InvalidArgument, LamellaError, PathNotFound, StorageError

__all__ = ["BLOCK_SIZE", "RemotePath", "as_remote", "remote_errors"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_LOCAL_PROTOCOLS = {"", "file", "local"}

# h5ad shards are read through fsspec's "blockcache": an LRU of fixed blocks, kept per open file.
# Random rows touch scattered blocks, and HDF5 goes back to its metadata (B-tree nodes, object
# headers) often, which stays cached; "readahead" and "background" serve sequential reads only (on
# random rows "readahead" refetches at every jump, "background" fetches blocks no row needs). Every
# block missed is one GET, HDF5's reads are sequential, and a GET costs the store's latency (tens of
# ms on S3) plus its bytes: 1 MiB blocks let rows near each other share a GET for a few ms of transfer
# each; 16 of them bound the cache at 16 MiB per open shard (and process).
BLOCK_SIZE = 1024 * 1024
MAX_BLOCKS = 16
CACHE_TYPE = "blockcache"


class RemotePath:
    """A shard at `url` ("s3://bucket/key.h5ad") on the fsspec filesystem `fs`. Picklable."""

    def __init__(self, url: str, fs: AbstractFileSystem) -> None:
        self.url = url.rstrip("/")
        self.path = str(fs._strip_protocol(self.url)).rstrip("/")  # the filesystem's path: "bucket/key"
        self._fs = fs
        self._pid = os.getpid()

    @property
    def fs(self) -> AbstractFileSystem:
        """The filesystem, made anew in a process other than the one that made it (an async
        filesystem such as s3fs is bound to its process's event loop)."""
        if self._pid != os.getpid():
            fs = self._fs
            self._fs = make_instance(type(fs), fs.storage_args, fs.storage_options)
            self._pid = os.getpid()
        return self._fs

    @property
    def name(self) -> str:
        return self.url.rpartition("/")[2]

    @property
    def suffix(self) -> str:
        stem, dot, suffix = self.name.rpartition(".")
        return f".{suffix}" if dot and stem else ""

    def __reduce__(self) -> tuple[Any, ...]:
        return RemotePath, (self.url, self._fs)

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"RemotePath({self.url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemotePath) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    def child(self, name: str) -> str:
        return f"{self.path}/{name}"

    def open_h5_file(self) -> Any:
        """A read-only fsspec file object for h5py, with a block cache for random reads."""
        with remote_errors(self.url):
            return self.fs.open(
                self.path,
                "rb",
                block_size=BLOCK_SIZE,
                cache_type=CACHE_TYPE,
                cache_options={"maxblocks": MAX_BLOCKS},
            )

    def mapper(self) -> Any:
        """The shard as fsspec's key-value mapping (what zarr's `FsspecStore.from_mapper` takes)."""
        return self.fs.get_mapper(self.path)


def as_remote(location: Any) -> RemotePath | None:
    """A `RemotePath` for a URL with a scheme other than file:// ("s3://...") or a cloud `UPath`;
    None for a local path."""
    if isinstance(location, RemotePath):
        return location
    if isinstance(location, str):
        match = _SCHEME.match(location)
        if match is None or match.group(1).lower() in _LOCAL_PROTOCOLS:
            return None
        protocol = match.group(1)
        if protocol not in fsspec.registry and protocol not in fsspec.available_protocols():
            raise InvalidArgument(
                f"{location} has the protocol {protocol!r}, which fsspec does not know: "
                "pass a local path, or a URL such as 's3://bucket/key.h5ad'"
            )
        with remote_errors(location):
            fs, _ = fsspec.core.url_to_fs(location)
        return RemotePath(location, fs)
    protocol = getattr(location, "protocol", None)
    fs = getattr(location, "fs", None)
    if isinstance(protocol, str) and isinstance(fs, AbstractFileSystem):  # a UPath (fsspec-backed)
        if protocol in _LOCAL_PROTOCOLS:
            return None
        return RemotePath(str(location), fs)
    return None


@contextmanager
def remote_errors(url: str) -> Iterator[None]:
    """Turn what fsspec and the cloud SDKs raise into `PathNotFound` and `StorageError` naming `url`."""
    try:
        yield
    except LamellaError:
        raise
    except FileNotFoundError as error:
        raise PathNotFound(
            f"no AnnData shard at {url}: check the URL, or that the object was not deleted from the bucket"
        ) from error
    except PermissionError as error:
        raise StorageError(
            f"no permission to read {url} ({error}): check the credentials in the environment "
            "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, for S3) and the bucket's policy"
        ) from error
    except ImportError as error:
        raise StorageError(
            f"reading {url} needs the fsspec filesystem of its protocol ({error}): "
            "pip install s3fs (S3), gcsfs (GCS) or adlfs (Azure)"
        ) from error
    except Exception as error:  # the SDKs' connection errors are not OSErrors (botocore's, say)
        raise StorageError(
            f"cannot read {url}: {type(error).__name__}: {error}. Check that the storage is reachable "
            "(network, endpoint: AWS_ENDPOINT_URL for S3) and the credentials in the environment"
        ) from error
