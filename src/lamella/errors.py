"""The exceptions Lamella raises. Every one derives from `LamellaError`.

```
LamellaError
├── ValidationError(ValueError)          a value, dataset or schema does not validate
├── InvalidArgument(ValueError)          a call was made with arguments that cannot work
├── OutOfRange(IndexError)               an index past the end of a dataset (data loaders, batches)
├── DoesNotExist(LookupError)            get()/one() found nothing
├── MultipleResultsFound(LookupError)    one() found several
├── IntegrityError                       a write would break a uniqueness or reference rule
├── StorageError(OSError)                reading or writing bytes failed, or the database file is damaged
│   ├── PathNotFound(FileNotFoundError)      no file or folder at a path or cloud key
│   ├── PathIsAFolder(IsADirectoryError)     a file was expected, a folder is there
│   ├── PathNotAFolder(NotADirectoryError)   a folder was expected, a file (or nothing) is there
│   └── UnreadableFile(ValueError)           the bytes are there but do not read in their format
├── ReadOnlyError(PermissionError)       a write on an instance connected read-only
└── NotConnected(RuntimeError)           no instance could be connected
```

Messages name the offending value and say how to fix it.

Each class also derives from the builtin exception Python code would expect in its place, so
`except FileNotFoundError:` catches a `PathNotFound` and `except ValueError:` an `InvalidArgument`.
No bare builtin exception escapes a public call: one from a library or the operating system is
converted to the class here that says what went wrong, chained with `from`.
"""

from __future__ import annotations

__all__ = [
    "DoesNotExist",
    "IntegrityError",
    "InvalidArgument",
    "LamellaError",
    "MultipleResultsFound",
    "NotConnected",
    "OutOfRange",
    "PathIsAFolder",
    "PathNotAFolder",
    "PathNotFound",
    "ReadOnlyError",
    "StorageError",
    "UnreadableFile",
    "ValidationError",
]


class LamellaError(Exception):
    """Base of every error Lamella raises on purpose."""


class ValidationError(LamellaError, ValueError):
    """A value, dataset or schema does not validate."""


class InvalidArgument(LamellaError, ValueError):
    """A call was made with arguments that cannot work."""


class OutOfRange(LamellaError, IndexError):
    """An index past the end of a dataset, such as a row of a mapped collection (an `IndexError`, so
    iteration and data loaders stop where Python's protocols expect)."""


class DoesNotExist(LamellaError, LookupError):
    """`get()` or `one()` found no record."""


class MultipleResultsFound(LamellaError, LookupError):
    """`one()` or `get()` found more than one record."""


class IntegrityError(LamellaError):
    """A write would break a uniqueness or reference rule."""


class StorageError(LamellaError, OSError):
    """Reading or writing bytes failed, or the database file is damaged."""


class PathNotFound(StorageError, FileNotFoundError):
    """No file or folder at a path or cloud key (also a `FileNotFoundError`)."""


class PathIsAFolder(StorageError, IsADirectoryError):
    """A file was expected at a path, and a folder is there (also an `IsADirectoryError`)."""


class PathNotAFolder(StorageError, NotADirectoryError):
    """A folder was expected at a path, and a file, or nothing, is there (also a `NotADirectoryError`)."""


class UnreadableFile(StorageError, ValueError):
    """The bytes are there but do not read in the format their suffix names: damaged, or another format
    (also a `ValueError`, which the readers of pandas, pyarrow and json raise for this)."""


class ReadOnlyError(LamellaError, PermissionError):
    """A write was attempted on an instance connected read-only (by request, or because the
    database or the role cannot write)."""


class NotConnected(LamellaError, RuntimeError):
    """No instance could be connected."""
