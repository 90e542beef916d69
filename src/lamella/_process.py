"""Facts about this process: who owns a leftover file (this machine's name, whether a process on it
is still running) and whether it runs inside a notebook kernel.

Files a process writes before it commits (staged data, a database being built, a pending save) are
named after their writer, `...<host>~<pid>...`, so another process can tell a save in progress from
one whose writer was killed. Standard library only: `lamella init` uses it without the storage layer.
"""

from __future__ import annotations

import os
import re
import socket
import sys

__all__ = ["HOST", "STALE_AFTER_SECONDS", "in_notebook", "pid_alive", "writer_gone"]

HOST = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "host"
# a writer on another host (a shared folder) cannot be asked whether it runs: after this, it is gone
STALE_AFTER_SECONDS = 24 * 3600.0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def writer_gone(host: str, pid: int, age_seconds: float) -> bool:
    """Whether the writer named in a leftover's name has stopped: asked on this host, by age elsewhere."""
    if host == HOST:
        return not pid_alive(pid)
    return age_seconds > STALE_AFTER_SECONDS


def in_notebook() -> bool:
    """True inside an IPython kernel (Jupyter, nbconvert --execute), False in scripts and plain IPython."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except Exception:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
