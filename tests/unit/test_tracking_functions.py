"""`@ln.tracked()`: every call of a function is a run of the function's transform, with the call's
arguments as params, the calling run as `initiated_by_run`, and its own outputs, also across threads
and asyncio tasks."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

import lamella
from lamella.errors import InvalidArgument

Script = Callable[..., subprocess.CompletedProcess[str]]


@lamella.tracked()
def preprocess_data(input_key: str, output_key: str, normalize: bool = True, scale: float = 1.0) -> str:
    """Preprocess raw data and save the result."""
    lamella.ULabel(name=output_key).save()
    return f"done: {output_key}"


@lamella.tracked()
def with_extras(sample: str, *replicates: int, threshold: float = 0.5, **options: Any) -> None:
    pass


@lamella.tracked()
def outer(n: int) -> int:
    lamella.ULabel(name=f"outer {n}").save()
    return inner(n + 1)


@lamella.tracked()
def inner(n: int) -> int:
    lamella.ULabel(name=f"inner {n}").save()
    return n


class CalibrationError(Exception):
    pass


@lamella.tracked()
def fails(reason: str) -> None:
    lamella.ULabel(name="made before failing").save()
    raise CalibrationError(reason)


@lamella.tracked()
def interrupted() -> None:
    raise KeyboardInterrupt


def pipeline(ln: ModuleType, key: str = "My pipeline") -> Any:
    return ln.Transform(key=key, kind="pipeline").save()


def label_run(ln: ModuleType, name: str) -> Any:
    return ln.ULabel.get(name=name).run


# ---- a run per call ---------------------------------------------------------------------------------


def test_each_call_is_a_run_of_one_function_transform(ln: ModuleType) -> None:
    ln.track(pipeline(ln))
    assert preprocess_data("raw/a.csv", "processed/a") == "done: processed/a"
    assert preprocess_data("raw/b.csv", "processed/b") == "done: processed/b"
    ln.finish()
    transform = ln.Transform.filter(kind="function").one()
    assert transform.key == "test_tracking_functions.py:preprocess_data"
    assert "def preprocess_data(" in transform.source_code
    runs = transform.runs.order_by("started_at").to_list()
    assert len(runs) == 2 and runs[0].uid != runs[1].uid
    assert all(r.status == "completed" and r.finished_at is not None for r in runs)
    assert label_run(ln, "processed/a") == runs[0] and label_run(ln, "processed/b") == runs[1]
    assert preprocess_data.__name__ == "preprocess_data"  # functools.wraps
    assert preprocess_data.__doc__ == "Preprocess raw data and save the result."


def test_params_are_the_bound_arguments_with_defaults(ln: ModuleType) -> None:
    preprocess_data("raw/a.csv", output_key="processed/a", scale=2.5)
    run = ln.Run.filter(transform__kind="function").one()
    assert run.params == {
        "input_key": "raw/a.csv",
        "output_key": "processed/a",
        "normalize": True,
        "scale": 2.5,
    }
    assert ln.Run.filter(params__normalize=True, params__scale__gt=2).one() == run


def test_params_include_var_args_and_kwargs(ln: ModuleType) -> None:
    with_extras("s1", 1, 2, 3, organism="human", min_genes=200)
    run = ln.Run.filter(transform__key__endswith="with_extras").one()
    assert run.params == {
        "sample": "s1",
        "replicates": [1, 2, 3],
        "threshold": 0.5,
        "organism": "human",
        "min_genes": 200,
    }
    assert ln.Run.filter(params__organism="human").one() == run


def test_params_of_records_and_frames_are_readable(ln: ModuleType) -> None:
    @ln.tracked()
    def summarize(label: Any, frame: pd.DataFrame) -> None:
        pass

    label = ln.ULabel(name="tumor").save()
    summarize(label, pd.DataFrame({"a": [1, 2]}))
    params = ln.Run.filter(transform__kind="function").one().params
    assert params["label"] == f"ULabel('{label.uid}')"
    assert isinstance(params["frame"], str)


def test_works_without_track(ln: ModuleType) -> None:
    preprocess_data("raw/a.csv", "processed/a")
    run = ln.Run.filter(transform__kind="function").one()
    assert run.initiated_by_run is None
    assert run.status == "completed" and run.finished_at is not None
    assert ln.context.run is None
    assert label_run(ln, "processed/a") == run  # what the function saved links to its run


# ---- who called ---------------------------------------------------------------------------------------


def test_initiated_by_the_script_run(ln: ModuleType) -> None:
    script_run = ln.track(pipeline(ln))
    preprocess_data("raw/a.csv", "processed/a")
    after = ln.ULabel(name="after the call").save()
    ln.finish()
    function_run = label_run(ln, "processed/a")
    assert function_run.initiated_by_run == script_run
    assert function_run != script_run
    assert after.run == script_run  # back in the script's run once the function returned
    assert ln.Run.filter(initiated_by_run=script_run).one() == function_run
    assert script_run.initiated_runs.one() == function_run


def test_nested_functions_chain_their_runs(ln: ModuleType) -> None:
    script_run = ln.track(pipeline(ln))
    assert outer(1) == 2
    ln.finish()
    outer_run = label_run(ln, "outer 1")
    inner_run = label_run(ln, "inner 2")
    assert inner_run.initiated_by_run == outer_run
    assert outer_run.initiated_by_run == script_run
    assert outer_run.transform != inner_run.transform
    assert inner_run.transform.key.endswith(":inner")


def test_nested_functions_without_track(ln: ModuleType) -> None:
    outer(5)
    outer_run = ln.Run.filter(transform__key__endswith=":outer").one()
    inner_run = ln.Run.filter(transform__key__endswith=":inner").one()
    assert outer_run.initiated_by_run is None
    assert inner_run.initiated_by_run == outer_run


# ---- failures -----------------------------------------------------------------------------------------


def test_an_exception_marks_the_run_errored_and_propagates_unchanged(ln: ModuleType) -> None:
    script_run = ln.track(pipeline(ln))
    with pytest.raises(CalibrationError, match="drift") as raised:
        fails("drift too large")
    after = ln.ULabel(name="after the failure").save()
    ln.finish()
    assert type(raised.value) is CalibrationError and raised.value.args == ("drift too large",)
    run = label_run(ln, "made before failing")
    assert run.status == "errored"
    assert run.finished_at is not None
    assert run.initiated_by_run == script_run
    assert after.run == script_run  # the failed function's run is no longer current
    assert ln.Run.get(script_run.uid).status == "completed"


def test_keyboard_interrupt_marks_the_run_aborted(ln: ModuleType) -> None:
    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert ln.Run.filter(transform__key__endswith=":interrupted").one().status == "aborted"


# ---- concurrency -------------------------------------------------------------------------------------


def test_threads_each_get_their_own_run(ln: ModuleType) -> None:
    @ln.tracked()
    def process_sample(i: int) -> str:
        frame = pd.DataFrame({"sample": [i], "value": [i * 1.5]})
        return ln.Artifact.from_dataframe(frame, key=f"threads/{i}.parquet").save().uid

    script_run = ln.track(pipeline(ln))
    with ThreadPoolExecutor(max_workers=4) as pool:
        uids = list(pool.map(process_sample, range(8)))
    ln.finish()
    runs = set()
    for i, uid in enumerate(uids):
        artifact = ln.Artifact.get(uid)
        assert artifact.key == f"threads/{i}.parquet"
        assert artifact.run.params == {"i": i}  # linked to the run of the call that made it
        assert artifact.run.initiated_by_run == script_run
        assert artifact.run.status == "completed"
        runs.add(artifact.run.uid)
    assert len(runs) == 8
    assert ln.Transform.filter(kind="function").count() == 1


def test_asyncio_tasks_each_get_their_own_run(ln: ModuleType) -> None:
    @ln.tracked()
    async def fetch(n: int) -> str:
        await asyncio.sleep(0.01 * (3 - n % 3))  # the tasks interleave
        label = ln.ULabel(name=f"async {n}").save()
        await asyncio.sleep(0)
        return label.name

    @ln.tracked()
    async def gather_all(count: int) -> list[str]:
        return list(await asyncio.gather(*(fetch(n) for n in range(count))))

    script_run = ln.track(pipeline(ln))
    names = asyncio.run(gather_all(6))
    ln.finish()
    assert names == [f"async {n}" for n in range(6)]
    parent = ln.Run.filter(transform__key__endswith="gather_all").one()
    assert parent.initiated_by_run == script_run and parent.params == {"count": 6}
    for n in range(6):
        run = label_run(ln, f"async {n}")
        assert run.params == {"n": n}
        assert run.initiated_by_run == parent
        assert run.status == "completed"
    assert ln.Run.filter(transform__key__endswith="fetch").count() == 6


def test_an_async_exception_marks_the_run_errored(ln: ModuleType) -> None:
    @ln.tracked()
    async def broken() -> None:
        await asyncio.sleep(0)
        raise CalibrationError("async failure")

    with pytest.raises(CalibrationError, match="async failure"):
        asyncio.run(broken())
    assert ln.Run.filter(transform__key__endswith="broken").one().status == "errored"


# ---- versions -----------------------------------------------------------------------------------------


def _import(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FUNCTION = """import lamella as ln


@ln.tracked()
def score(x: int) -> int:
    return x + 1
"""


def test_changed_function_source_makes_a_new_version(ln: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "scoring.py"
    path.write_text(FUNCTION)
    first = _import(path, "scoring_v1")
    first.score(1)
    first.score(2)
    path.write_text(FUNCTION.replace("x + 1", "x + 2"))
    second = _import(path, "scoring_v2")
    assert second.score(1) == 3
    old, new = ln.Transform.filter(key="scoring.py:score").order_by("uid")
    assert old.kind == new.kind == "function"
    assert new.uid[:12] == old.uid[:12] and new.uid.endswith("0001")
    assert new.is_latest and not old.is_latest
    assert "x + 2" in new.source_code and "x + 1" in old.source_code
    assert old.runs.count() == 2 and new.runs.count() == 1


def test_a_tracked_function_in_a_script(ln: ModuleType, run_script: Script, tmp_path: Path) -> None:
    pd.DataFrame({"gene": ["CD8A", "CD4"], "count": [10, 30]}).to_csv(tmp_path / "raw.csv", index=False)
    raw = ln.Artifact(tmp_path / "raw.csv", key="raw/batch1.csv").save()
    source = """import lamella as ln


@ln.tracked()
def preprocess_data(input_key: str, output_key: str, normalize: bool = True) -> None:
    data = ln.Artifact.get(key=input_key).load()
    if normalize:
        data["count"] = data["count"] / data["count"].sum()
    ln.Artifact.from_dataframe(data, key=output_key).save()


ln.track()
preprocess_data("raw/batch1.csv", "processed/fn1.parquet")
preprocess_data("raw/batch1.csv", "processed/fn2.parquet", normalize=False)
ln.finish()
"""
    run_script("pipeline.py", source)
    out1 = ln.Artifact.get(key="processed/fn1.parquet")
    out2 = ln.Artifact.get(key="processed/fn2.parquet")
    assert out1.run != out2.run
    assert out1.transform == out2.transform
    assert out1.transform.kind == "function" and out1.transform.key == "pipeline.py:preprocess_data"
    assert out1.run.params == {
        "input_key": "raw/batch1.csv",
        "output_key": "processed/fn1.parquet",
        "normalize": True,
    }
    assert out2.run.params["normalize"] is False
    script_run = ln.Transform.get(key="pipeline.py").runs.one()
    assert out1.run.initiated_by_run == script_run == out2.run.initiated_by_run
    assert list(out1.run.input_artifacts.all()) == [raw]  # the function's run read it
    assert script_run.input_artifacts.count() == 0
    assert out1.load()["count"].sum() == pytest.approx(1.0)
    assert sys.executable  # the script ran with this interpreter


# ---- @ln.flow() and @ln.step() ------------------------------------------------------------------------


@lamella.step()
def normalize(values: list[float]) -> list[float]:
    lamella.ULabel(name=f"normalized {len(values)}").save()
    total = sum(values)
    return [v / total for v in values]


@lamella.flow()
def normalize_flow(values: list[float], label: str = "flow output") -> list[float]:
    lamella.ULabel(name=label).save()
    return normalize(values)


@lamella.flow
def bare_flow() -> Any:
    return lamella.context.run


@lamella.flow()
def failing_flow() -> None:
    normalize([1.0])
    raise CalibrationError("flow broke")


def test_a_flow_call_is_a_pipeline_run_and_its_steps_are_runs_it_initiated(ln: ModuleType) -> None:
    assert normalize_flow([1.0, 3.0]) == [0.25, 0.75]
    flow_transform = ln.Transform.get(key="test_tracking_functions.py:normalize_flow")
    step_transform = ln.Transform.get(key="test_tracking_functions.py:normalize")
    assert flow_transform.kind == "pipeline" and step_transform.kind == "function"
    assert "def normalize_flow(" in flow_transform.source_code
    flow_run = flow_transform.runs.one()
    step_run = step_transform.runs.one()
    assert flow_run.params == {"values": [1.0, 3.0], "label": "flow output"}
    assert step_run.params == {"values": [1.0, 3.0]}
    assert step_run.initiated_by_run == flow_run and flow_run.initiated_by_run is None
    assert flow_run.status == step_run.status == "completed"
    assert flow_run.finished_at is not None and flow_run.environment is not None
    assert label_run(ln, "flow output") == flow_run  # what the flow saves links to its run
    assert label_run(ln, "normalized 2") == step_run
    assert ln.context.run is None  # global_run="clear": the context is back to what it was


def test_a_flow_is_the_global_run_while_it_lasts(ln: ModuleType) -> None:
    run = bare_flow()
    assert run is not None and run.transform.key.endswith(":bare_flow")
    assert ln.context.run is None

    @ln.flow(global_run="memorize")
    def remembered() -> None:
        with ThreadPoolExecutor(max_workers=2) as pool:  # threads see the global run, not the context var
            list(pool.map(lambda i: ln.ULabel(name=f"thread {i}").save(), range(2)))

    remembered()
    flow_run = ln.Run.filter(transform__key__endswith=".remembered").one()
    assert ln.context.run == flow_run and ln.context.run.status == "completed"
    assert {label_run(ln, f"thread {i}") for i in range(2)} == {flow_run}
    assert ln.ULabel(name="after the flow").save().run is None  # its run is finished

    @ln.flow(global_run="none")
    def private() -> Any:
        return ln.context.run

    assert private() == flow_run  # the context was left alone
    with pytest.raises(InvalidArgument, match="global_run"):
        ln.flow(global_run="sometimes")


def test_a_flow_called_in_a_tracked_script_is_initiated_by_its_run(ln: ModuleType) -> None:
    script_run = ln.track(pipeline(ln), project="Screen")
    normalize_flow([2.0, 2.0], label="inside the script")
    after = ln.ULabel(name="after the flow").save()
    ln.finish()
    flow_run = label_run(ln, "inside the script")
    assert flow_run.initiated_by_run == script_run
    assert after.run == script_run  # the script's run is current again
    project = ln.Project.get(name="Screen")
    assert {"inside the script", "normalized 2", "after the flow"} <= set(
        ln.ULabel.filter(projects=project).to_list("name")
    )  # a flow and its steps inherit the script's project


def test_flow_arguments_named_project_and_branch_act_as_tracks(ln: ModuleType) -> None:
    branch = ln.Branch(name="experiment").save()

    @ln.flow()
    def annotate(sample: str, project: str | None = None, branch: str | None = None) -> None:
        ln.ULabel(name=sample).save()

    annotate("s1", project="Atlas", branch="experiment")
    run = ln.Run.filter(transform__key__endswith=".annotate").one()
    assert run.params == {"sample": "s1", "project": "Atlas", "branch": "experiment"}
    assert ln.Run.filter(projects__name="Atlas").one() == run
    assert ln.ULabel.filter(name="s1").count() == 0  # on the branch, not on main
    label = ln.ULabel.get(name="s1", branch_id=branch.id)
    assert label.run == run and ln.ULabel.filter(projects__name="Atlas").count() == 0  # filter on main
    assert ln.ULabel.filter(projects__name="Atlas", branch_id=branch.id).one() == label


def test_an_error_in_a_flow_marks_it_and_its_step_and_propagates(ln: ModuleType) -> None:
    with pytest.raises(CalibrationError, match="flow broke"):
        failing_flow()
    flow_run = ln.Run.filter(transform__key__endswith=":failing_flow").one()
    assert flow_run.status == "errored" and flow_run.finished_at is not None
    step_run = ln.Run.get(initiated_by_run=flow_run)
    assert step_run.status == "completed"
    assert ln.context.run is None


def test_a_step_needs_a_run(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match=r"@ln\.flow\(\)"):
        normalize([1.0])
    assert ln.Run.filter().count() == 0 and ln.ULabel.filter().count() == 0
    script_run = ln.track(pipeline(ln))
    assert normalize([1.0, 1.0]) == [0.5, 0.5]  # inside ln.track() a step is a function run of it
    ln.finish()
    assert label_run(ln, "normalized 2").initiated_by_run == script_run


def test_async_flows_and_steps(ln: ModuleType) -> None:
    @ln.step()
    async def fetch(n: int) -> int:
        await asyncio.sleep(0)
        ln.ULabel(name=f"fetched {n}").save()
        return n

    @ln.flow(global_run="none")
    async def gather(count: int) -> list[int]:
        return list(await asyncio.gather(*(fetch(n) for n in range(count))))

    assert asyncio.run(gather(3)) == [0, 1, 2]
    flow_run = ln.Run.filter(transform__key__endswith=".gather").one()
    assert {label_run(ln, f"fetched {n}").initiated_by_run for n in range(3)} == {flow_run}


def test_a_flow_with_a_pinned_uid(ln: ModuleType) -> None:
    @ln.flow(uid="FlowUid000010000")
    def pinned() -> None:
        pass

    pinned()
    transform = ln.Transform.get("FlowUid000010000")
    assert transform.kind == "pipeline" and transform.runs.count() == 1
