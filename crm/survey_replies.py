"""Understanding a survey reply: a score 1-5, an opt-out or opt-in, or something unclear.

Customers answer "5", "５", "五", "5分", "非常满意", "very satisfied"... A table, not rules,
so that a new phrasing is one line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class ReplyKind(StrEnum):
    score = "score"
    opt_out = "opt_out"
    opt_in = "opt_in"
    unclear = "unclear"


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    score: int | None = None


OPT_OUT_WORDS = frozenset(
    {"td", "退订", "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "取消订阅"}
)
OPT_IN_WORDS = frozenset({"start", "unstop", "yes", "订阅", "重新订阅"})

# Whole replies (after normalising) that mean a score. Longer phrases first is not needed:
# the whole reply must match.
SCORE_WORDS: dict[str, int] = {
    "非常满意": 5,
    "很满意": 5,
    "十分满意": 5,
    "满意": 4,
    "比较满意": 4,
    "还行": 3,
    "一般": 3,
    "不太满意": 2,
    "不满意": 2,
    "很不满意": 1,
    "非常不满意": 1,
    "very satisfied": 5,
    "extremely satisfied": 5,
    "excellent": 5,
    "satisfied": 4,
    "good": 4,
    "ok": 3,
    "okay": 3,
    "neutral": 3,
    "average": 3,
    "dissatisfied": 2,
    "unsatisfied": 2,
    "not satisfied": 2,
    "poor": 2,
    "very dissatisfied": 1,
    "very unsatisfied": 1,
    "terrible": 1,
}
CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
# "5", "五", "5分", "五分", "5星", "5/5", "5 points", "score 5"...
_NUMBER = re.compile(
    r"^(?:score\s*|rating\s*|打分\s*|评分\s*)?"
    r"(?P<n>[0-9一二两三四五])\s*(?:分|星|颗星|/\s*5|points?|stars?|out of 5)?$"
)
_TRIM = " \t\r\n.,!?;:'\"。，！？；：、…~～"


def normalise(body: str) -> str:
    """Full-width to ASCII (NFKC: "５" -> "5"), lower case, outer punctuation and spaces off."""
    text = unicodedata.normalize("NFKC", body).lower().strip(_TRIM)
    return re.sub(r"\s+", " ", text)


def parse_reply(body: str, *, opt_out_type: str | None = None) -> Reply:
    """What a text means for the survey; never raises."""
    kind = (opt_out_type or "").strip().upper()
    if kind == "STOP":
        return Reply(ReplyKind.opt_out)
    if kind == "START":
        return Reply(ReplyKind.opt_in)
    text = normalise(body)
    if text in OPT_OUT_WORDS:
        return Reply(ReplyKind.opt_out)
    if text in OPT_IN_WORDS:
        return Reply(ReplyKind.opt_in)
    if text in SCORE_WORDS:
        return Reply(ReplyKind.score, SCORE_WORDS[text])
    match = _NUMBER.match(text)
    if match:
        digit = match["n"]
        value = CHINESE_DIGITS.get(digit) or int(digit)
        if 1 <= value <= 5:
            return Reply(ReplyKind.score, value)
    return Reply(ReplyKind.unclear)
