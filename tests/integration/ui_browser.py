"""The web UI in a real browser: an instance with realistic content, `lamella ui` serving it in a child
process, and Debian's chromium driven by Playwright (its own browser download cannot be reached here).

Used by the fixtures in tests/integration/conftest.py and by scripts/ui_screenshots.py (the README's
screenshots come from the same instance and the same browser setup).
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# as root in a sandbox: no setuid sandbox, no GPU, and nothing that phones home while a test runs;
# Playwright's launch adds a fresh --user-data-dir itself
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 800}
SCRIPT_LABEL = "<script>alert(1)</script>"
STUDY_LABEL = "T cell study"
BATCH = 55  # more than a page of the artifacts table (50 rows)

INGEST_SOURCE = """import lamella as ln

ln.track()
ln.Artifact("samples.csv", key="raw/samples.csv", description="the samples as the sequencer listed them").save()
ln.finish()
"""
ANALYSIS_SOURCE = """import lamella as ln

ln.track()
samples = ln.Artifact.get(key="raw/samples.csv").load()
scores = samples.assign(score=samples.n_cells / samples.n_cells.max())
ln.Artifact.from_dataframe(scores, key="results/scores.parquet").save()
ln.finish()
"""


def artifacts_folder() -> Path:
    """Where screenshots go: $LAMELLA_TEST_ARTIFACTS, else test-artifacts/ui/ in the repository."""
    configured = os.environ.get("LAMELLA_TEST_ARTIFACTS")
    folder = Path(configured) if configured else REPO / "test-artifacts" / "ui"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tiny_png(width: int = 48, height: int = 32) -> bytes:
    """A small gradient PNG (Pillow), so a preview that loads it has a width to measure."""
    from PIL import Image

    image = Image.new("RGB", (width, height))
    image.putdata([(x * 5 % 256, y * 8 % 256, 160) for y in range(height) for x in range(width)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@contextmanager
def lamella_home(home: Path) -> Iterator[None]:
    """This process with LAMELLA_HOME=home and no instance connected, on entry and on exit."""
    from lamella._instance import state

    saved = {name: os.environ.get(name) for name in ("LAMELLA_HOME", "LAMELLA_CACHE_DIR")}
    os.environ["LAMELLA_HOME"] = str(home)
    os.environ.pop("LAMELLA_CACHE_DIR", None)
    state.process.reset()
    try:
        yield
    finally:
        state.process.reset()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Content:
    """What the instance holds that the tests look for: uids, keys and the bytes of files."""

    name: str
    home: Path
    uids: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    batch_keys: list[str] = field(default_factory=list)


def build_instance(base: Path, name: str = "ui-demo", *, batch: int = BATCH) -> Content:
    """An instance under `base` made through the public API as a user would make it: an ingest run
    writes a CSV; an analysis run reads it and writes a parquet table in two versions, a text file and
    a PNG; features, labels (one of them HTML) and a project annotate the table; `batch` small text
    files fill more than a page of the artifacts table. Returns what the tests look for."""
    import pandas as pd

    import lamella as ln

    home, storage, work = base / "home", base / "data", base / "work"
    work.mkdir(parents=True, exist_ok=True)
    content = Content(name=name, home=home)
    with lamella_home(home):
        ln.setup.init(storage=storage, name=name)

        # created first, so the artifacts of the runs are the latest ones on the home page
        for i in range(batch):
            key = f"batch/sample_{i:02d}.txt"
            (work / "sample.txt").write_text(f"sample {i}\n")
            ln.Artifact(work / "sample.txt", key=key).save()
            content.batch_keys.append(key)

        samples = pd.DataFrame(
            {"sample": ["s1", "s2", "s3", "s4"], "tissue": ["lung", "lung", "blood", "liver"]}
        ).assign(n_cells=[1200, 850, 4300, 310])
        content.files["csv"] = samples.to_csv(index=False).encode()
        (work / "samples.csv").write_bytes(content.files["csv"])
        ingest = ln.track(ln.Transform(key="ingest.py", kind="script", source_code=INGEST_SOURCE))
        raw = ln.Artifact(
            work / "samples.csv",
            key="raw/samples.csv",
            description="the samples as the sequencer listed them",
        ).save()
        ln.finish()

        analysis = ln.track(ln.Transform(key="analysis.py", kind="script", source_code=ANALYSIS_SOURCE))
        loaded = raw.load()  # an input of the analysis run
        scores = loaded.assign(score=loaded.n_cells / loaded.n_cells.max())
        first = ln.Artifact.from_dataframe(scores.head(2), key="results/scores.parquet").save()
        table = ln.Artifact.from_dataframe(scores, key="results/scores.parquet", revises=first).save()
        content.files["notes"] = b"QC passed for 4 samples.\nlung: 2, blood: 1, liver: 1\n"
        (work / "notes.txt").write_bytes(content.files["notes"])
        notes = ln.Artifact(
            work / "notes.txt", key="results/notes.txt", description="<b>bold</b> notes from QC"
        ).save()
        content.files["png"] = tiny_png()
        (work / "umap.png").write_bytes(content.files["png"])
        image = ln.Artifact(work / "umap.png", key="figures/umap.png").save()

        ln.Feature(name="tissue", dtype="str").save()
        ln.Feature(name="n_samples", dtype="int").save()
        ln.Feature(name="mean_score", dtype="float").save()
        table.features.add_values({"tissue": "lung", "n_samples": 4, "mean_score": 0.39})
        script_label = ln.ULabel(name=SCRIPT_LABEL).save()
        study = ln.ULabel(name=STUDY_LABEL).save()
        table.ulabels.add(script_label, study)
        project = ln.Project(name="Lung atlas").save()
        table.projects.add(project)
        ln.finish()

        content.uids.update(
            raw=raw.uid,
            table_v1=first.uid,
            table=table.uid,
            notes=notes.uid,
            image=image.uid,
            ingest_run=ingest.uid,
            run=analysis.uid,
            transform=analysis.transform.uid,
            study=study.uid,
            script_label=script_label.uid,
            project=project.uid,
        )
        content.files["parquet"] = Path(table.cache()).read_bytes()
    return content


@dataclass
class UIProcess:
    """`lamella ui` serving an instance from a child process."""

    url: str
    process: subprocess.Popen[str]

    def stop(self) -> str:
        """Stops the server (terminate, then kill) and returns what it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        output, _ = self.process.communicate()
        return output or ""


def _child_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["LAMELLA_HOME"] = str(home)
    env.pop("LAMELLA_CACHE_DIR", None)
    env["PYTHONUNBUFFERED"] = "1"
    # the child imports the lamella this process imported (a worktree's src/ rather than an install's)
    import lamella

    src = str(Path(lamella.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    return env


def start_ui(content: Content, *, timeout: float = 60.0) -> UIProcess:
    """`python -m lamella._cli.main ui --port <free> --instance <name>`, once / answers with 200."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lamella._cli.main", "ui", "--port", str(port), "--instance", content.name],
        env=_child_env(content.home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = UIProcess(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"`lamella ui` exited with code {process.returncode}:\n{server.stop()}")
        try:
            with urllib.request.urlopen(server.url + "/", timeout=5) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    output = server.stop()
    raise RuntimeError(f"`lamella ui` did not answer on {server.url} within {timeout} s:\n{output}")


def launch_chromium(playwright: Any) -> Any:
    """Debian's chromium, headless, through Playwright (never `playwright install`)."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))


class Steps:
    """Full-page screenshots of one test, numbered in the order taken: `<test>-01-<step>.png`."""

    def __init__(self, page: Any, test: str, folder: Path | None = None) -> None:
        self.page = page
        self.prefix = re.sub(r"[^\w.-]+", "_", test)
        self.folder = folder or artifacts_folder()
        self.taken: list[Path] = []

    def __call__(self, step: str) -> Path:
        path = self.folder / f"{self.prefix}-{len(self.taken) + 1:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path
