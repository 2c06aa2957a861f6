from __future__ import annotations

from pathlib import Path

import pytest

from hotline.settings import Settings


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The suite's settings with the audio in a fresh directory and retries without waiting."""
    return settings.model_copy(
        update={
            "recordings_dir": tmp_path / "recordings",
            "recordings_download_retry_seconds": [0, 0, 0],
        }
    )
