"""The SQL statements a call sends to the connected instance's database, for tests of query shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from lamella._instance import state


def statements_of(call: Callable[[], Any]) -> list[str]:
    """Every statement `call` runs, in order."""
    engine = state.current().db.engine
    seen: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return seen
