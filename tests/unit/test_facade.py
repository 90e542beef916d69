"""The public facade: `lamella.__all__`, old spellings that keep working, and the exception tree."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest

import lamella
from lamella import errors

# ---- __all__ ----------------------------------------------------------------------------------------


def test_all_is_sorted_and_unique() -> None:
    assert list(lamella.__all__) == sorted(lamella.__all__)
    assert len(set(lamella.__all__)) == len(lamella.__all__)


def test_all_names_the_documented_api() -> None:
    expected = {
        "Artifact", "Collection", "Feature", "Project", "Q", "QuerySet", "Record", "Reference", "Run",
        "Schema", "Storage", "Transform", "ULabel", "User", "connect", "context", "curators", "errors", "examples",
        "finish", "save", "settings", "setup", "track", "view", "__version__",
    }  # fmt: skip
    missing = expected - set(lamella.__all__)
    assert not missing, missing


@pytest.mark.parametrize("name", lamella.__all__)
def test_every_name_in_all_resolves(name: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = getattr(lamella, name)
    assert value is not None
    # public names are not deprecated ones (warnings of third-party imports do not count)
    assert [w for w in caught if issubclass(w.category, DeprecationWarning) and "ln." in str(w.message)] == []
    assert name in dir(lamella)


def test_registries_are_classes_with_query_methods() -> None:
    for name in ("Artifact", "Collection", "Feature", "Project", "Record", "Reference", "Run", "Schema",
                 "Storage", "Transform", "ULabel", "User"):  # fmt: skip
        registry = getattr(lamella, name)
        assert isinstance(registry, type), name
        for method in ("filter", "get", "exclude", "search", "lookup", "to_dataframe", "df"):
            assert callable(getattr(registry, method)), (name, method)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        lamella.no_such_thing  # noqa: B018
    assert not hasattr(lamella, "Artefact")


def test_version_is_a_string() -> None:
    assert re.match(r"^\d+\.\d+", lamella.__version__)


# ---- deprecated spellings -------------------------------------------------------------------------


def test_featureset_is_schema() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert lamella.FeatureSet is lamella.Schema


def test_featureset_warns_with_the_new_spelling() -> None:
    # ARCHITECTURE.md: deprecated names keep working through a module __getattr__ that warns
    with pytest.warns(DeprecationWarning, match="Schema"):
        lamella.FeatureSet  # noqa: B018


@pytest.mark.parametrize("old", ["core", "dev"])
def test_old_datasets_namespaces_point_at_examples(old: str) -> None:
    namespace = getattr(lamella, old)
    with pytest.warns(
        DeprecationWarning, match=rf"ln\.{old}\.datasets is deprecated; use ln\.examples\.datasets"
    ):
        assert namespace.datasets is lamella.examples.datasets
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        frame = namespace.datasets.small_dataset1()
    assert frame.shape[0] == 3


def test_deprecated_names_are_not_in_all_but_in_dir() -> None:
    for old in ("FeatureSet", "core", "dev", "schema", "File", "Dataset"):
        assert old not in lamella.__all__
        assert old in dir(lamella)


def test_old_method_spellings_exist() -> None:
    assert "from_dataframe" in lamella.Artifact.from_df.__doc__  # warns when called: test_legacy.py
    assert callable(lamella.Artifact.df) and callable(lamella.QuerySet.df)


# ---- the exception tree ---------------------------------------------------------------------------

TREE = {
    "ValidationError": ValueError,
    "InvalidArgument": ValueError,
    "OutOfRange": IndexError,
    "DoesNotExist": LookupError,
    "MultipleResultsFound": LookupError,
    "IntegrityError": None,
    "StorageError": OSError,
    "PathNotFound": FileNotFoundError,
    "PathIsAFolder": IsADirectoryError,
    "PathNotAFolder": NotADirectoryError,
    "UnreadableFile": ValueError,
    "ReadOnlyError": PermissionError,
    "NotConnected": RuntimeError,
}


def test_errors_namespace_is_the_module() -> None:
    assert lamella.errors is errors
    assert set(errors.__all__) == {"LamellaError", *TREE}


@pytest.mark.parametrize(("name", "builtin"), TREE.items())
def test_error_tree(name: str, builtin: type[Exception] | None) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, errors.LamellaError)
    assert issubclass(cls, Exception)
    if builtin is not None:
        assert issubclass(cls, builtin)
        with pytest.raises(builtin):
            raise cls("x")
    with pytest.raises(errors.LamellaError):
        raise cls("x")


def test_errors_do_not_share_unrelated_bases() -> None:
    assert not issubclass(errors.IntegrityError, ValueError | LookupError | OSError | RuntimeError)
    assert not issubclass(errors.InvalidArgument, LookupError)
    assert not issubclass(errors.DoesNotExist, ValueError)
    assert not issubclass(errors.StorageError, ValueError)
    assert errors.LamellaError.__bases__ == (Exception,)


def test_error_tree_in_the_docstring_matches_the_classes() -> None:
    lines = re.findall(r"[├└]── (\w+)(?:\((\w+)\))?", errors.__doc__ or "")
    assert {name for name, _ in lines} == set(TREE)
    for name, base in lines:
        expected = TREE[name]
        assert (expected.__name__ if expected else "") == base, name


def test_a_query_on_sqlite_loads_nothing_of_postgresql(run_python: Any) -> None:
    created = run_python("import lamella as ln\nln.setup.init(storage='./data')\n")
    assert created.returncode == 0, created.stderr
    code = (
        "import sys, lamella as ln\n"  # a new process: the first query imports the registries
        "ln.Artifact.filter(key__startswith='x/', suffix='.parquet').count()\n"
        "ln.ULabel.filter(name='a').to_dataframe()\n"
        "print(sorted(m for m in sys.modules if 'postgresql' in m))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
