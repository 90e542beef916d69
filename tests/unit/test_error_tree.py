"""Errors inside the tree everywhere: what a public call raises is a `lamella.errors` class that is also
the builtin kind Python code expects (`PathNotFound` is a `FileNotFoundError`, ...), never a bare
builtin or a library's own exception; the public classes report `lamella` as their module and pickle
through it; `ln.settings.verbosity` sets the level of the `lamella` logger and of no other.
"""

from __future__ import annotations

import ast
import builtins
import json
import logging
import pickle
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
import upath
from click.testing import CliRunner

import lamella
from lamella import errors
from lamella.errors import (
    InvalidArgument,
    LamellaError,
    PathIsAFolder,
    PathNotAFolder,
    PathNotFound,
    StorageError,
    UnreadableFile,
    ValidationError,
)

SRC = Path(lamella.__file__).parent


def raised(expected: type[BaseException], call: object, *texts: str) -> BaseException:
    """Runs `call`, which must raise `expected` (a lamella class); returns the error after checking
    it is a LamellaError whose message names each of `texts`."""
    with pytest.raises(expected) as info:
        call()  # type: ignore[operator]
    error = info.value
    assert isinstance(error, LamellaError), type(error).__mro__
    for text in texts:
        assert text in str(error), (text, str(error))
    return error


# ---- the new classes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (PathNotFound, FileNotFoundError),
        (PathIsAFolder, IsADirectoryError),
        (PathNotAFolder, NotADirectoryError),
        (UnreadableFile, ValueError),
    ],
)
def test_the_path_errors_are_storage_errors_and_their_builtin_kind(
    cls: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(cls, StorageError) and issubclass(cls, OSError) and issubclass(cls, builtin)
    for catch in (builtin, StorageError, LamellaError):
        with pytest.raises(catch):
            raise cls("x")
    copy = pickle.loads(pickle.dumps(cls("at /x")))
    assert type(copy) is cls and str(copy) == "at /x"


# ---- paths that are not there ----------------------------------------------------------------------


def test_an_artifact_from_a_missing_path_is_path_not_found(ln: ModuleType, tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    error = raised(PathNotFound, lambda: ln.Artifact(missing, key="nope.csv"), str(missing))
    assert isinstance(error, FileNotFoundError)
    raised(FileNotFoundError, lambda: ln.Artifact(str(missing), description="d"))


def test_from_dir_of_a_missing_folder_is_path_not_found(ln: ModuleType, tmp_path: Path) -> None:
    raised(PathNotFound, lambda: ln.Artifact.from_dir(tmp_path / "nofolder"), "nofolder")
    (tmp_path / "file.txt").write_text("x")
    raised(InvalidArgument, lambda: ln.Artifact.from_dir(tmp_path / "file.txt"), "file.txt")


@pytest.fixture
def missing_bytes(ln: ModuleType, tmp_path: Path) -> object:
    """A saved artifact whose file was removed behind Lamella's back."""
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,2\n")
    artifact = ln.Artifact(path, key="table.csv").save()
    Path(artifact.path).unlink()
    return artifact


@pytest.mark.parametrize("action", ["load", "cache", "open"])
def test_reading_an_artifact_whose_bytes_are_gone_is_path_not_found(
    missing_bytes: object, action: str
) -> None:
    error = raised(PathNotFound, getattr(missing_bytes, action), missing_bytes.uid, "delete(permanent=True)")  # type: ignore[attr-defined]
    assert isinstance(error, FileNotFoundError)


def test_deleting_an_artifact_whose_bytes_are_gone_still_works(ln: ModuleType, missing_bytes: object) -> None:
    missing_bytes.delete(permanent=True)  # type: ignore[attr-defined]
    assert ln.Artifact.filter(key="table.csv").count() == 0


def test_a_file_as_storage_or_cache_folder_is_path_not_a_folder(ln: ModuleType, tmp_path: Path) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    error = raised(PathNotAFolder, lambda: ln.setup.init(storage=a_file, name="other"), str(a_file))
    assert isinstance(error, NotADirectoryError)

    def set_cache() -> None:
        ln.settings.cache_dir = a_file

    raised(NotADirectoryError, set_cache, str(a_file))


# ---- files that do not read in their format --------------------------------------------------------


def _saved(ln: ModuleType, tmp_path: Path, name: str, content: bytes) -> object:
    path = tmp_path / name
    path.write_bytes(content)
    return ln.Artifact(path, key=name).save()


@pytest.mark.parametrize(
    ("name", "content", "action"),
    [
        ("bad.parquet", b"not a parquet file", "load"),
        ("bad2.parquet", b"not a parquet file", "open"),
        ("bad.json", b"{not json", "load"),
        ("bad.txt", b"\xff\xfe\xfa", "load"),
        ("bad.h5ad", b"not hdf5", "load"),
        ("bad2.h5ad", b"not hdf5", "open"),
    ],
)
def test_a_damaged_file_is_unreadable_file(
    ln: ModuleType, tmp_path: Path, name: str, content: bytes, action: str
) -> None:
    artifact = _saved(ln, tmp_path, name, content)
    error = raised(UnreadableFile, getattr(artifact, action), name.split(".")[-1], "artifact.cache()")
    assert isinstance(error, ValueError) and isinstance(error, StorageError)
    assert error.__cause__ is not None  # the reader's own error is kept


def test_options_a_reader_does_not_take_are_an_invalid_argument(ln: ModuleType, tmp_path: Path) -> None:
    artifact = _saved(ln, tmp_path, "ok.csv", b"a,b\n1,2\n")
    error = raised(InvalidArgument, lambda: artifact.load(nonsense=3), "nonsense=3")  # type: ignore[attr-defined]
    assert not isinstance(error, TypeError)
    raised(InvalidArgument, lambda: artifact.open(nonsense=3), "nonsense=3")  # type: ignore[attr-defined]
    assert artifact.load().shape == (1, 2)  # type: ignore[attr-defined]


def test_saving_a_notebook_that_is_not_one(
    ln: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella._cli.main import cli
    from lamella._tracking.transfer import save_source

    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "list.ipynb").write_text(json.dumps([1, 2]))
    raised(UnreadableFile, lambda: save_source("broken.ipynb"), "broken.ipynb", "not a Jupyter notebook")
    raised(ValueError, lambda: save_source("list.ipynb"), "list.ipynb")
    raised(FileNotFoundError, lambda: save_source("missing.py"), "missing.py")
    result = CliRunner().invoke(cli, ["save", "broken.ipynb"])
    assert result.exit_code == 1 and "error: " in result.stderr and "Traceback" not in result.output


# ---- arguments of the wrong type -------------------------------------------------------------------


def test_wrong_types_are_invalid_arguments_not_type_errors(
    ln: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "x.txt"
    data.write_text("x")
    calls = {
        "Schema(features=5)": (lambda: ln.Schema(features=5), "features="),
        "Schema(optionals=5)": (lambda: ln.Schema(features=[], optionals=5), "optionals="),
        "QuerySet['a']": (lambda: ln.Artifact.filter()["a"], "'a'"),
        "Artifact(kind=5)": (lambda: ln.Artifact(data, key="x.txt", kind=5), "5"),
        "settings.storage = 5": (lambda: setattr(ln.settings, "storage", 5), "5"),
        "setup.init(storage=5)": (lambda: ln.setup.init(storage=5, name="five"), "5"),
        "settings.cache_dir = 5": (lambda: setattr(ln.settings, "cache_dir", 5), "5"),
        "settings.track_run_inputs = 'x'": (lambda: setattr(ln.settings, "track_run_inputs", "x"), "'x'"),
        "settings.override(nope=1)": (lambda: ln.settings.override(nope=1).__enter__(), "nope"),
        "QuerySet[1:'a']": (lambda: ln.Artifact.filter()[1:"a"], "'a'"),
        "search(field=5)": (lambda: ln.Artifact.search("x", field=5), "field="),
        "order_by(5)": (lambda: ln.Artifact.filter().order_by(5), "5"),
        "to_dataframe(include=5)": (lambda: ln.Artifact.filter().to_dataframe(include=5), "include="),
        "Record(type=5)": (lambda: ln.Record(name="r", type=5), "type="),
        "Collection(5)": (lambda: ln.Collection(5, key="c"), "5"),
        "setup.init(name=5)": (lambda: ln.setup.init(storage=tmp_path / "n", name=5), "5"),
        "setup.init(modules=5)": (lambda: ln.setup.init(storage=tmp_path / "m", modules=5), "modules="),
    }
    for label, (call, text) in calls.items():
        with pytest.raises(InvalidArgument) as info:
            call()
        assert text in str(info.value), label
        assert not isinstance(info.value, TypeError), label
    assert not (tmp_path / "5").exists()  # a number was never taken for a folder name
    assert ln.settings.track_run_inputs is True


def test_a_version_number_beyond_the_uid_is_an_invalid_argument() -> None:
    from lamella._uid import encode_version

    assert encode_version(62) == "0010"
    raised(InvalidArgument, lambda: encode_version(62**4), "14776336")


def test_a_non_datetime_bound_to_a_datetime_column_is_a_validation_error() -> None:
    from sqlalchemy.dialects import sqlite

    from lamella.models.core.columns import UTCDateTime

    column_type = UTCDateTime()
    raised(ValidationError, lambda: column_type.process_bind_param("2020", sqlite.dialect()), "'2020'")


def test_override_restores_the_default_storage(ln: ModuleType, tmp_path: Path) -> None:
    before = ln.settings.storage.root_as_str
    with ln.settings.override(storage=tmp_path / "more"):
        assert ln.settings.storage.root_as_str == str((tmp_path / "more").resolve())
    assert ln.settings.storage.root_as_str == before


# ---- no bare builtin raise in the source -----------------------------------------------------------

# raised on purpose where Python's protocols expect them
ALLOWED = {"NotImplementedError", "KeyboardInterrupt", "StopIteration", "SystemExit", "GeneratorExit"}
PROTOCOL = {"AttributeError": "__getattr__", "IndexError": "__getitem__", "KeyError": "__getitem__"}


def bare_builtin_raises(root: Path = SRC) -> list[str]:
    """`raise X(...)` / `raise X` of a builtin exception class anywhere under `root` (re-raises of a
    caught error, `raise`, and the classes above where they belong, are left alone)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        functions: dict[ast.AST, str] = {}  # node -> name of the innermost function around it
        for node in ast.walk(tree):  # outer functions come first, so inner ones overwrite
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    functions[inner] = node.name
        for node in ast.walk(tree):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if not isinstance(target, ast.Name):
                continue
            builtin = getattr(builtins, target.id, None)
            if not (isinstance(builtin, type) and issubclass(builtin, BaseException)):
                continue
            if target.id in ALLOWED or PROTOCOL.get(target.id) == functions.get(node):
                continue
            found.append(f"{path.relative_to(root.parent).as_posix()}:{node.lineno}: raise {target.id}")
    return found


def test_no_bare_builtin_exception_is_raised_in_the_source() -> None:
    assert bare_builtin_raises() == []


def test_the_scan_finds_a_bare_raise(tmp_path: Path) -> None:
    package = tmp_path / "lamella"
    package.mkdir()
    (package / "__init__.py").write_text(
        "def f(x):\n    raise ValueError(x)\n\n"
        "def __getattr__(name):\n    raise AttributeError(name)\n\n"
        "def g():\n    raise AttributeError('not a protocol here')\n"
    )
    assert bare_builtin_raises(package) == [
        "lamella/__init__.py:2: raise ValueError",
        "lamella/__init__.py:8: raise AttributeError",
    ]


# ---- public classes report lamella as their module -------------------------------------------------


def public_classes() -> dict[str, type]:
    classes = {}
    for name in lamella.__all__:
        value = getattr(lamella, name)
        if isinstance(value, type) and value.__module__.split(".")[0] == "lamella":
            classes[name] = value
    return classes


def test_every_public_class_reports_lamella_as_its_module() -> None:
    classes = public_classes()
    assert {"Artifact", "Record", "Schema", "Q", "QuerySet", "ULabel"} <= set(classes)
    # lamella.UPath wraps universal-pathlib's paths (upath's own classes are left alone)
    assert "UPath" in classes and issubclass(lamella.UPath, upath.UPath)
    for name, cls in classes.items():
        assert cls.__module__ == "lamella", name
        assert cls.__qualname__ == name
        assert getattr(lamella, name) is cls


def test_the_module_is_set_without_the_facade(run_python: object) -> None:
    code = (
        "import sys\n"
        "from lamella.models import Artifact\n"
        "from lamella._query.queryset import QuerySet\n"
        "assert 'Artifact' not in vars(sys.modules['lamella'])\n"
        "print(Artifact.__module__, QuerySet.__module__, str(Artifact))  # repr lists the fields\n"
    )
    result = run_python(code)  # type: ignore[operator]
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["lamella", "lamella", "<class", "'lamella.Artifact'>"]


def test_the_errors_report_lamella_errors_as_their_module() -> None:
    for name in errors.__all__:
        assert getattr(errors, name).__module__ == "lamella.errors", name


def test_records_and_queries_pickle_through_the_public_names(ln: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    pd.DataFrame({"a": [1, 2]}).to_csv(path, index=False)
    artifact = ln.Artifact(path, key="p.csv").save()
    record = ln.Record(name="r1").save()
    ulabel = ln.ULabel(name="u1")  # unsaved
    for original in (artifact, record, ulabel):
        dumped = pickle.dumps(original)
        # recorded as lamella.Artifact, ...: not the module that defines it, which may move
        assert b"lamella.models.artifact.artifact" not in dumped
        assert b"lamella.models.labels.labels" not in dumped
        copy = pickle.loads(dumped)
        assert type(copy) is type(original)
        assert (copy.uid, copy.id) == (original.uid, original.id)
    copy = pickle.loads(pickle.dumps(artifact))
    assert ln.Artifact.get(copy.id).load().shape == (2, 1)
    query = pickle.loads(pickle.dumps(ln.Q(key="p.csv") | ln.Q(key="other")))
    assert ln.Artifact.filter(query).count() == 1
    assert type(ln.Artifact.filter()).__module__ == "lamella"


def test_the_mappers_are_unaffected(ln: ModuleType) -> None:
    from sqlalchemy import inspect

    mapper = inspect(ln.Artifact)
    assert mapper.relationships["storage"].mapper.class_ is ln.Storage
    assert ln.Artifact.__table__.name == "artifact"
    assert repr(ln.ULabel(name="x")).startswith("ULabel(")
    assert "lamella.Artifact" in repr(ln.Artifact)


# ---- verbosity -------------------------------------------------------------------------------------


@pytest.fixture
def lamella_logger() -> Iterator[logging.Logger]:
    """The `lamella` logger, with its level and the settings' verbosity restored afterwards."""
    from lamella._setup.settings import settings

    logger = logging.getLogger("lamella")
    level, name = logger.level, settings._verbosity_name
    yield logger
    logger.setLevel(level)
    settings._verbosity_name = name


@pytest.mark.parametrize(
    ("value", "level", "reads"),
    [
        ("error", logging.ERROR, "error"),
        ("warning", logging.WARNING, "warning"),
        ("success", logging.INFO, "success"),
        ("info", logging.INFO, "info"),
        ("hint", logging.DEBUG, "hint"),
        ("debug", logging.DEBUG, "debug"),
        ("WARNING", logging.WARNING, "warning"),
        (0, logging.ERROR, "error"),
        (1, logging.WARNING, "warning"),
        (3, logging.INFO, "info"),
        (5, logging.DEBUG, "debug"),
        (logging.WARNING, logging.WARNING, "warning"),
        (logging.CRITICAL, logging.CRITICAL, "critical"),
    ],
)
def test_verbosity_sets_the_level_of_the_lamella_logger(
    lamella_logger: logging.Logger, value: object, level: int, reads: str
) -> None:
    lamella.settings.verbosity = value  # type: ignore[assignment]
    assert lamella_logger.level == level
    assert lamella.settings.verbosity == reads


def test_verbosity_reads_a_level_set_on_the_logger_directly(lamella_logger: logging.Logger) -> None:
    lamella.settings.verbosity = "hint"
    lamella_logger.setLevel(logging.WARNING)
    assert lamella.settings.verbosity == "warning"
    lamella_logger.setLevel(25)
    assert lamella.settings.verbosity == "level 25"


@pytest.mark.parametrize("value", ["loud", "", None, True, 6, -1, 15, 2.0, ["info"]])
def test_a_bad_verbosity_names_the_value_and_the_allowed_ones(
    lamella_logger: logging.Logger, value: object
) -> None:
    level = lamella_logger.level

    def set_it() -> None:
        lamella.settings.verbosity = value  # type: ignore[assignment]

    raised(InvalidArgument, set_it, repr(value), "'warning'", "'debug'", "0 (error)")
    assert lamella_logger.level == level


def test_override_sets_the_verbosity_for_a_block(ln: ModuleType, lamella_logger: logging.Logger) -> None:
    ln.settings.verbosity = "hint"
    with ln.settings.override(verbosity="error"):
        assert not lamella_logger.isEnabledFor(logging.WARNING)
        assert ln.settings.verbosity == "error"
        ln.ULabel(name="quiet").save()
    assert ln.settings.verbosity == "hint"
    assert lamella_logger.isEnabledFor(logging.DEBUG)


def test_verbosity_touches_no_other_logger(lamella_logger: logging.Logger) -> None:
    root = logging.getLogger()
    others = {
        name: (lg.level, list(lg.handlers))
        for name, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger) and name != "lamella"
    }
    before = (root.level, list(root.handlers))
    for value in ("error", "debug", 2):
        lamella.settings.verbosity = value  # type: ignore[assignment]
    assert (root.level, list(root.handlers)) == before
    for name, state in others.items():
        lg = logging.getLogger(name)
        assert (lg.level, list(lg.handlers)) == state, name


def test_importing_and_using_lamella_configures_no_logger_but_its_own(run_python: object) -> None:
    # the libraries Lamella uses are imported first: how they set up their own loggers is theirs
    code = (
        "import logging, alembic, pandas, pyarrow, sqlalchemy, sqlalchemy.orm\n"
        "def loggers():\n"
        "    found = {name: (lg.level, list(lg.handlers), lg.propagate, lg.disabled)\n"
        "             for name, lg in logging.Logger.manager.loggerDict.items()\n"
        "             if isinstance(lg, logging.Logger) and name != 'lamella'}\n"
        "    root = logging.getLogger()\n"
        "    return found, (root.level, list(root.handlers)), logging.lastResort\n"
        "before = loggers()\n"
        "import lamella as ln\n"
        "ln.setup.init(storage='data')\n"
        "ln.ULabel(name='x').save()\n"
        "ln.settings.verbosity = 'debug'\n"
        "with ln.settings.override(verbosity='error'):\n"
        "    ln.ULabel(name='y').save()\n"
        "after = loggers()\n"
        "changed = sorted(n for n in before[0] if before[0][n] != after[0].get(n))\n"
        "assert not changed and before[1:] == after[1:], (changed, before[1:], after[1:])\n"
        "own = logging.getLogger('lamella')\n"
        "assert own.propagate is False and len(own.handlers) == 1, own.handlers\n"
        "print('ok')\n"
    )
    result = run_python(code)  # type: ignore[operator]
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "ok"


def test_the_feature_module_logs_through_the_lamella_logger() -> None:
    from lamella import _logging
    from lamella.models.features import definitions

    assert definitions.logger is _logging.logger
    source = "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))
    assert "basicConfig" not in source
    assert source.count("getLogger(") == 1  # lamella/_logging.py, for the lamella logger only
