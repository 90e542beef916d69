"""Notebooks: `ln.track()` in a Jupyter kernel makes the notebook a transform (kind "notebook", key = file
name, description = its title, source as percent-format Python); an interactively run notebook saved
with its outputs gets an HTML report at `ln.finish()`.

The kernel tests drive a real IPython kernel with jupyter_client, as a front end would, and write the
notebook file themselves (with its outputs) the way the front end saves it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest

from lamella._process import in_notebook
from lamella._tracking import notebook

# ---- the notebook file: title, percent format -------------------------------------------------------


def make_notebook(*cells: tuple[str, str]) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        nb.cells.append(
            nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        )
    return nbformat.from_dict(nb)


ANALYSIS = make_notebook(
    ("md", "# My analysis\n\nA notebook that makes a table.\n\n## Details\n\n- one\n- two"),
    ("code", "import lamella as ln\nimport pandas as pd\n\nln.track()"),
    ("code", 'df = pd.DataFrame({"a": [1, 2, 3]})\n# a comment in code\nprint("rows:", len(df))'),
    ("md", "Some *emphasis* and a `# not a heading` inline"),
    ("code", "ln.finish()"),
)


def test_title_is_the_first_level_one_heading() -> None:
    assert notebook.title_of(ANALYSIS) == "My analysis"
    assert notebook.title_of(make_notebook(("md", "## Sub\n\n# Real title  \n# Second"))) == "Real title"
    assert notebook.title_of(make_notebook(("code", "# comment in code"), ("md", "# From md"))) == "From md"
    assert notebook.title_of(make_notebook(("md", "no heading"), ("code", "x = 1"))) is None
    assert notebook.title_of(make_notebook(("md", "#hashtag, not a heading"))) is None
    assert notebook.title_of(make_notebook()) is None


def test_title_of_list_sources() -> None:
    data = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["intro\n", "# Listed title\n"]}]}
    assert notebook.title_of(data) == "Listed title"


def test_percent_format_has_the_code_and_the_markdown() -> None:
    text = notebook.to_percent_format(ANALYSIS)
    assert text.startswith("# %% [markdown]\n# # My analysis\n")
    assert "# %%\nimport lamella as ln\nimport pandas as pd\n\nln.track()\n" in text
    assert '# %%\ndf = pd.DataFrame({"a": [1, 2, 3]})\n# a comment in code\nprint("rows:", len(df))' in text
    assert "# %%\nln.finish()\n" in text
    assert text.count("# %%") == 5 and text.count("# %% [markdown]") == 2
    assert text.endswith("\n")
    compile(text, "analysis.py", "exec")  # percent format is valid Python


def test_percent_format_round_trip() -> None:
    text = notebook.to_percent_format(ANALYSIS)
    back = notebook.from_percent_format(text)
    assert [c["cell_type"] for c in back["cells"]] == [c.cell_type for c in ANALYSIS.cells]
    assert [c["source"] for c in back["cells"]] == [c.source for c in ANALYSIS.cells]
    assert all(c["outputs"] == [] for c in back["cells"] if c["cell_type"] == "code")
    assert notebook.to_percent_format(back) == text
    assert notebook.title_of(back) == "My analysis"


def test_round_trip_of_edge_cases() -> None:
    cells = make_notebook(
        ("code", ""),
        ("md", "# Title\n\n\nafter two blank lines\n    indented"),
        ("code", "def f():\n\n    return 1\n"),
        ("code", "x = 1  # %% inside a line is not a cell marker"),
    )
    back = notebook.from_percent_format(notebook.to_percent_format(cells))
    assert [c["source"] for c in back["cells"]] == [
        "",
        "# Title\n\n\nafter two blank lines\n    indented",
        "def f():\n\n    return 1",
        "x = 1  # %% inside a line is not a cell marker",
    ]


def test_from_percent_format_makes_a_valid_notebook() -> None:
    back = notebook.from_percent_format(notebook.to_percent_format(ANALYSIS))
    assert (back["nbformat"], back["metadata"]["kernelspec"]["language"]) == (4, "python")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nbformat's MissingIDFieldWarning: "a hard error in future versions"
        nbformat.validate(back)


def test_from_plain_percent_script() -> None:
    back = notebook.from_percent_format(
        "# %%\nimport os\n\n# %% [markdown]\n# # Title\n# text\n\n# %%\nx = 2\n"
    )
    assert [(c["cell_type"], c["source"]) for c in back["cells"]] == [
        ("code", "import os"),
        ("markdown", "# Title\ntext"),
        ("code", "x = 2"),
    ]


def test_load_notebook_file(tmp_path: Path) -> None:
    path = tmp_path / "analysis.ipynb"
    nbformat.write(ANALYSIS, path)
    loaded = notebook.load_notebook_file(path)
    assert loaded.title == "My analysis" and not loaded.has_outputs
    assert loaded.source == notebook.to_percent_format(ANALYSIS)
    with_outputs = nbformat.from_dict(ANALYSIS)
    with_outputs.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="rows: 3\n")]
    nbformat.write(with_outputs, path)
    assert notebook.load_notebook_file(path).has_outputs
    (tmp_path / "broken.ipynb").write_text('{"not": "a notebook"}')
    with pytest.raises(ValueError, match="not a Jupyter notebook"):
        notebook.read_notebook(tmp_path / "broken.ipynb")


def test_not_in_a_notebook_here() -> None:
    assert in_notebook() is False


def test_finding_the_notebook_among_several(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert notebook.find_running_notebook() is None
    nbformat.write(ANALYSIS, tmp_path / "analysis.ipynb")
    assert notebook.find_running_notebook() == (tmp_path / "analysis.ipynb").resolve()

    nbformat.write(make_notebook(("code", "import os\nprint(os.getcwd())")), tmp_path / "aaa_other.ipynb")
    executed = [
        "import lamella as ln\nimport pandas as pd\n\nln.track()",
        'df = pd.DataFrame({"a": [1, 2, 3]})',
    ]
    monkeypatch.setattr(notebook, "_executed_inputs", lambda: executed)
    assert notebook.find_running_notebook() == (tmp_path / "analysis.ipynb").resolve()
    monkeypatch.setattr(notebook, "_executed_inputs", lambda: ["print('nothing of either')"])
    assert notebook.find_running_notebook() is None  # several notebooks and no evidence: no guess

    elsewhere = tmp_path / "sub" / "named.ipynb"
    elsewhere.parent.mkdir()
    nbformat.write(make_notebook(("code", "x = 1")), elsewhere)
    monkeypatch.setenv("JPY_SESSION_NAME", str(elsewhere))  # the front end names the notebook
    assert notebook.find_running_notebook() == elsewhere.resolve()


# ---- a real kernel ----------------------------------------------------------------------------------


class Kernel:
    """A Jupyter kernel in `folder` that runs cells and returns their outputs as nbformat outputs."""

    def __init__(self, folder: Path, home: Path) -> None:
        from jupyter_client.manager import start_new_kernel

        env = {**os.environ, "LAMELLA_HOME": str(home)}
        for name in ("JPY_SESSION_NAME", "LAMELLA_CACHE_DIR"):
            env.pop(name, None)
        self.manager, self.client = start_new_kernel(cwd=str(folder), env=env, startup_timeout=60)

    def run(self, code: str) -> tuple[str, list[Any]]:
        outputs: list[Any] = []

        def collect(message: dict[str, Any]) -> None:
            if message["msg_type"] in ("stream", "execute_result", "display_data", "error"):
                outputs.append(nbformat.v4.output_from_msg(message))

        reply = self.client.execute_interactive(code, timeout=60, output_hook=collect)
        return reply["content"]["status"], outputs

    def run_cell(self, cell: Any) -> None:
        status, cell.outputs = self.run(cell.source)
        assert status == "ok", (cell.source, cell.outputs)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel(ln: ModuleType, tmp_path: Path, home: Path) -> Iterator[Kernel]:
    """A kernel whose Lamella connects to this test's instance (the `ln` fixture made it)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    started = Kernel(folder, home)
    try:
        yield started
    finally:
        started.close()


def test_an_interactive_notebook_is_tracked_with_source_and_html_report(
    ln: ModuleType, kernel: Kernel, tmp_path: Path
) -> None:
    folder = tmp_path / "notebooks"
    nb = make_notebook(
        ("md", "# My analysis\n\nA notebook that makes a table."),
        ("code", "import lamella as ln\nimport pandas as pd\nln.track()"),
        (
            "code",
            'df = pd.DataFrame({"a": [1, 2, 3]})\n'
            'artifact = ln.Artifact.from_dataframe(df, key="nb/table.parquet").save()\n'
            'print("hello from the notebook", len(df))',
        ),
        ("code", "ln.finish()"),
    )
    # before the notebook is saved, there is no file to track
    status, outputs = kernel.run("import lamella as ln\nln.track()")
    assert status == "error" and outputs[-1]["ename"] == "InvalidArgument", outputs
    assert "pass a transform" in outputs[-1]["evalue"]

    path = folder / "analysis.ipynb"
    nbformat.write(nb, path)
    # a second notebook in the same folder, which this kernel does not run
    nbformat.write(make_notebook(("md", "# Other"), ("code", "import os\nos.getcwd()")), folder / "aaa.ipynb")

    for cell in nb.cells[1:3]:
        kernel.run_cell(cell)
    # the user adds a cell, and the front end saves the notebook with its outputs before finish()
    nb.cells.insert(3, nbformat.v4.new_code_cell('summary = "a cell added after track()"'))
    kernel.run_cell(nb.cells[3])
    nbformat.write(nb, path)
    kernel.run_cell(nb.cells[4])

    artifact = ln.Artifact.get(key="nb/table.parquet")
    transform = artifact.transform
    assert transform.kind == "notebook"
    assert transform.key == "analysis.ipynb"
    assert transform.description == "My analysis"
    assert ln.Transform.filter(kind="notebook").count() == 1  # aaa.ipynb did not confuse detection
    source = transform.source_code
    assert source.startswith("# %% [markdown]\n# # My analysis")
    assert "# %%\nimport lamella as ln\nimport pandas as pd\nln.track()" in source
    assert "from_dataframe" in source
    assert 'summary = "a cell added after track()"' in source  # the final source, stored at finish()

    run = artifact.run
    assert run.transform == transform
    assert run.status == "completed" and run.finished_at is not None
    assert run.environment is not None
    html = Path(str(run.report.cache())).read_text()
    assert "<html" in html.lower()
    assert "hello from the notebook 3" in html  # the saved outputs are in the report
    assert ln.Artifact.filter().count() == 1  # the report is hidden from user data


def test_an_ambiguous_folder_is_not_guessed_wrong(ln: ModuleType, kernel: Kernel, tmp_path: Path) -> None:
    """Two notebooks start with the same track() cell: the executed one is picked, or track() says it
    cannot tell (never the other notebook)."""
    folder = tmp_path / "notebooks"
    first_cell = "import lamella as ln\nln.track()"
    nbformat.write(make_notebook(("md", "# Template"), ("code", first_cell)), folder / "a_template.ipynb")
    nb = make_notebook(("md", "# Real analysis"), ("code", first_cell), ("code", "ln.finish()"))
    nbformat.write(nb, folder / "b_analysis.ipynb")

    status, outputs = kernel.run(first_cell)
    if status == "ok":
        kernel.run("ln.finish()")
        assert ln.Transform.filter(kind="notebook").one().key == "b_analysis.ipynb"
    else:
        assert any(o.get("ename") == "InvalidArgument" for o in outputs), outputs
        assert ln.Transform.filter(kind="notebook").count() == 0


def test_a_notebook_executed_with_nbconvert(ln: ModuleType, tmp_path: Path, home: Path) -> None:
    nb = make_notebook(
        ("md", "# Headless analysis\n\nRun by nbconvert."),
        ("code", "import lamella as ln\nimport pandas as pd\nln.track(params={'n': 3})"),
        (
            "code",
            'df = pd.DataFrame({"a": range(3)})\n'
            'artifact = ln.Artifact.from_dataframe(df, key="nb/headless.parquet").save()',
        ),
        ("code", "ln.finish()"),
    )
    nbformat.write(nb, tmp_path / "headless.ipynb")
    nbformat.write(make_notebook(("code", "print('another notebook')")), tmp_path / "aaa_other.ipynb")
    env = {**os.environ, "LAMELLA_HOME": str(home)}
    env.pop("JPY_SESSION_NAME", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--inplace",
            "headless.ipynb",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    artifact = ln.Artifact.get(key="nb/headless.parquet")
    transform = artifact.transform
    assert (transform.kind, transform.key, transform.description) == (
        "notebook",
        "headless.ipynb",
        "Headless analysis",
    )
    assert "ln.track(params={'n': 3})" in transform.source_code and "from_dataframe" in transform.source_code
    run = artifact.run
    assert run.status == "completed" and run.finished_at is not None and run.params == {"n": 3}
    assert ln.Transform.filter(kind="notebook").count() == 1
