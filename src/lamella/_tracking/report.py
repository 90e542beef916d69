"""A script run's report: everything it printed, kept even when the script crashes or is interrupted.

`track()` tees stdout and stderr into a log file and installs an exception hook; `finish()`, the
hook (status "errored", or "aborted" for Ctrl-C) or, as a last resort, interpreter exit saves the
log as the run's report artifact. Secrets in what was printed (`password=...`, tokens, traceback lines
quoting a secret assignment) are redacted before the report is saved.
"""

from __future__ import annotations

import atexit
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from lamella._tracking.redact import redact_text
from lamella.models import Artifact

REPORT_KIND = "__lamella_report__"


class _Tee:
    """A text stream that writes to the original stream and to the log."""

    def __init__(self, original: IO[str], log: IO[str], lock: threading.Lock) -> None:
        self._original = original
        self._log = log
        self._lock = lock

    def write(self, text: str) -> int:
        written = self._original.write(text)
        with self._lock:
            if not self._log.closed:
                self._log.write(text)
        return written

    def flush(self) -> None:
        self._original.flush()
        with self._lock:
            if not self._log.closed:
                self._log.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ... of the original
        return getattr(self._original, name)


class ScriptCapture:
    """Owns the tee and the hooks for one script run; `stop()` undoes everything."""

    def __init__(self, log_path: Path, on_exit: Any) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._log = open(log_path, "w", encoding="utf-8", errors="replace")  # noqa: SIM115
        self._lock = threading.Lock()
        self._stdout, self._stderr = sys.stdout, sys.stderr
        sys.stdout = _Tee(self._stdout, self._log, self._lock)
        sys.stderr = _Tee(self._stderr, self._log, self._lock)
        self._previous_hook = sys.excepthook
        self._on_exit = on_exit
        sys.excepthook = self._excepthook
        atexit.register(self._at_exit)
        self.active = True

    def _excepthook(
        self, kind: type[BaseException], error: BaseException, traceback: TracebackType | None
    ) -> None:
        self._previous_hook(kind, error, traceback)  # prints the traceback, into the log too
        status = "aborted" if issubclass(kind, KeyboardInterrupt) else "errored"
        try:
            self._on_exit(status)
        except Exception as e:  # never hide the user's error behind ours
            self._stderr.write(f"lamella: could not save the run's report: {e}\n")

    def _at_exit(self) -> None:
        if self.active:
            try:
                self._on_exit(None)  # the script ended without ln.finish(): keep what it printed
            except Exception as e:
                self._stderr.write(f"lamella: could not save the run's report: {e}\n")

    def stop(self) -> None:
        if not self.active:
            return
        self.active = False
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = self._stdout, self._stderr
        if sys.excepthook == self._excepthook:
            sys.excepthook = self._previous_hook
        atexit.unregister(self._at_exit)
        with self._lock:
            self._log.close()


def save_report(path: Path, run_uid: str) -> Any:
    """Save a report file as the run's report artifact; a text log is redacted in place first (an HTML
    notebook report is made from a redacted notebook, see `notebook.html_report`)."""

    if path.suffix != ".html":
        _redact_log(path)
    return Artifact(path, description=f"report of run {run_uid}", kind=REPORT_KIND).save()


def _redact_log(path: Path) -> None:

    text = path.read_text(encoding="utf-8", errors="replace")
    redacted = redact_text(text)
    if redacted != text:
        path.write_text(redacted, encoding="utf-8")
