"""Progress bars for long transfers, shown only to a person watching a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress_bar", "progress_for", "progress_wanted"]


def _noop(_: int) -> None:
    return None


def progress_wanted(enabled: bool | None = None) -> bool:
    """None means "if stderr is a terminal"; LAMELLA_NO_PROGRESS (any value but "" or "0") always wins."""
    if os.environ.get("LAMELLA_NO_PROGRESS", "") not in ("", "0"):
        return False
    if enabled is not None:
        return enabled
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


@contextmanager
def progress_for(
    total: int, description: str, unit: str = "B", *, enabled: bool | None = None
) -> Iterator[Callable[[int], None]]:
    """Like `progress_bar`, with `enabled` to force the bar on or off."""
    if not progress_wanted(enabled):
        yield _noop
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    amount = [DownloadColumn(), TransferSpeedColumn()] if unit == "B" else [MofNCompleteColumn()]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        *amount,
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)

        # rich's Progress.advance takes its own lock, so pool threads may call this concurrently.
        def advance(n: int) -> None:
            bar.advance(task, n)

        yield advance


@contextmanager
def progress_bar(total: int, description: str, unit: str = "B") -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`; draws a rich progress bar only when stderr is a terminal and
    LAMELLA_NO_PROGRESS is unset, otherwise `advance` does nothing."""
    with progress_for(total, description, unit) as advance:
        yield advance
