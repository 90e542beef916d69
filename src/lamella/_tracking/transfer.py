"""`lamella save FILE` and `lamella load UID`: a transform's source in and out of an instance.

`save` stores a script's or notebook's source after the fact (a new version if it changed) and, for
a notebook saved with its outputs, an HTML report on the transform's latest run. `load` writes a
transform's source back to a file, to edit it and make the next version.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lamella._logging import logger
from lamella._setup.settings import settings
from lamella._tracking import notebook
from lamella._tracking.report import save_report
from lamella._tracking.transforms import transform_for_source
from lamella.errors import InvalidArgument, PathNotFound
from lamella.models import Run, Transform

if TYPE_CHECKING:
    from lamella.models import Transform

SUPPORTED = (".py", ".ipynb")


def save_source(path: str | Path) -> Transform:

    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise PathNotFound(f"no file at {file}; pass the path of a .py script or an .ipynb notebook")
    if file.suffix not in SUPPORTED:
        raise InvalidArgument(
            f"cannot save {file.name}: lamella save takes a .py script or an .ipynb notebook"
        )
    if file.suffix == ".ipynb":
        content = notebook.load_notebook_file(file)
        transform, created = transform_for_source(
            file.name, "notebook", content.source, description=content.title
        )
        if content.has_outputs:
            _attach_report(transform, file)
    else:
        transform, created = transform_for_source(file.name, "script", file.read_text(errors="replace"))
    verb = "saved" if created else "source unchanged for"
    logger.info(f"{verb} transform {transform.uid} ({transform.kind} {transform.key!r})")
    return transform


def _attach_report(transform: Transform, file: Path) -> None:

    run = Run.filter(transform=transform).order_by("-started_at").first()
    if run is None:
        run = Run(transform=transform, started_at=datetime.now(UTC), status="completed")
        run.finished_at = run.started_at
        run.save()
    folder = settings.cache_dir / "run_logs"
    folder.mkdir(parents=True, exist_ok=True)
    html = notebook.html_report(file, folder / f"{run.uid}.html")
    if html is None:
        logger.warning("nbconvert is not installed: the notebook's source was saved, its report was not")
        return
    try:
        report = save_report(html, run.uid)
    finally:
        html.unlink(missing_ok=True)
    run.report_id = report.id
    if run.finished_at is None:
        run.finished_at, run.status = datetime.now(UTC), "completed"
    run.save()
    logger.info(f"saved the notebook's HTML report on run {run.uid}")


def load_source(uid: str, directory: str | Path = ".", *, force: bool = False) -> Path:

    transform = Transform.get(uid)
    if not transform.source_code:
        raise InvalidArgument(f"transform {transform.uid} ({transform.key!r}) has no stored source code")
    name = Path(transform.key or f"{transform.uid}.py").name
    target = Path(directory) / name
    if target.exists() and not force:
        raise InvalidArgument(f"{target} exists; move it away or pass --force to overwrite it")
    if transform.kind == "notebook" and name.endswith(".ipynb"):
        target.write_text(json.dumps(notebook.from_percent_format(transform.source_code), indent=1) + "\n")
    else:
        target.write_text(transform.source_code)
    logger.info(f"{transform.kind} {transform.key!r} (version {transform.version}) is here: {target}")
    return target
