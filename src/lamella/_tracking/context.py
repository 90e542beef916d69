"""The run context: which transform and run the executing code belongs to.

`ln.track()` makes the calling script or notebook a Transform and starts a Run; records saved
meanwhile link to that run (and to its project). `ln.finish()` completes it: finished_at, status,
the environment, the report (what a script printed) and, for notebooks, the final source.
Function runs (`@ln.tracked()`) live in a context variable, so threads and asyncio tasks each see
their own.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamella._instance import state
from lamella._logging import logger
from lamella._process import in_notebook
from lamella._setup.settings import settings
from lamella._tracking import notebook
from lamella._tracking.environment import save_environment
from lamella._tracking.jsonable import to_jsonable
from lamella._tracking.redact import redact_params
from lamella._tracking.report import ScriptCapture, save_report
from lamella._tracking.transforms import transform_for_source, update_source
from lamella.errors import InvalidArgument
from lamella.models import Project, Run, Transform

if TYPE_CHECKING:
    from lamella._tracking.report import ScriptCapture
    from lamella.models import Artifact, Project, Run, Transform


# `ln.context`: process state, read by saves in the layers below; this layer sets it
context = state.process.context


def _calling_script() -> Path | None:
    """The script file of the first frame outside Lamella (the user's code)."""
    package_dir = str(Path(__file__).resolve().parents[1])
    frame = sys._getframe(1)  # walking frames directly: inspect.stack() reads every frame's source
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<") and not os.path.realpath(filename).startswith(package_dir):
            return Path(filename).resolve()
        frame = frame.f_back  # type: ignore[assignment]
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    return Path(main_file).resolve() if main_file else None


def _resolve_project(project: Any) -> Project | None:

    if project is None:
        return None
    if isinstance(project, Project):
        return project if project.__dict__.get("id") is not None else project.save()
    if isinstance(project, str):
        return Project(name=project).save()
    raise InvalidArgument(f"project= takes a Project or a project name, not {type(project).__name__}")


def _detect_transform() -> tuple[Transform, Path | None]:

    if in_notebook():
        path = notebook.find_running_notebook()
        if path is None:
            raise InvalidArgument(
                "could not find this notebook's file; save it in the working folder, or pass a transform: "
                "ln.track(ln.Transform(key='my_analysis.ipynb', kind='notebook'))"
            )
        file = notebook.load_notebook_file(path)
        transform, _ = transform_for_source(path.name, "notebook", file.source, description=file.title)
        return transform, path
    script = _calling_script()
    if script is None or not script.exists():
        raise InvalidArgument(
            "could not find the script to track; pass a transform: ln.track(ln.Transform(key='my pipeline'))"
        )
    transform, _ = transform_for_source(script.name, "script", script.read_text(errors="replace"))
    return transform, None


def track(
    transform: Transform | str | None = None,
    *,
    params: dict[str, Any] | None = None,
    project: Project | str | None = None,
    new_run: bool | None = None,
) -> Run:
    """Start a run of the calling script or notebook (or of `transform`); new records link to it.

    `params` are stored on the run (queryable: `ln.Run.filter(params__learning_rate=0.01)`);
    `project` links the transform, the run and every record the run creates to a project.
    """

    instance = state.current()
    if instance.read_only:  # before capturing output or detecting the script, which assume a run
        raise instance.db.read_only_error("track a run")
    if params is not None and not isinstance(params, dict):
        raise InvalidArgument(f"params must be a dict, not {type(params).__name__}")
    if context._capture is not None:  # a second track() in the same process: close the first run's capture
        context._capture.stop()
        context._capture = None
    notebook_path: Path | None = None
    if transform is None:
        record, notebook_path = _detect_transform()
    elif isinstance(transform, str):
        record = Transform.get(transform)
    elif isinstance(transform, Transform):
        record = transform if transform.__dict__.get("id") is not None else transform.save()
    else:
        raise InvalidArgument(f"track() takes a Transform or a transform uid, not {type(transform).__name__}")
    project_record = _resolve_project(project)
    stored_params = redact_params(to_jsonable(params)) if params is not None else None
    run = Run(transform=record, params=stored_params, started_at=datetime.now(UTC), status="started")
    run.save()
    if project_record is not None:
        record.projects.add(project_record)
        run.projects.add(project_record)
    context.transform, context.run, context.project = record, run, project_record
    context._instance_uid = instance.config.uid
    context._notebook = notebook_path
    if notebook_path is None and _running_a_script():
        context._capture = ScriptCapture(_log_path(run), on_exit=_on_script_exit)
    logger.info(f"started Run('{run.uid[:8]}...') of Transform('{record.uid}') {record.key!r}")
    return run


def _running_a_script() -> bool:
    """True when the interpreter runs a script file (not a notebook, REPL or `python -c`)."""

    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return bool(main_file) and not in_notebook()


def _log_path(run: Run) -> Path:

    return settings.cache_dir / "run_logs" / f"{run.uid}.log"


def _complete(run: Run, status: str) -> None:
    """Record how the run ended, with its environment and report."""

    capture, context._capture = context._capture, None
    if capture is not None:
        capture.stop()
    report: Artifact | None = None
    if capture is not None and capture.log_path.exists():
        report = save_report(capture.log_path, run.uid)
        capture.log_path.unlink(missing_ok=True)
    elif context._notebook is not None:
        report = _notebook_finish(run)
    environment = save_environment(settings.cache_dir / "environments" / run.uid)
    run.finished_at = datetime.now(UTC)
    run.status = status
    run.environment_id = environment.id
    if report is not None:
        run.report_id = report.id
    run.save()


def _notebook_finish(run: Run) -> Artifact | None:
    """Store the notebook's final source; for an interactively run, saved notebook also an HTML report."""

    path = context._notebook
    if path is None or not path.exists() or context.transform is None:
        return None
    file = notebook.load_notebook_file(path)
    update_source(context.transform, file.source)
    if not file.has_outputs:
        return None  # executed headless (nbconvert --execute): outputs are not on disk yet
    folder = settings.cache_dir / "run_logs"
    folder.mkdir(parents=True, exist_ok=True)
    html = notebook.html_report(path, folder / f"{run.uid}.html")
    if html is None:
        return None
    try:
        return save_report(html, run.uid)
    finally:
        html.unlink(missing_ok=True)


def _on_script_exit(status: str | None) -> None:
    """From the exception hook (errored/aborted) or interpreter exit (status None: not finished)."""
    run = context.run
    if run is None or run.__dict__.get("finished_at") is not None:
        return
    if status is None:
        capture, context._capture = context._capture, None
        if capture is not None:
            capture.stop()
            report = save_report(capture.log_path, run.uid)
            capture.log_path.unlink(missing_ok=True)
            run.report_id = report.id
            run.save()
        return
    _complete(run, status)
    logger.info(f"run {run.uid[:8]}... {status}; its output is in run.report")


def finish() -> None:
    """Complete the current run: finished_at, status "completed", environment, report, notebook source."""
    run = context.run
    if run is None:
        raise InvalidArgument("no run to finish: call ln.track() first")
    if run.__dict__.get("finished_at") is not None:
        logger.info(f"run {run.uid[:8]}... was finished already")
        return
    _complete(run, "completed")
    started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=UTC)
    assert run.finished_at is not None
    elapsed = (run.finished_at - started).total_seconds()
    logger.info(f"finished Run('{run.uid[:8]}...') after {elapsed:.1f} s")
