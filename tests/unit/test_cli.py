"""The `lamella` command: init, connect, list, info, disconnect, delete, login, migrate, and its errors."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import lamella
from lamella._cli.main import cli
from lamella._instance import config as cfg
from lamella._setup import schema

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def invoke() -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, catch_exceptions=True)

    return run


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def assert_one_line_error(result: Result, *expected: str) -> None:
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # handled, not a crash
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert "Traceback" not in result.output


# ---- the entry point --------------------------------------------------------------------------------


def test_help_lists_the_commands(invoke: Callable[..., Result]) -> None:
    out = ok(invoke("--help"))
    for command in ("init", "connect", "list", "info", "disconnect", "delete", "login", "migrate"):
        assert command in out
    assert ok(invoke("-h")) == out


def test_version(invoke: Callable[..., Result]) -> None:
    assert lamella.__version__ in ok(invoke("--version"))


def test_the_installed_command_runs(run_lamella: Run, tmp_path: Path) -> None:
    result = run_lamella("init", "--storage", "./mydata", check=True)
    assert "mydata" in result.stdout  # says what it created
    assert (tmp_path / "mydata" / ".lamella" / "lamella.db").is_file()
    listed = run_lamella("list", check=True)
    assert "mydata" in listed.stdout and "*" in listed.stdout


def test_the_installed_command_reports_errors_without_traceback(run_lamella: Run) -> None:
    result = run_lamella("connect", "no-such-instance")
    assert result.returncode == 1
    assert "no-such-instance" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


# ---- init -------------------------------------------------------------------------------------------


def test_init(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "mydata")))
    assert [c.name for c in cfg.list_instance_configs()] == ["mydata"]
    assert cfg.current_instance_name() == "mydata"
    assert (tmp_path / "mydata" / ".lamella" / "lamella.db").is_file()


def test_init_with_a_name(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "mydata"), "--name", "lab"))
    config = cfg.InstanceConfig.load("lab")
    assert config is not None and config.storage_root == str((tmp_path / "mydata").resolve())


def test_init_twice_is_fine_but_a_conflict_is_not(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "one"), "--name", "lab"))
    ok(invoke("init", "--storage", str(tmp_path / "one"), "--name", "lab"))
    assert_one_line_error(invoke("init", "--storage", str(tmp_path / "two"), "--name", "lab"), "'lab'")
    assert cfg.InstanceConfig.load("lab").storage_root == str((tmp_path / "one").resolve())


def test_init_needs_storage(invoke: Callable[..., Result]) -> None:
    result = invoke("init")
    assert result.exit_code == 2
    assert "--storage" in result.output
    assert cfg.list_instance_configs() == []


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (("init", "--storage", "STORAGE", "--db", "sqlite:///x.db"), "sqlite:///x.db"),
        (("init", "--storage", "STORAGE", "--db", "mysql://u@h/db"), "mysql://u@h/db"),
        (("init", "--storage", "STORAGE", "--modules", "nonesuch"), "nonesuch"),
        (("init", "--storage", "STORAGE", "--modules", "bionty,nonesuch"), "nonesuch"),
        (("init", "--storage", "STORAGE", "--name", "bad/name"), "bad/name"),
        (("init", "--storage", "ftp://host/x"), "ftp://host/x"),
        (("connect", "no-such-instance"), "no-such-instance"),
        (("delete", "no-such-instance", "--force"), "no-such-instance"),
        (("login", "bad handle"), "bad handle"),
    ],
)
def test_bad_input_is_a_one_line_error(
    invoke: Callable[..., Result], tmp_path: Path, args: tuple[str, ...], value: str
) -> None:
    args = tuple(str(tmp_path / "data") if a == "STORAGE" else a for a in args)
    assert_one_line_error(invoke(*args), value)
    assert cfg.list_instance_configs() == []
    assert not (tmp_path / "data" / ".lamella").exists()


def test_connect_unknown_says_how_to_fix_it(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "lab-one")))
    result = invoke("connect", "unknown")
    assert_one_line_error(result, "'unknown'", "lab-one", "lamella init")


# ---- connect, list, info, disconnect ---------------------------------------------------------------


def test_connect_switches_the_current_instance(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "first")))
    ok(invoke("init", "--storage", str(tmp_path / "second")))
    assert cfg.current_instance_name() == "second"
    out = ok(invoke("connect", "first"))
    assert "first" in out and cfg.read_user().handle in out
    assert cfg.current_instance_name() == "first"
    assert lamella.setup.settings.instance.name == "first"


def test_list(invoke: Callable[..., Result], tmp_path: Path) -> None:
    assert "no instances" in ok(invoke("list"))
    ok(invoke("init", "--storage", str(tmp_path / "alpha")))
    ok(invoke("init", "--storage", str(tmp_path / "beta")))
    lines = ok(invoke("list")).splitlines()
    assert len(lines) == 2
    alpha, beta = lines
    assert "alpha" in alpha and not alpha.startswith("*")
    assert "beta" in beta and beta.startswith("*")  # the current one
    assert str((tmp_path / "alpha").resolve()) in alpha
    assert "sqlite" in alpha


def test_info(invoke: Callable[..., Result], tmp_path: Path) -> None:
    out = ok(invoke("info"))
    assert "none" in out and "lamella init" in out
    ok(invoke("init", "--storage", str(tmp_path / "mydata")))
    out = ok(invoke("info"))
    assert "mydata" in out
    assert str((tmp_path / "mydata").resolve()) in out
    assert "sqlite" in out
    assert cfg.read_user().handle in out


def test_disconnect(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "mydata")))
    assert "disconnected" in ok(invoke("disconnect"))
    assert cfg.current_instance_name() is None
    assert "none" in ok(invoke("info"))
    assert "mydata" in ok(invoke("list"))  # still known
    ok(invoke("connect", "mydata"))
    assert cfg.current_instance_name() == "mydata"


# ---- delete -----------------------------------------------------------------------------------------


def test_delete_with_force_keeps_the_stored_files(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "mydata")))
    source = tmp_path / "a.txt"
    source.write_text("keep me")
    artifact = lamella.Artifact(source, key="a.txt").save()
    stored = Path(str(artifact.path))
    ok(invoke("delete", "mydata", "--force"))
    assert cfg.list_instance_configs() == []
    assert cfg.current_instance_name() is None
    assert not (tmp_path / "mydata" / ".lamella" / "lamella.db").exists()
    assert stored.read_text() == "keep me"


def test_delete_asks_for_confirmation(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "mydata")))
    refused = invoke("delete", "mydata", input="n\n")
    assert refused.exit_code != 0
    assert [c.name for c in cfg.list_instance_configs()] == ["mydata"]
    ok(invoke("delete", "mydata", input="y\n"))
    assert cfg.list_instance_configs() == []


# ---- login and migrate ------------------------------------------------------------------------------


def test_login(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "mydata")))
    ok(invoke("login", "alice"))
    assert cfg.read_user().handle == "alice"
    assert "alice" in ok(invoke("info"))
    label = lamella.ULabel(name="by alice").save()
    assert label.created_by.handle == "alice"


def test_login_without_a_handle_uses_the_system_user(invoke: Callable[..., Result]) -> None:
    ok(invoke("login", "alice"))
    ok(invoke("login"))
    assert cfg.read_user().handle == cfg.default_handle()


def test_migrate_up_to_date(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "mydata")))
    out = ok(invoke("migrate"))
    assert "up to date" in out and schema.HEAD_REVISION in out


def test_migrate_an_empty_database(invoke: Callable[..., Result], tmp_path: Path) -> None:
    ok(invoke("init", "--storage", str(tmp_path / "mydata")))
    lamella.setup.disconnect()  # close the database before removing it
    db = tmp_path / "mydata" / ".lamella" / "lamella.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    assert_one_line_error(invoke("connect", "mydata"), "mydata", "is missing", "lamella check --reindex")
    cfg.set_current_instance("mydata")
    out = ok(invoke("migrate"))
    assert "migrated" in out and schema.HEAD_REVISION in out
    ok(invoke("connect", "mydata"))
    assert lamella.ULabel(name="after migrate").save().id is not None


def test_migrate_without_an_instance(invoke: Callable[..., Result]) -> None:
    assert_one_line_error(invoke("migrate"), "lamella connect")


def test_each_command_help_line_is_the_first_line_of_its_docstring() -> None:
    import importlib

    from lamella._cli.main import COMMANDS

    for name, (module, function, help_line) in COMMANDS.items():
        command = getattr(importlib.import_module(module), function)
        assert command.name == name
        assert (command.help or "").strip().splitlines()[0] == help_line, name


@pytest.mark.parametrize(
    "args", [["--help"], ["init", "--storage", "{tmp}/data"], ["info"], ["list"]], ids=" ".join
)
def test_light_commands_load_neither_sqlalchemy_nor_the_registries(tmp_path: Path, args: list[str]) -> None:
    import sys

    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    script = (
        "import sys\n"
        "from lamella._cli.main import cli\n"
        "try:\n"
        f"    cli({argv!r}, prog_name='lamella')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy' or m.startswith('lamella.models'))\n"
        "print(loaded)\n"
    )
    env = {"LAMELLA_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
