"""Work queued on a session runs after its commit, and never after a rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from hotline.db import after_commit, session_scope


def test_work_runs_after_the_commit_once(engine: Engine) -> None:
    ran: list[str] = []
    with session_scope(engine) as session:
        after_commit(session, lambda: ran.append("enqueued"))
        assert ran == []
    assert ran == ["enqueued"]


def test_work_is_dropped_when_the_transaction_rolls_back(engine: Engine) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        after_commit(session, lambda: ran.append("enqueued"))
        raise RuntimeError("the request failed")
    assert ran == []


def test_a_failing_piece_of_work_does_not_stop_the_others(engine: Engine) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise ConnectionError("Redis is away")

    with session_scope(engine) as session:
        after_commit(session, broken)
        after_commit(session, lambda: ran.append("second"))
    assert ran == ["second"]
