"""Database engine and sessions; Alembic owns the schema."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


class DatabaseNotMigrated(RuntimeError):
    pass


def normalise_url(url: str) -> str:
    """Let operators write `postgresql://`; we drive it with psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the worker writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


_AFTER_COMMIT = "hotline_after_commit"
_LISTENING = "hotline_after_commit_listening"


def after_commit(session: Session, work: Callable[[], None]) -> None:
    """Run `work` once this session's transaction has committed (never if it rolls back):
    jobs are enqueued only for rows that exist, so a worker never looks for a missing one."""
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _run_after_commit)
        event.listen(session, "after_rollback", _drop_after_commit)
    session.info.setdefault(_AFTER_COMMIT, []).append(work)


def _run_after_commit(session: Session) -> None:
    for work in session.info.pop(_AFTER_COMMIT, []):
        try:
            work()
        except Exception:
            # The rows are committed; the sweeper jobs pick up what could not be enqueued.
            log.exception("work after commit failed")


def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


@lru_cache(maxsize=1)
def code_head() -> str | None:
    """The newest migration the code has. Read once per process: finding it parses every
    migration file, and the files do not change under a running process."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def check_migrated(engine: Engine) -> None:
    """Refuse to serve on a schema that is not at the newest migration."""
    head = code_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise DatabaseNotMigrated(
            f"database is at migration {current or 'none'}, the code needs {head}: "
            "run `hotline migrate` (or `make run`, which migrates itself)"
        )
