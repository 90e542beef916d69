"""The run context: which transform and run the executing code belongs to.

`ln.track()` makes the calling script or notebook a Transform and starts a Run; records saved
meanwhile link to that run (and to its project). `ln.finish()` completes it: finished_at, status,
the environment, the report (what a script printed) and, for notebooks, the final source.
Function runs (`@ln.tracked()`, `@ln.flow()`, `@ln.step()`, in `decorator.py` and `flows.py`) live in
a context variable, so threads and asyncio tasks each see their own. A run's branch and space are
where the records it saves go; the transform and the run stay on main.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamella._instance import state
from lamella._logging import logger
from lamella._process import in_notebook
from lamella._query import Q
from lamella._setup.settings import settings
from lamella._tracking import git, notebook
from lamella._tracking.environment import save_environment
from lamella._tracking.jsonable import to_jsonable
from lamella._tracking.redact import redact_params
from lamella._tracking.report import ScriptCapture, save_report
from lamella._tracking.transforms import transform_for_source, transform_for_stem, update_source
from lamella.errors import DoesNotExist, InvalidArgument
from lamella.models import Branch, Project, Run, Space, Transform
from lamella.models.core.versioning import VERSION_CHARS

if TYPE_CHECKING:
    from lamella._tracking.report import ScriptCapture
    from lamella.models import Artifact, Branch, Project, Run, Space, Transform


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


def _resolve_branch(branch: Any) -> Branch | None:
    """The branch a run saves its records to; None for main."""

    if branch is None:
        return None
    record: Branch | None
    if isinstance(branch, Branch):
        record = branch if branch.__dict__.get("id") is not None else branch.save()
    elif isinstance(branch, str):
        record = Branch.filter(Q(name=branch) | Q(uid=branch)).first()
        if record is None:
            raise DoesNotExist(
                f"no branch named {branch!r}; create it first: ln.Branch(name={branch!r}).save()"
            )
    else:
        raise InvalidArgument(f"branch= takes a Branch or a branch name, not {type(branch).__name__}")
    if record.id in (Branch.ARCHIVE, Branch.TRASH):
        raise InvalidArgument(
            f"a run cannot save its records to the {record.name} branch; pass main or a branch you made"
        )
    return None if record.id == Branch.MAIN else record


def _resolve_space(space: Any) -> Space | None:
    """The space a run saves its records to; None for the space "all"."""

    if space is None:
        return None
    record: Space | None
    if isinstance(space, Space):
        record = space if space.__dict__.get("id") is not None else space.save()
    elif isinstance(space, str):
        record = Space.filter(Q(name=space) | Q(uid=space)).first()
        if record is None:
            raise DoesNotExist(f"no space named {space!r}; create it first: ln.Space(name={space!r}).save()")
    else:
        raise InvalidArgument(f"space= takes a Space or a space name, not {type(space).__name__}")
    return None if record.id == state.ALL_SPACE else record


@dataclass
class RunOptions:
    """What `ln.track()` and `@ln.flow()` share: the run's params, features, project, branch, space."""

    params: dict[str, Any] | None = None
    features: dict[str, Any] | None = None
    project: Project | None = None
    branch: Branch | None = None
    space: Space | None = None

    @classmethod
    def resolve(
        cls,
        *,
        params: Any = None,
        features: Any = None,
        project: Any = None,
        branch: Any = None,
        space: Any = None,
    ) -> RunOptions:
        """Check and look up every option before the run is written (a project named for the first
        time is created here, after the branch and space were found)."""
        if params is not None and not isinstance(params, dict):
            raise InvalidArgument(f"params must be a dict, not {type(params).__name__}")
        if features is not None and not isinstance(features, dict):
            raise InvalidArgument(
                f"features must be a dict {{feature name: value}}, not {type(features).__name__}"
            )
        stored_params = redact_params(to_jsonable(params)) if params is not None else None
        branch_record, space_record = _resolve_branch(branch), _resolve_space(space)  # may refuse: first
        return cls(stored_params, features or None, _resolve_project(project), branch_record, space_record)

    @property
    def branch_id(self) -> int:
        return self.branch.id if self.branch is not None else state.MAIN_BRANCH

    @property
    def space_id(self) -> int:
        return self.space.id if self.space is not None else state.ALL_SPACE


def start_run(transform: Transform, options: RunOptions, initiated_by: Run | None = None) -> Run:
    """Insert a started run of `transform` with the options: params, features, projects."""
    run = Run(
        transform=transform,
        params=options.params,
        started_at=datetime.now(UTC),
        status="started",
        initiated_by_run_id=initiated_by.id if initiated_by is not None else None,
    )
    if options.features:
        run.features.validate_values(options.features)  # a bad value fails before the run exists
    run.save()
    if options.project is not None:
        transform.projects.add(options.project)
        run.projects.add(options.project)
    if options.features:
        run.features.add_values(options.features)
    return run


@dataclass
class _DetectedSource:
    key: str
    kind: str
    source: str
    description: str | None = None
    notebook: Path | None = None
    script: Path | None = None


def _detect_source() -> _DetectedSource:
    """The running notebook or the calling script: its key, kind and source code."""

    if in_notebook():
        path = notebook.find_running_notebook()
        if path is None:
            raise InvalidArgument(
                "could not find this notebook's file; save it in the working folder, or pass a transform: "
                "ln.track(ln.Transform(key='my_analysis.ipynb', kind='notebook'))"
            )
        file = notebook.load_notebook_file(path)
        return _DetectedSource(path.name, "notebook", file.source, description=file.title, notebook=path)
    script = _calling_script()
    if script is None or not script.exists():
        raise InvalidArgument(
            "could not find the script to track; pass a transform: ln.track(ln.Transform(key='my pipeline'))"
        )
    return _DetectedSource(script.name, "script", script.read_text(errors="replace"), script=script)


def _detect_transform(stem: str | None = None) -> tuple[Transform, _DetectedSource]:
    """The transform of the running notebook or script: by key and source, or in the family `stem`
    (`ln.track("<stem uid>")`, or 0.x's `ln.settings.transform.stem_uid`)."""

    detected = _detect_source()
    reference = None
    if detected.script is not None and settings.sync_git_repo is not None:  # checked before any write
        reference = git.script_reference(detected.script, settings.sync_git_repo)
    process = state.process
    description = process.transform_name or detected.description
    stem = stem if stem is not None else process.transform_stem_uid
    if stem is not None:
        transform = transform_for_stem(
            stem,
            detected.key,
            detected.kind,
            detected.source,
            version=process.transform_version,
            description=description,
        )
    else:
        transform, _ = transform_for_source(
            detected.key, detected.kind, detected.source, description=description
        )
    if reference is not None and (transform.reference != reference or transform.reference_type != "url"):
        # ln.settings.sync_git_repo: the transform's source is the script at a commit of the repository
        transform.reference, transform.reference_type = reference, "url"
        transform.save()
        logger.info(f"the script's source is {reference}")
    return transform, detected


def _transform_of(transform: Any) -> tuple[Transform, _DetectedSource | None]:
    if transform is None:
        return _detect_transform()
    if isinstance(transform, Transform):
        return (transform if transform.__dict__.get("id") is not None else transform.save()), None
    if not isinstance(transform, str):
        raise InvalidArgument(f"track() takes a Transform or a transform uid, not {type(transform).__name__}")
    stem_length = Transform._uid_length - VERSION_CHARS
    if len(transform) != stem_length:
        return Transform.get(transform), None
    # a stem uid: the family's latest version for a pipeline; a script or notebook gets its version
    latest = Transform.filter(uid__startswith=transform, branch_id__in=[0, 1]).order_by("-uid").first()
    if latest is not None and latest.kind not in ("script", "notebook"):
        return Transform.get(transform), None
    try:
        return _detect_transform(stem=transform)
    except InvalidArgument as e:
        if latest is None:
            raise DoesNotExist(f"no Transform with uid stem {transform!r} ({e})") from e
        return Transform.get(transform), None


def track(
    transform: Transform | str | None = None,
    *,
    project: Project | str | None = None,
    space: Space | str | None = None,
    branch: Branch | str | None = None,
    features: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    new_run: bool | None = None,
) -> Run:
    """Start a run of the calling script or notebook (or of `transform`); new records link to it.

    `transform`: a Transform, its uid, or a 12-character stem uid (the script's transform in that family,
    a new version when its source changed). `params` are stored on the run (queryable:
    `ln.Run.filter(params__learning_rate=0.01)`); `features` are feature values annotated on the run
    (`run.features`); `project` links the transform, the run and every record the run creates to a
    project; `branch` and `space` (a record, or its name or uid) are where the records the run saves
    go (the transform and the run itself stay on main, in the space "all").
    """

    instance = state.current()
    if instance.read_only:  # before capturing output or detecting the script, which assume a run
        raise instance.db.read_only_error("track a run")
    options = RunOptions.resolve(
        params=params, features=features, project=project, branch=branch, space=space
    )
    if context._capture is not None:  # a second track() in the same process: close the first run's capture
        context._capture.stop()
        context._capture = None
    record, detected = _transform_of(transform)
    run = start_run(record, options)
    context.transform, context.run, context.project = record, run, options.project
    context.branch, context.space = options.branch, options.space
    context._instance_uid = instance.config.uid
    context._notebook = detected.notebook if detected is not None else None
    if context._notebook is None and _running_a_script():
        context._capture = ScriptCapture(_log_path(run), on_exit=_on_script_exit)
    where = "".join(
        f" on {kind} {item.name!r}"
        for kind, item in (("branch", options.branch), ("space", options.space))
        if item
    )
    logger.info(f"started Run('{run.uid[:8]}...') of Transform('{record.uid}') {record.key!r}{where}")
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
