"""The `hotline` command, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session

from crm import service as crm
from hotline.db import make_engine


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_then_demo_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"HOTLINE_DATABASE_URL": url}
    assert run(["migrate"], env).returncode == 0
    loaded = run(["demo-data"], env)
    assert loaded.returncode == 0, loaded.stderr
    assert "demo data loaded" in loaded.stdout
    engine = make_engine(url)
    with Session(engine) as session:
        assert crm.count_customers(session=session) > 0
    engine.dispose()


def test_help_lists_the_commands() -> None:
    result = run(["--help"], {})
    assert result.returncode == 0
    for command in ("serve", "api", "worker", "migrate", "demo-data"):
        assert command in result.stdout
