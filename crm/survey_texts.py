"""The survey's texts per language, read from crm/texts/survey.<language>.yaml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

TEXTS_DIR = Path(__file__).resolve().parent / "texts"
DEFAULT_LANGUAGE = "zh"
KEYS = frozenset(
    {
        "question",
        "thanks",
        "thanks_low",
        "ask_again",
        "close_unclear",
        "already_answered",
        "no_open_survey",
        "opted_out",
        "opted_in",
    }
)


class SurveyTextsError(ValueError):
    pass


@lru_cache(maxsize=8)
def texts_for(language: str) -> dict[str, str]:
    """Every text of one language; an unknown language falls back to Mandarin."""
    path = TEXTS_DIR / f"survey.{language}.yaml"
    if not path.is_file():
        path = TEXTS_DIR / f"survey.{DEFAULT_LANGUAGE}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or set(data) != KEYS:
        raise SurveyTextsError(f"{path}: expected exactly the keys {sorted(KEYS)}")
    if not all(isinstance(value, str) and value for value in data.values()):
        raise SurveyTextsError(f"{path}: every text must be a non-empty string")
    return {str(key): str(value) for key, value in data.items()}


def text(language: str, key: str, *, case: str = "") -> str:
    return texts_for(language)[key].format(case=case)
