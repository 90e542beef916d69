"""The exceptions Lamella raises. Every one derives from `LamellaError`.

```
LamellaError
├── ValidationError(ValueError)          a value, dataset or schema does not validate
├── InvalidArgument(ValueError)          a call was made with arguments that cannot work
├── DoesNotExist(LookupError)            get()/one() found nothing
├── MultipleResultsFound(LookupError)    one() found several
├── IntegrityError                       a write would break a uniqueness or reference rule
├── StorageError(OSError)                reading or writing bytes failed, or the database file is damaged
├── ReadOnlyError(PermissionError)       a write on an instance connected read-only
└── NotConnected(RuntimeError)           no instance could be connected
```

Messages name the offending value and say how to fix it.
"""

from __future__ import annotations

__all__ = [
    "DoesNotExist",
    "IntegrityError",
    "InvalidArgument",
    "LamellaError",
    "MultipleResultsFound",
    "NotConnected",
    "ReadOnlyError",
    "StorageError",
    "ValidationError",
]


class LamellaError(Exception):
    """Base of every error Lamella raises on purpose."""


class ValidationError(LamellaError, ValueError):
    """A value, dataset or schema does not validate."""


class InvalidArgument(LamellaError, ValueError):
    """A call was made with arguments that cannot work."""


class DoesNotExist(LamellaError, LookupError):
    """`get()` or `one()` found no record."""


class MultipleResultsFound(LamellaError, LookupError):
    """`one()` or `get()` found more than one record."""


class IntegrityError(LamellaError):
    """A write would break a uniqueness or reference rule."""


class StorageError(LamellaError, OSError):
    """Reading or writing bytes failed, or the database file is damaged."""


class ReadOnlyError(LamellaError, PermissionError):
    """A write was attempted on an instance connected read-only (by request, or because the
    database or the role cannot write)."""


class NotConnected(LamellaError, RuntimeError):
    """No instance could be connected."""
