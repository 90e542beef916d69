"""Benchmark: lineage overheads — `ln.track()` + `ln.finish()` in a script, a `@ln.tracked()` call,
recording many inputs of one run.

    .venv/bin/python benchmarks/bench_tracking.py [--scale small|full]

Targets (issue "Lineage"): track+finish adds < 0.15 s to a script's wall time (offline), a tracked
call costs < 5 ms, recording 1,000 inputs of one run takes < 0.2 s. Issue "Speed": the first
`ln.track()` of a fresh script (it imports the registries and connects) answers in < 0.35 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Results,
    clean_env,
    finish,
    init_instance,
    last_json_line,
    median,
    now,
    parse,
    parser,
    run_child,
    temp_folder,
)

SCRIPT = """
import lamella as ln
import pandas
{track}
ln.Artifact.filter().count()
{finish}
"""

# the first call of a script: it loads the registries, connects, and creates or finds the run
FIRST_TRACK = """
import json, time
import lamella as ln
start = time.perf_counter()
ln.track()
print(json.dumps({"track": time.perf_counter() - start}))
"""


def main() -> None:
    args = parse(parser(__doc__))
    full = args.scale == "full"
    rounds = 5 if full else 3
    n_calls = 1_000 if full else 200
    n_inputs = 1_000 if full else 200
    results = Results("tracking", args.scale)
    print(f"Lineage overheads (scale {args.scale})")
    with temp_folder("tracking", args.tmp, args.keep) as tmp:
        instance = init_instance(tmp)
        env = clean_env(instance.home)
        (tmp / "with_track.py").write_text(SCRIPT.format(track="ln.track()", finish="ln.finish()"))
        (tmp / "without.py").write_text(SCRIPT.format(track="", finish=""))
        run_child([sys.executable, "with_track.py"], cwd=tmp, env=env)  # first run creates the transform
        with_times, without_times = [], []
        for _ in range(rounds):  # alternate, so machine noise hits both alike
            code, out, err, wall, _rss = run_child([sys.executable, "with_track.py"], cwd=tmp, env=env)
            if code != 0:
                raise SystemExit(f"tracked script failed:\n{out}\n{err}")
            with_times.append(wall)
            code, out, err, wall, _rss = run_child([sys.executable, "without.py"], cwd=tmp, env=env)
            without_times.append(wall)
        (tmp / "first_track.py").write_text(FIRST_TRACK)
        run_child([sys.executable, "first_track.py"], cwd=tmp, env=env)  # creates its transform
        first_calls = []
        for _ in range(rounds):
            code, out, err, _wall, _rss = run_child([sys.executable, "first_track.py"], cwd=tmp, env=env)
            if code != 0:
                raise SystemExit(f"tracked script failed:\n{out}\n{err}")
            first_calls.append(last_json_line(out)["track"])
        results.add(
            "first ln.track() of a fresh script (loads registries, connects)",
            median(first_calls),
            "s",
            n=rounds,
            target=0.35,
            lamindb="1.92 s",
            note=f"min {min(first_calls):.3f} s",
        )
        overhead = median(with_times) - median(without_times)
        results.add(
            "script wall: ln.track() + ln.finish() added",
            overhead,
            "s",
            n=rounds,
            target=0.15,
            lamindb="1.3 s, fails offline",
            note=f"with {median(with_times):.3f} s, without {median(without_times):.3f} s (medians)",
        )

        import pandas as pd

        import lamella as ln

        @ln.tracked()
        def add(x: int, y: int = 2) -> int:
            return x + y

        add(0)  # creates the transform
        start = now()
        for index in range(n_calls):
            add(index)
        per_call = (now() - start) / n_calls
        results.add(
            "a call of a @ln.tracked() function (overhead)", 1000 * per_call, "ms/item", n=n_calls, target=5.0
        )

        ln.track(ln.Transform(key="bench inputs", kind="pipeline"))
        frames = [pd.DataFrame({"a": [i]}) for i in range(n_inputs)]
        artifacts = ln.save(
            [ln.Artifact.from_dataframe(df, key=f"bench/in/{i}.parquet") for i, df in enumerate(frames)]
        )
        ln.finish()
        ln.track(ln.Transform(key="bench consumer", kind="pipeline"))
        start = now()
        for artifact in artifacts:
            artifact.cache()
        seconds = now() - start
        linked = ln.context.run.input_artifacts.count()
        ln.finish()
        if linked != n_inputs:
            raise SystemExit(f"expected {n_inputs} inputs, found {linked}")
        target = 0.2 * n_inputs / 1_000
        results.add(
            "recording inputs of one run (cache() of each)",
            seconds,
            "s",
            n=n_inputs,
            target=target,
            note=f"{1000 * seconds / n_inputs:.3f} ms/input",
        )
    finish(results, args)


if __name__ == "__main__":
    main()
