"""`ln.settings`: record creation (`creation`), git sync (`sync_git_repo`), run inputs
(`track_run_inputs`) and LaminDB 0.x's `ln.settings.transform`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from lamella._logging import logger
from lamella._query.legacy_lookups import LegacyAPIWarning
from lamella.errors import InvalidArgument

MISSING_RUN = "no run & transform got linked"


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The "lamella" logger does not propagate to the root logger; hand its records to caplog."""
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="lamella")
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"a": range(n)})


# ---- creation ---------------------------------------------------------------------------------------


def test_creation_settings_have_laminDBs_fields_and_defaults(ln: ModuleType) -> None:
    creation = ln.settings.creation
    assert creation.search_names is True
    assert creation.artifact_silence_missing_run_warning is False
    assert creation.artifact_skip_size_hash is False
    assert "search_names=True" in repr(creation) and "creation=" in repr(ln.settings)
    with pytest.raises(InvalidArgument, match="True or False"):
        creation.search_names = "no"
    with pytest.raises(InvalidArgument, match="search_names"):
        creation.serach_names = False
    creation.search_names = False
    assert ln.settings.creation.search_names is False


def test_search_names_off_skips_the_lookup_at_construction_not_at_save(ln: ModuleType) -> None:
    saved = ln.ULabel(name="tumor").save()
    assert ln.ULabel(name="tumor").id == saved.id  # the default: construction finds the saved record
    ln.settings.creation.search_names = False
    fresh = ln.ULabel(name="tumor")
    assert fresh.id is None  # no query at construction
    assert fresh.save().id == saved.id  # still no duplicate
    ln.save([ln.ULabel(name="tumor"), ln.ULabel(name="normal")])
    assert sorted(ln.ULabel.filter().to_list("name")) == ["normal", "tumor"]


def test_an_artifact_outside_a_run_warns_once_unless_silenced(
    ln: ModuleType, log: pytest.LogCaptureFixture
) -> None:
    ln.Artifact.from_dataframe(frame(1), key="a.parquet").save()
    ln.Artifact.from_dataframe(frame(2), key="b.parquet").save()
    warnings = [r for r in log.records if MISSING_RUN in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "ln.track()" in warnings[0].getMessage()
    log.clear()
    ln.track(ln.Transform(key="p", kind="pipeline"))
    ln.Artifact.from_dataframe(frame(3), key="c.parquet").save()  # inside a run: no warning
    ln.finish()
    assert not [r for r in log.records if MISSING_RUN in r.getMessage()]


def test_the_missing_run_warning_can_be_silenced(ln: ModuleType, log: pytest.LogCaptureFixture) -> None:
    ln.settings.creation.artifact_silence_missing_run_warning = True
    ln.Artifact.from_dataframe(frame(1), key="a.parquet").save()
    assert not [r for r in log.records if MISSING_RUN in r.getMessage()]


def test_creation_settings_are_forgotten_with_the_process_state(ln: ModuleType) -> None:
    from lamella._instance import state

    ln.settings.creation.search_names = False
    state.process.reset()
    assert ln.settings.creation.search_names is True


# ---- sync_git_repo, track_run_inputs -----------------------------------------------------------------


def test_sync_git_repo_is_a_url_set_or_from_the_environment(
    ln: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ln.settings.sync_git_repo is None
    monkeypatch.setenv("LAMELLA_SYNC_GIT_REPO", "https://github.com/org/analyses/")
    assert ln.settings.sync_git_repo == "https://github.com/org/analyses"
    ln.settings.sync_git_repo = "https://github.com/org/other"
    assert ln.settings.sync_git_repo == "https://github.com/org/other"
    with ln.settings.override(sync_git_repo="https://example.org/x.git"):
        assert ln.settings.sync_git_repo == "https://example.org/x.git"
    assert ln.settings.sync_git_repo == "https://github.com/org/other"
    for bad in ("", "  ", 42):
        with pytest.raises(InvalidArgument, match="git repository URL"):
            ln.settings.sync_git_repo = bad
    monkeypatch.delenv("LAMELLA_SYNC_GIT_REPO")
    ln.settings.sync_git_repo = None
    assert ln.settings.sync_git_repo is None


def test_track_run_inputs_is_a_setting(ln: ModuleType) -> None:
    assert ln.settings.track_run_inputs is True
    with ln.settings.override(track_run_inputs=False):
        assert ln.settings.track_run_inputs is False
    assert ln.settings.track_run_inputs is True


# ---- ln.settings.transform (LaminDB 0.x) -----------------------------------------------------------


def test_old_transform_settings_warn_with_todays_spelling(ln: ModuleType) -> None:
    with pytest.warns(
        LegacyAPIWarning,
        match=r"ln\.settings\.transform\.stem_uid = \.\.\. is deprecated; use ln\.track\('<stem uid>'\)",
    ):
        ln.settings.transform.stem_uid = "FPnfDtJz8qbE"
    with pytest.warns(LegacyAPIWarning, match=r"ln\.settings\.transform\.version = \.\.\. is deprecated"):
        ln.settings.transform.version = 1
    with pytest.warns(LegacyAPIWarning) as caught:
        assert ln.settings.transform.stem_uid == "FPnfDtJz8qbE"
        assert ln.settings.transform.version == "1"
    assert len(caught) == 2 and Path(caught[0].filename).name == "test_settings.py"  # the user's line
    with pytest.warns(LegacyAPIWarning, match="description"):
        ln.settings.transform.name = "My analysis"
    with pytest.warns(LegacyAPIWarning), pytest.raises(InvalidArgument, match="12 letters"):
        ln.settings.transform.stem_uid = "short"
    with pytest.warns(LegacyAPIWarning), pytest.raises(InvalidArgument, match="version"):
        ln.settings.transform.version = 1.5
    assert "FPnfDtJz8qbE" in repr(ln.settings.transform)
