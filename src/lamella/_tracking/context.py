"""The run context: which transform and run the code that is executing belongs to.

`ln.track()` makes the calling script a Transform (key = file name, kind "script", source code and
its hash stored; changed source makes a new version) and starts a Run; records saved meanwhile link
to that run. `ln.finish()` marks the run finished.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamella._logging import logger
from lamella.errors import InvalidArgument

if TYPE_CHECKING:
    from lamella.models import Artifact, Run, Transform


class Context:
    """`ln.context.transform` and `ln.context.run` of the current process."""

    def __init__(self) -> None:
        self.transform: Transform | None = None
        self.run: Run | None = None
        self._instance_uid: str | None = None

    def __repr__(self) -> str:
        return f"Context(transform={self.transform!r}, run={self.run!r})"


context = Context()


def current_run() -> Run | None:
    run = context.run
    if run is None:
        return None
    from lamella._instance import state

    instance = state.peek()
    if instance is None or instance.config.uid != context._instance_uid:
        return None  # tracked in another instance; records here get no run
    return run


def _content_hash(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.md5(text.encode()).digest()).decode()[:22]


def _calling_script() -> Path | None:
    """The script file of the first frame outside Lamella (the user's code)."""
    package_dir = str(Path(__file__).resolve().parents[1])
    for frame_info in inspect.stack()[2:]:
        filename = frame_info.filename
        if filename.startswith("<") or str(Path(filename).resolve()).startswith(package_dir):
            continue
        return Path(filename).resolve()
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    return Path(main_file).resolve() if main_file else None


def _script_transform(path: Path) -> Transform:
    from sqlalchemy import select

    from lamella._instance import state
    from lamella.models import Transform

    source = path.read_text(errors="replace")
    digest = _content_hash(source)
    key = path.name
    instance = state.current()
    with instance.db.write("lamella:transform") as session:
        same = session.execute(
            select(Transform)
            .where(Transform.key == key, Transform.hash == digest, Transform.branch_id != -1)
            .order_by(Transform.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if same is not None:
            return same
        latest = session.execute(
            select(Transform)
            .where(Transform.key == key, Transform.is_latest.is_(True), Transform.branch_id != -1)
            .limit(1)
        ).scalar_one_or_none()
        transform = Transform(key=key, kind="script", source_code=source, hash=digest)
        if latest is not None:
            transform.uid = transform._next_version_uid(session, latest.stem_uid)
            transform._demote_family(session, latest.stem_uid)
            logger.info(
                f"source of {key} changed: new version {transform.uid} of transform {latest.stem_uid}"
            )
        transform._fill_defaults(instance)
        session.add(transform)
        session.flush()
        return transform


def track(
    transform: Transform | str | None = None,
    *,
    params: dict[str, Any] | None = None,
    project: Any = None,
    new_run: bool | None = None,
) -> Run:
    """Start a run of the calling script (or of `transform`) and make it the context of new records."""
    from lamella._instance import state
    from lamella.models import Run, Transform

    instance = state.current()
    if transform is None:
        script = _calling_script()
        if script is None or not script.exists():
            raise InvalidArgument(
                "could not find the script to track; pass a transform: ln.track(ln.Transform(key='my pipeline'))"
            )
        record = _script_transform(script)
    elif isinstance(transform, str):
        record = Transform.get(transform)
    elif isinstance(transform, Transform):
        record = transform if transform.__dict__.get("id") is not None else transform.save()
    else:
        raise InvalidArgument(f"track() takes a Transform or a transform uid, not {type(transform).__name__}")
    if params is not None and not isinstance(params, dict):
        raise InvalidArgument(f"params must be a dict, not {type(params).__name__}")
    run = Run(transform=record, params=params, started_at=datetime.now(UTC), status="started")
    run.save()
    context.transform, context.run = record, run
    context._instance_uid = instance.config.uid
    logger.info(f"started Run('{run.uid[:8]}...') of Transform('{record.uid}') {record.key!r}")
    return run


def finish() -> None:
    """Mark the current run finished."""
    run = context.run
    if run is None:
        raise InvalidArgument("no run to finish: call ln.track() first")
    run.finished_at = datetime.now(UTC)
    run.status = "completed"
    run.save()
    logger.info(
        f"finished Run('{run.uid[:8]}...') after {(run.finished_at - _aware(run.started_at)).total_seconds():.1f} s"
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def track_input(artifact: Artifact, is_run_input: bool | None) -> None:
    """Link an artifact that the current run read as one of its inputs."""
    from lamella._instance.settings import settings

    run = current_run()
    if run is None or is_run_input is False:
        return
    if is_run_input is None and not settings.track_run_inputs:
        return
    if artifact.run_id == run.id:
        return  # the run made it; reading it back is not an input
    run.input_artifacts.add(artifact)
