"""`lamella save FILE` and `lamella load UID`: a script's or notebook's source into the instance (a new
version when it changed, an HTML report for a notebook with outputs) and back out into a file."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner, Result

from lamella._cli.main import cli
from lamella._tracking import notebook

Run = Callable[..., subprocess.CompletedProcess[str]]

SCRIPT = 'import lamella as ln\n\nln.track()\nprint("step one")\nln.finish()\n'


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working folder the commands run in."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def invoke(ln: ModuleType, work: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Callable[..., Result]]:
    """Runs `lamella ARGS` in-process against this test's instance; the result's `log` holds what it logged."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        caplog.clear()
        result = runner.invoke(cli, list(args), catch_exceptions=True)
        result.log = caplog.text  # type: ignore[attr-defined]
        return result

    with caplog.at_level("INFO", logger="lamella"):
        yield run


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def assert_one_line_error(result: Result, *expected: str) -> None:
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # handled, not a crash
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert "Traceback" not in result.output


def analysis_notebook(with_outputs: bool) -> Any:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell(
        'import pandas as pd\ndf = pd.DataFrame({"a": [1, 2]})\nprint("rows:", len(df))'
    )
    if with_outputs:
        code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="rows: 2\n")]
        code.execution_count = 1
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Quality control\n\nFilters cells."),
        code,
        nbformat.v4.new_code_cell("df.describe()"),
    ]
    return nb


# ---- save a script ----------------------------------------------------------------------------------


def test_save_a_script_then_unchanged_then_a_new_version(
    ln: ModuleType, invoke: Callable[..., Result], work: Path
) -> None:
    (work / "step.py").write_text(SCRIPT)
    first = ok(invoke("save", "step.py"))
    transform = ln.Transform.get(key="step.py")
    assert transform.kind == "script" and transform.source_code == SCRIPT
    assert transform.uid in first.log
    assert transform.runs.count() == 0  # saving the source runs nothing

    again = ok(invoke("save", str(work / "step.py")))  # absolute paths work too
    assert "unchanged" in again.log
    assert ln.Transform.filter(key="step.py").count() == 1

    (work / "step.py").write_text(SCRIPT.replace("step one", "step one, edited"))
    ok(invoke("save", "step.py"))
    old, new = ln.Transform.filter(key="step.py").order_by("uid")
    assert old.uid == transform.uid
    assert new.uid[:12] == old.uid[:12] and new.uid.endswith("0001")
    assert new.is_latest and not old.is_latest
    assert "step one, edited" in new.source_code


def test_save_refuses_what_it_cannot_store(invoke: Callable[..., Result], work: Path) -> None:
    (work / "data.csv").write_text("a,b\n1,2\n")
    assert_one_line_error(invoke("save", "data.csv"), "data.csv", ".py")
    assert_one_line_error(invoke("save", "missing.py"), "missing.py")


# ---- save a notebook --------------------------------------------------------------------------------


def test_save_a_notebook_with_outputs_stores_source_title_and_report(
    ln: ModuleType, invoke: Callable[..., Result], work: Path
) -> None:
    nb = analysis_notebook(with_outputs=True)
    nbformat.write(nb, work / "qc.ipynb")
    ok(invoke("save", "qc.ipynb"))
    transform = ln.Transform.get(key="qc.ipynb")
    assert transform.kind == "notebook"
    assert transform.description == "Quality control"
    assert transform.source_code == notebook.to_percent_format(nb)
    assert transform.source_code.startswith("# %% [markdown]\n# # Quality control")
    assert "# %%\nimport pandas as pd" in transform.source_code
    run = transform.runs.one()  # a run to hold the report, since the notebook was never tracked
    assert run.status == "completed" and run.finished_at is not None
    html = Path(str(run.report.cache())).read_text()
    assert "<html" in html.lower() and "rows: 2" in html
    assert ln.Artifact.filter().count() == 0  # the report is not user data


def test_save_a_notebook_attaches_the_report_to_its_latest_run(
    ln: ModuleType, invoke: Callable[..., Result], work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `python -m pytest` runs pytest's __main__.py, which track() takes for a script whose output it
    # captures; these runs stand for notebook executions, which have no script report
    monkeypatch.setattr(sys.modules["lamella._tracking.context"], "_running_a_script", lambda: False)
    nbformat.write(analysis_notebook(with_outputs=False), work / "qc.ipynb")
    ok(invoke("save", "qc.ipynb"))
    transform = ln.Transform.get(key="qc.ipynb")
    assert transform.runs.count() == 0  # no outputs, no report, no run
    older = ln.track(transform)
    ln.finish()
    latest = ln.track(transform)
    ln.finish()
    assert ln.Run.get(latest.uid).report is None

    nbformat.write(analysis_notebook(with_outputs=True), work / "qc.ipynb")  # outputs only: same source
    result = ok(invoke("save", "qc.ipynb"))
    assert "unchanged" in result.log
    assert ln.Transform.filter(key="qc.ipynb").count() == 1
    assert transform.runs.count() == 2
    assert ln.Run.get(latest.uid).report is not None
    assert ln.Run.get(older.uid).report is None


# ---- load -------------------------------------------------------------------------------------------


def test_load_writes_a_script_back_and_does_not_overwrite(
    ln: ModuleType, invoke: Callable[..., Result], work: Path, tmp_path: Path
) -> None:
    (work / "step.py").write_text(SCRIPT)
    ok(invoke("save", "step.py"))
    uid = ln.Transform.get(key="step.py").uid

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (work / "step.py").rename(elsewhere / "step.py")
    result = ok(invoke("load", uid))
    assert (work / "step.py").read_text() == SCRIPT
    assert "step.py" in result.log

    (work / "step.py").write_text("# my local edits\n")
    assert_one_line_error(invoke("load", uid), "step.py", "--force")
    assert (work / "step.py").read_text() == "# my local edits\n"
    ok(invoke("load", uid, "--force"))
    assert (work / "step.py").read_text() == SCRIPT


def test_load_by_stem_uid_gives_the_latest_version(
    ln: ModuleType, invoke: Callable[..., Result], work: Path
) -> None:
    (work / "step.py").write_text(SCRIPT)
    ok(invoke("save", "step.py"))
    (work / "step.py").write_text(SCRIPT + "# version 2\n")
    ok(invoke("save", "step.py"))
    first = ln.Transform.filter(key="step.py").order_by("uid").first()
    (work / "step.py").unlink()
    ok(invoke("load", first.uid[:12]))
    assert (work / "step.py").read_text() == SCRIPT + "# version 2\n"
    ok(invoke("load", first.uid, "--force"))  # a full uid gives that version
    assert (work / "step.py").read_text() == SCRIPT


@pytest.mark.filterwarnings("ignore::nbformat.warnings.MissingIDFieldWarning")  # its own test below
def test_load_a_notebook_writes_a_notebook(ln: ModuleType, invoke: Callable[..., Result], work: Path) -> None:
    original = analysis_notebook(with_outputs=True)
    nbformat.write(original, work / "qc.ipynb")
    ok(invoke("save", "qc.ipynb"))
    (work / "qc.ipynb").unlink()
    ok(invoke("load", ln.Transform.get(key="qc.ipynb").uid))

    loaded = nbformat.read(work / "qc.ipynb", as_version=4)
    assert [c.cell_type for c in loaded.cells] == ["markdown", "code", "code"]
    assert [c.source for c in loaded.cells] == [c.source for c in original.cells]
    assert all(c.outputs == [] for c in loaded.cells if c.cell_type == "code")
    # saving the loaded notebook again finds the same source
    assert "unchanged" in ok(invoke("save", "qc.ipynb")).log
    assert ln.Transform.filter(key="qc.ipynb").count() == 1


def test_a_loaded_notebook_is_valid_without_warnings(
    ln: ModuleType, invoke: Callable[..., Result], work: Path
) -> None:
    nbformat.write(analysis_notebook(with_outputs=False), work / "qc.ipynb")
    ok(invoke("save", "qc.ipynb"))
    (work / "qc.ipynb").unlink()
    ok(invoke("load", ln.Transform.get(key="qc.ipynb").uid))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. nbformat's MissingIDFieldWarning, "a hard error in future"
        nbformat.validate(nbformat.reads((work / "qc.ipynb").read_text(), as_version=nbformat.NO_CONVERT))


def test_load_errors_are_one_line(ln: ModuleType, invoke: Callable[..., Result]) -> None:
    assert_one_line_error(invoke("load", "doesNotExist0000"), "doesNotExist0000")
    transform = ln.Transform(key="My pipeline", kind="pipeline").save()
    assert_one_line_error(invoke("load", transform.uid), "no stored source code")


def test_the_installed_command_reports_an_unknown_uid_in_one_line(ln: ModuleType, run_lamella: Run) -> None:
    unknown = run_lamella("load", "unknownUid000000")
    assert unknown.returncode == 1
    assert "Traceback" not in unknown.stdout + unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1 and "unknownUid000000" in unknown.stderr
