"""Jupyter notebooks: finding the running notebook's file, its title, and its code as percent-format Python."""

from __future__ import annotations

import copy
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamella._tracking.redact import redact_source, redact_text
from lamella.errors import PathNotFound, StorageError, UnreadableFile


@dataclass
class NotebookFile:
    path: Path
    title: str | None
    source: str  # percent-format Python: what ran, readable and diffable
    has_outputs: bool


def _executed_inputs() -> list[str]:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        history = shell.user_ns.get("In", []) if shell is not None else []
    except Exception:
        return []
    return [cell.strip() for cell in history if isinstance(cell, str) and cell.strip()]


def _candidates() -> list[Path]:
    """Where the kernel's notebook may be: what the front end tells the kernel, else the working folder."""
    named = []
    try:
        from IPython import get_ipython

        shell = get_ipython()
        namespace = shell.user_ns if shell is not None else {}
    except Exception:
        namespace = {}
    for value in (
        namespace.get("__session__"),  # Jupyter Server (ipykernel >= 6.?) sets the notebook path here
        namespace.get("__vsc_ipynb_file__"),  # VS Code
        os.environ.get("JPY_SESSION_NAME"),  # Jupyter Server >= 2 for kernels it starts
    ):
        if isinstance(value, str) and value.endswith(".ipynb"):
            named.append(Path(value))
    if named:
        return named
    launched = _notebooks_on_parent_command_line()
    if launched:
        return launched
    return sorted(Path.cwd().glob("*.ipynb"))


def _notebooks_on_parent_command_line() -> list[Path]:
    """`jupyter nbconvert --execute analysis.ipynb` names the notebook on the kernel's parent's command line."""
    try:
        raw = Path(f"/proc/{os.getppid()}/cmdline").read_bytes()
    except OSError:
        return []
    arguments = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    return [Path(a) for a in arguments if a.endswith(".ipynb") and Path(a).exists()]


def find_running_notebook() -> Path | None:
    """The notebook this kernel runs. Without a hint from the front end (nbconvert --execute), the
    notebook in the working folder whose code cells contain what this kernel has executed."""
    candidates = [p for p in _candidates() if p.exists()]
    if len(candidates) <= 1:
        return candidates[0].resolve() if candidates else None
    executed = _executed_inputs()
    scores: list[tuple[int, Path]] = []
    for path in candidates:
        try:
            cells = {c.strip() for c in code_cells(read_notebook(path))}
        except (OSError, ValueError):
            continue
        scores.append((sum(1 for cell in executed if cell in cells), path))
    scores.sort(key=lambda item: -item[0])
    if not scores or scores[0][0] == 0 or (len(scores) > 1 and scores[0][0] == scores[1][0]):
        return None  # no match, or several notebooks match equally well: refuse to guess
    return scores[0][1].resolve()


def read_notebook(path: Path) -> dict[str, Any]:

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise PathNotFound(f"no notebook at {path}; check the path") from e
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        raise UnreadableFile(f"{path} is not a Jupyter notebook: it is not JSON ({e})") from e
    except OSError as e:
        raise StorageError(f"cannot read the notebook {path}: {e}") from e
    if not isinstance(data, dict) or "cells" not in data:
        raise UnreadableFile(f"{path} is not a Jupyter notebook: it has no list of cells")
    return data


def _cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def code_cells(notebook: dict[str, Any]) -> list[str]:
    return [_cell_source(c) for c in notebook["cells"] if c.get("cell_type") == "code"]


def title_of(notebook: dict[str, Any]) -> str | None:
    """The text of the first level-1 heading (`# Title`) in a markdown cell."""
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "markdown":
            continue
        for line in _cell_source(cell).splitlines():
            if line.startswith("# "):
                return line[2:].strip() or None
    return None


def to_percent_format(notebook: dict[str, Any]) -> str:
    """Code cells as `# %%` blocks, markdown cells as commented `# %% [markdown]` blocks."""
    blocks = []
    for cell in notebook["cells"]:
        text = _cell_source(cell).rstrip("\n")
        if cell.get("cell_type") == "code":
            blocks.append(f"# %%\n{text}")
        elif cell.get("cell_type") == "markdown":
            commented = "\n".join(f"# {line}" if line else "#" for line in text.splitlines())
            blocks.append(f"# %% [markdown]\n{commented}")
    return "\n\n".join(blocks) + "\n"


def from_percent_format(source: str) -> dict[str, Any]:
    """The inverse of `to_percent_format`: a notebook (nbformat 4 JSON) with the cells, no outputs."""
    cells: list[dict[str, Any]] = []
    kind: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if kind is None:
            return
        text = "\n".join(lines).strip("\n")
        cell_id = uuid.uuid4().hex[:8]  # nbformat 4.5 requires cell ids
        if kind == "markdown":
            text = "\n".join(
                line[2:] if line.startswith("# ") else line.lstrip("#") for line in text.splitlines()
            )
            cells.append({"id": cell_id, "cell_type": "markdown", "metadata": {}, "source": text})
        else:
            cells.append(
                {
                    "id": cell_id,
                    "cell_type": "code",
                    "metadata": {},
                    "source": text,
                    "outputs": [],
                    "execution_count": None,
                }
            )

    for line in source.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        else:
            lines.append(line)
    flush()
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def load_notebook_file(path: Path) -> NotebookFile:
    notebook = read_notebook(path)
    has_outputs = any(c.get("outputs") for c in notebook["cells"] if c.get("cell_type") == "code")
    return NotebookFile(
        path=path, title=title_of(notebook), source=to_percent_format(notebook), has_outputs=has_outputs
    )


def html_report(path: Path, destination: Path) -> Path | None:
    """The notebook with its outputs as HTML (needs nbconvert), secrets redacted from its code and
    outputs; None when nbconvert is missing."""
    try:
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError:
        return None
    node = nbformat.reads(json.dumps(redacted_notebook(read_notebook(path))), as_version=4)
    body, _ = HTMLExporter().from_notebook_node(node)
    destination.write_text(body)
    return destination


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _redact_output_text(text: str) -> str:

    redacted = redact_text(text)
    if redacted != text:
        return redacted
    # IPython colours tracebacks: `password = "..."` arrives split by escape codes
    plain = _ANSI.sub("", text)
    redacted = redact_text(plain)
    return redacted if redacted != plain else text


def _redact_output(value: Any) -> Any:
    """Output text is a string or a list of lines: redacted as one text (a key block spans lines)."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = "".join(value)
    return _redact_output_text(value) if isinstance(value, str) else value


def redacted_notebook(notebook: dict[str, Any]) -> dict[str, Any]:
    """A copy of the notebook with secrets redacted from code cells, markdown and text outputs."""

    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        source = _cell_source(cell)
        cell["source"] = redact_source(source) if cell.get("cell_type") == "code" else redact_text(source)
        for output in cell.get("outputs", []):
            for field in ("text", "evalue"):
                if field in output:
                    output[field] = _redact_output(output[field])
            if isinstance(output.get("traceback"), list):  # one string per frame
                output["traceback"] = [_redact_output(frame) for frame in output["traceback"]]
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/"):
                    output["data"][mime] = _redact_output(value)
    return notebook
