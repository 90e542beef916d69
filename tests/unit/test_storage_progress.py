from __future__ import annotations

import io

import pytest

from lamella._storage import progress_bar
from lamella._storage.progress import progress_for, progress_wanted


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMELLA_NO_PROGRESS", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress_wanted() is False
    with progress_bar(100, "copying") as advance:
        advance(50)
        advance(50)


def test_env_switch_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", FakeTerminal())
    monkeypatch.delenv("LAMELLA_NO_PROGRESS", raising=False)
    assert progress_wanted() is True
    monkeypatch.setenv("LAMELLA_NO_PROGRESS", "1")
    assert progress_wanted() is False
    assert progress_wanted(True) is False


def test_forced_bar_renders_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMELLA_NO_PROGRESS", raising=False)
    with progress_for(1000, "uploading", enabled=True) as advance:
        for _ in range(10):
            advance(100)
    with progress_for(3, "files", unit="file", enabled=True) as advance:
        advance(3)
