from __future__ import annotations

from pathlib import Path

import pytest

from hotline.settings import Settings
from ivr.menu import load_menu
from ivr.speech import digits_in, match_choice, normalise

MAIN = load_menu(Path(Settings().ivr_menu_path)).nodes["main"]


@pytest.mark.parametrize(
    ("speech", "key"),
    [
        ("我的信用卡丢了，我要挂失", "1"),  # "lost" wins over the longer sentence's "credit card"
        ("信用卡", "2"),
        ("ＥＮＧＬＩＳＨ", "9"),
        ("Complaint.", "5"),
        ("five", "5"),
        ("五", "5"),
        ("I'd like to check my case status", "6"),
        ("嗯……", None),
        ("", None),
    ],
)
def test_speech_matches_a_choice(speech: str, key: str | None) -> None:
    choice = match_choice(MAIN, digits="", speech=speech, language="zh")
    assert (choice.key if choice else None) == key


def test_keys_win_over_speech_and_only_the_first_counts() -> None:
    choice = match_choice(MAIN, digits="31", speech="投诉", language="zh")
    assert choice is not None and choice.key == "3"


def test_unknown_key_matches_nothing() -> None:
    assert match_choice(MAIN, digits="7", speech="", language="zh") is None


def test_digits_and_normalising() -> None:
    assert digits_in("２０２６-11 28 0001") == "202611280001"
    assert normalise(" Lost, CARD! ") == "lostcard"
