"""When Lamella holds off CPython's cyclic garbage collector, and why.

Loading SQLAlchemy and the registries, and making or saving many records, allocate hundreds of
thousands of objects that live on: each allocation burst sets off full collections over the whole
heap that find nothing to free. Standard library only, so `import lamella` can use it for free.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

__all__ = ["gc_paused", "import_long_lived", "skip_collection_at_exit"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the block runs (many long-lived objects are made in it).

    Each ORM object is a small cycle with its state: tens of thousands of them set off full
    collections over the whole heap, which cost a third of a bulk `from_values`; importing the
    registries sets off one that costs 20 ms. Collection resumes after the block, as it was before it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def import_long_lived(module_name: str) -> ModuleType:
    """Import a module whose objects live as long as the process (the registries and SQLAlchemy).

    Collection is paused while it loads, then everything alive is frozen (`gc.freeze()`): the
    collector never walks those objects again. Pausing alone would only postpone the full collection
    the import sets off (20-30 ms of the first answer) to right after it, and every later full
    collection (bulk saves make many) would walk SQLAlchemy's few hundred thousand objects again.
    Frozen objects are still freed by reference counting; one that ends up as garbage in a reference
    cycle stays until the process ends, which is why only what exists at this one moment is frozen.
    """
    module = sys.modules.get(module_name)
    if module is not None:
        return module
    with gc_paused():
        module = importlib.import_module(module_name)
        gc.freeze()
    return module


_exit_hook_registered = False


def skip_collection_at_exit() -> None:
    """At exit, move every object out of reach of the cyclic garbage collector (`gc.freeze()`).

    Once SQLAlchemy and the registries are loaded, the collections CPython runs while it shuts down
    walk and free hundreds of thousands of objects that the end of the process frees anyway: about
    0.15 s of a short script's wall time, after its last line has run. Objects that are not in a
    reference cycle are still freed (closing their files) as the modules are torn down; only cyclic
    garbage is left to the operating system, which CPython never promised to finalize at exit.
    Registered when the first database opens, so that exit hooks registered later (a run's report)
    run before it.
    """
    global _exit_hook_registered
    if not _exit_hook_registered:
        _exit_hook_registered = True
        atexit.register(gc.freeze)
