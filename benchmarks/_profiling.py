"""Optional cProfile of a benchmark's timed section (`--profile`)."""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def profiled(enabled: bool, out: Path, top: int = 30) -> Iterator[None]:
    if not enabled:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        out.parent.mkdir(parents=True, exist_ok=True)
        profile.dump_stats(str(out))
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text).sort_stats("cumulative")
        stats.print_stats(top)
        print(text.getvalue())
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(top)
        print(text.getvalue())
        print(f"(profile written to {out}; view with `python -m pstats {out}` or snakeviz)")
